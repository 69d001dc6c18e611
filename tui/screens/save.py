"""The save dialog: a file name in the checkpoint folder."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from seqlm_tui.tui.widgets.ordered import OrderedInput


class SaveScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, default: str, folder: str) -> None:
        super().__init__()
        self.default, self.folder = default, folder

    def compose(self) -> ComposeResult:
        with Vertical(id="save-dialog"):
            yield Label(f"Save a checkpoint in {self.folder}", markup=False)
            yield OrderedInput(self.default, id="save-name")
            yield Label("Enter saves, Escape cancels. An existing file of that name is replaced atomically.",
                        classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        self.dismiss(name or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
