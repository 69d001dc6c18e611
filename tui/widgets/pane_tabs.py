"""TabbedContent that follows the keyboard, however fast the keys come."""

from __future__ import annotations

from textual.widgets import TabbedContent, TabPane


class PaneTabs(TabbedContent):
    """A widget focused inside a pane makes TabbedContent show that pane, but it learns of the focus two
    turns of the message queue later. A pane key typed right behind another (F7 then F3, pasted or over
    SSH) acted in between, and the late news of the first pane's focus then switched back to it. Only
    a focus that is still inside the pane moves the tabs."""

    def on_tab_pane_focused(self, event: TabPane.Focused) -> None:
        focused = self.screen.focused
        if focused is None or event.tab_pane not in focused.ancestors:
            event.prevent_default()  # stale: TabbedContent's own handler would switch back
