"""An Input that remembers what was submitted (up/down walk the history)."""

from __future__ import annotations

from textual.binding import Binding

from seqlm_tui.tui.widgets.ordered import OrderedInput


class HistoryInput(OrderedInput):
    """Enter, up and down run in the order they were typed (``OrderedInput``): typed-ahead characters (a fast
    typist, a paste, tmux send-keys) never land in the line being submitted."""

    BINDINGS = [Binding("up", "older", "Older", show=False), Binding("down", "newer", "Newer", show=False)]

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.history: list[str] = []
        self._pos = 0

    async def action_submit(self) -> None:
        line = self.value
        self.remember(line)
        self.value = ""
        self.post_message(self.Submitted(self, line))

    def remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._pos = len(self.history)

    def action_older(self) -> None:
        if self._pos > 0:
            self._pos -= 1
            self.value = self.history[self._pos]
            self.cursor_position = len(self.value)

    def action_newer(self) -> None:
        if self._pos < len(self.history) - 1:
            self._pos += 1
            self.value = self.history[self._pos]
        else:
            self._pos = len(self.history)
            self.value = ""
        self.cursor_position = len(self.value)
