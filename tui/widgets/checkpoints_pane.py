"""Checkpoints: a browser of the checkpoint folder; Enter loads the highlighted one."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from core import checkpoint


class CheckpointTable(DataTable):
    """The table, with Enter shown in the Footer as what it does here."""

    BINDINGS = [Binding("enter", "select_cursor", "Load"), Binding("r", "reload", "Refresh")]

    def action_reload(self) -> None:
        self.post_message(CheckpointsPane.Reload())


class CheckpointsPane(Vertical):
    class Reload(Message):
        """Read the folder again."""

    class Load(Message):
        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    def compose(self) -> ComposeResult:
        yield Static("", id="ckpt-folder")
        yield CheckpointTable(id="ckpt-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("name", "dataset", "model", "step", "dev loss", "saved")
        self.refresh_list()

    def refresh_list(self) -> None:
        folder = checkpoint.default_dir()
        self.infos = checkpoint.browse(folder)
        table = self.query_one(DataTable)
        table.clear()
        for info in self.infos:
            when = ""
            try:
                when = datetime.fromtimestamp(info.path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
            except OSError:
                pass
            if info.error:
                table.add_row(Text(info.path.name), Text("unreadable", style="red"), "", "", "", when,
                              key=str(info.path))
                continue
            dev = f"{info.dev_loss:.4f}" if info.dev_loss is not None else "-"
            table.add_row(Text(info.path.name), Text(info.dataset), Text(info.model), f"{info.step:,}", dev, when,
                          key=str(info.path))
        n = len(self.infos)
        self.query_one("#ckpt-folder", Static).update(Text(
            f"{folder.resolve()}: {n} checkpoint{'s' if n != 1 else ''}. "
            + ("Enter loads the highlighted one (weights, Setup and chart); " if n else "")
            + "ctrl+s saves the current run."))

    def on_checkpoints_pane_reload(self, event: Reload) -> None:
        event.stop()
        self.refresh_list()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.post_message(self.Load(Path(event.row_key.value)))
