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

    def __init__(self, what: str, can_save: bool, kept: bool = False) -> None:
        """``kept``: quitting keeps the run anyway (a room's session keeps it as its last run)."""
        super().__init__()
        self.what, self.can_save, self.kept = what, can_save, kept

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-dialog"):
            after = ("Quit now and this session keeps the run as its last run: it is back when you open the "
                     "session again." if self.kept else "Quit now and it is gone.")
            yield Label(f"{self.what} {after}", markup=False)
            if self.can_save:
                yield Label("s  save the run to the checkpoint folder, then quit", markup=False)
            yield Label("q  quit (the run is kept as the last run)" if self.kept else "q  quit without saving",
                        markup=False)
            yield Label("escape  go back", markup=False, classes="hint")

    def action_choose(self, choice: str) -> None:
        if choice == "save" and not self.can_save:
            return
        self.dismiss(choice)
