"""The command line that does what the app is set up to do, to copy into a shell or a script."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class CommandScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    CommandScreen { align: center middle; }
    #command-dialog {
        width: 90; max-width: 95%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    #command-text { margin: 1 0; text-style: bold; }
    """
    BINDINGS = [Binding("escape,enter", "close", "Close")]

    def __init__(self, title: str, command: str) -> None:
        super().__init__()
        self.title_text, self.command = title, command

    def compose(self) -> ComposeResult:
        with Vertical(id="command-dialog"):
            yield Label(self.title_text, markup=False)
            yield Static(Text(self.command), id="command-text")
            yield Label("Copied to the clipboard where the terminal allows it (OSC 52); else select it with the "
                        "mouse (shift+drag in most terminals). Enter or Escape closes.", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
