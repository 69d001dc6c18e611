"""How the app fits the terminal it is given. 80x24 is the size it is laid out for; 60x20 is the smallest
it supports, where every pane still shows all it has; below that one line says the size it needs (keys
still work, and the screen comes back as soon as the terminal is large enough).

- under 80 columns the tab labels drop their F-keys, so all seven fit (with them they take 79), and the
  footer its palette hint (ctrl+p still opens it; the help says so);
- under 72 columns the Train pane's status gets a third line;
- under 24 rows the header goes (it repeats the title) and the Train pane's samples take two lines at
  most, which leaves the loss chart room for its ticks and legend.
"""

from __future__ import annotations

from textual.app import App
from textual.geometry import Size
from textual.widgets import Static, TabbedContent

from seqlm_tui.tui.widgets.key_footer import KeyFooter

MIN_WIDTH, MIN_HEIGHT = 60, 20
WIDE = 72  # columns from which the Train status fits two lines
LABELLED = 80  # columns from which the tab labels name their F-keys and the footer shows the palette hint
TALL = 24  # rows from which the header is shown


def too_small(size: Size) -> bool:
    return size.width < MIN_WIDTH or size.height < MIN_HEIGHT


def notice(size: Size) -> str:
    """One line (it fits 40 columns) saying what the app needs."""
    long = f"seqlm-tui needs at least {MIN_WIDTH}x{MIN_HEIGHT} (this terminal is {size.width}x{size.height})."
    return long if len(long) <= size.width else f"Needs {MIN_WIDTH}x{MIN_HEIGHT} (now {size.width}x{size.height})."


def fit(app: App, size: Size, panes) -> None:
    """Adapt the layout to ``size`` (called on every resize)."""
    small = too_small(size)
    app.set_class(small, "-too-small")
    app.set_class(size.height < TALL, "-short")
    app.query_one("#too-small", Static).update(notice(size) if small else "")
    app.set_class(size.width < WIDE, "-narrow")
    labelled = size.width >= LABELLED
    tabs = app.query_one("#tabs", TabbedContent)
    for pid, name, key in panes:
        tabs.get_tab(pid).label = f"{name} {key}" if labelled else name
    app.query_one(KeyFooter).show_command_palette = labelled
