"""Where the keyboard focus goes when a pane is shown, so that the keys typed next reach that pane."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Tabs


def let_go_outside(app: App, pane) -> None:
    """Drop the focus if it is on a widget outside ``pane``: a text box left behind in a hidden pane would
    swallow s, w, l..., and the Insight views' tab bar, left behind, would bring its pane back."""
    focused = app.focused
    tab_bar = isinstance(focused, Tabs) and focused.parent is app.query_one("#tabs")
    if focused is not None and pane not in focused.ancestors and not tab_bar:
        app.set_focus(None)


def follow(app: App, pane) -> None:
    """The pane is shown (announced once per switch, however it was made)."""
    if pane.id == "checkpoints":
        app.checkpoints.refresh_list()
    focus_pane(app, pane)
    app.refresh_bindings()


def focus_pane(app: App, pane) -> None:
    let_go_outside(app, pane)
    target = None
    if pane.id == "prompt":
        target = app.query_one("#prompt-input")
    elif pane.id == "checkpoints":
        target = app.query_one("#ckpt-table")
    elif pane.id == "insight":
        target = app.query_one("#insight-tabs").query_one(Tabs)  # left/right walk the views
    else:  # a pane may name the widget that takes its keys (Learn: the list of lessons, or the lesson)
        target = next((c.focus_target() for c in pane.children if hasattr(c, "focus_target")), None)
    if target is not None and app.focused is not target:
        # At once (Widget.focus waits for a later turn of the queue, behind keys already typed).
        app.screen.set_focus(target)
