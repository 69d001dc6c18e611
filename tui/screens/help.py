"""Help: every binding and every prompt command."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from seqlm_tui.tui.panes.prompt import COMMANDS


def _table(rows: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, style="bold")
    table.add_column(ratio=1)  # descriptions wrap under themselves, not under the keys
    for key, what in rows:
        table.add_row(Text(key), Text(what))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q,question_mark", "dismiss", "Close")]

    def __init__(self, bindings: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = bindings

    def compose(self) -> ComposeResult:
        body = Group(
            Text("seqlm-tui: train small language models and talk to them.\n"),
            Text("Keys", style="bold underline"),
            _table(self.rows),
            Text("\nPrompt pane commands", style="bold underline"),
            _table(COMMANDS),
            Text("\nEnter on an empty line continues from the current state; Escape stops a continuation.\n"
                 "ctrl+p opens the command palette (every action, and the presets). Escape closes this help."),
        )
        with VerticalScroll(id="help-dialog"):
            yield Static(body, id="help-body")

    def body_text(self) -> str:
        """The help as plain text (tests)."""
        from io import StringIO

        from rich.console import Console

        out = StringIO()
        Console(file=out, width=100, color_system=None).print(self.query_one("#help-body", Static).content)
        return out.getvalue()
