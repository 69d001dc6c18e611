"""The app's notifications, on a line of their own above the footer instead of toasts over the work.

A toast covers what lies under it (the samples, the sweep's suggestion, the prompt box); this line takes
a row of the layout, so nothing is hidden, and each message expires after its timeout. It is not docked:
two widgets docked to the same edge overlap, and the footer hid a one-line message entirely. Severity is said
in words too ("error:"), not only in colour, for NO_COLOR and monochrome terminals.
"""

from __future__ import annotations

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

PREFIX = {"information": "", "warning": "warning: ", "error": "error: "}


class MessageBar(Static):
    DEFAULT_CSS = """
    MessageBar {
        height: auto;
        max-height: 3;
        padding: 0 1;
        display: none;
    }
    MessageBar.-error { text-style: bold; color: $text-error; }
    MessageBar.-warning { color: $text-warning; }
    """

    def __init__(self, **kw) -> None:
        super().__init__("", markup=False, **kw)
        self._timer: Timer | None = None
        self.message = ""
        self.severity = "information"
        self.said: list[tuple[str, str]] = []  # (severity, text) of the latest messages, newest last

    def show(self, message: str, severity: str = "information", timeout: float = 6.0, markup: bool = False) -> None:
        text = Text.from_markup(message) if markup else Text(message)
        self.message, self.severity = text.plain, severity
        self.said = [*self.said[-49:], (severity, text.plain)]
        body = Text(PREFIX.get(severity, ""), style="bold")
        body.append_text(text)
        self.update(body)
        for s in PREFIX:
            self.set_class(s == severity, f"-{s}")
        self.display = True
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(max(timeout, 0.5), self.clear)

    def clear(self) -> None:
        self._timer = None
        self.message = ""
        self.display = False
