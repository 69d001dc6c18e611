"""Help: every binding and every prompt command."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.widgets.prompt_pane import HELP


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def __init__(self, bindings: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = bindings

    def compose(self) -> ComposeResult:
        keys = "\n".join(f"  {k:<12} {d}" for k, d in self.rows)
        body = (f"seqlm-tui: train small language models and talk to them.\n\nkeys:\n{keys}\n\n"
                f"prompt pane {HELP}\n\nctrl+p opens the command palette. Escape closes this help.")
        with VerticalScroll(id="help-dialog"):
            yield Static(Text(body))
