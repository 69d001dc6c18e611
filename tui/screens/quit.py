"""Asked before quitting while something runs: save the run, quit anyway, or stay."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label


class QuitScreen(ModalScreen[str]):
    """Dismissed with "save", "quit" or "stay"."""

    BINDINGS = [Binding("s", "choose('save')", "Save and quit"), Binding("q,ctrl+q", "choose('quit')", "Quit"),
                Binding("escape,c", "choose('stay')", "Cancel")]

    def __init__(self, what: str, can_save: bool) -> None:
        super().__init__()
        self.what, self.can_save = what, can_save

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-dialog"):
            yield Label(f"{self.what} Quit now and it is gone.", markup=False)
            if self.can_save:
                yield Label("s  save the run to the checkpoint folder, then quit", markup=False)
            yield Label("q  quit without saving", markup=False)
            yield Label("escape  go back", markup=False, classes="hint")

    def action_choose(self, choice: str) -> None:
        if choice == "save" and not self.can_save:
            return
        self.dismiss(choice)
