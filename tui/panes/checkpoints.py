"""Checkpoints: a browser of the checkpoint folder; Enter loads the highlighted one.

The folder is read by a worker, from each file's card (no weights are read), and only files that are new
or changed since the last look are read at all; the table then changes only in the rows that did.
Loading a checkpoint (``torch.load``, building its model) is a worker too.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from seqlm_tui.core import checkpoint
from seqlm_tui.tui import session
from seqlm_tui.tui.jobs import ReportsJobs
from seqlm_tui.tui.messages import CheckpointLoaded, CheckpointRows

COLUMNS = ("name", "dataset", "model", "step", "dev loss", "kept", "saved")


class CheckpointTable(DataTable):
    """The table, with Enter shown in the Footer as what it does here."""

    BINDINGS = [Binding("enter", "select_cursor", "Load"), Binding("r", "reload", "Refresh")]

    def action_reload(self) -> None:
        self.post_message(CheckpointsPane.Reload())


def _stamp(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _cells(info: checkpoint.CheckpointInfo, when: str, own: Path) -> tuple:
    # A file of another folder (a room's shared one) is named with its folder: it is loaded, never written.
    name = Text(info.path.name if info.path.parent == own else f"{info.path.parent.name}/{info.path.name}")
    if info.error:
        return (name, Text("unreadable", style="bold"), "", "", "", "", when)
    dev = f"{info.dev_loss:.4f}" if info.dev_loss is not None else "-"
    return (name, Text(info.dataset), Text(info.model), f"{info.step:,}", dev, info.kept, when)


class CheckpointsPane(ReportsJobs, Vertical):
    class Reload(Message):
        """Read the folder again."""

    class Load(Message):
        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.known: dict[str, tuple[tuple, checkpoint.CheckpointInfo]] = {}  # path -> (stamp, info)
        self.infos: list[checkpoint.CheckpointInfo] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="ckpt-folder")
        yield CheckpointTable(id="ckpt-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for c in COLUMNS:
            table.add_column(c, key=c)
        self.refresh_list()

    def refresh_list(self) -> None:
        self.browse_worker(session.folders())

    @work(thread=True, group="browse", exclusive=True, exit_on_error=False)
    def browse_worker(self, folders: list[Path]) -> None:
        """The app's folder, then (in a room) the room's shared one."""
        infos, known = [], dict(self.known)
        for path in (p for folder in folders for p in checkpoint.listing(folder)):
            stamp = _stamp(path)
            seen = known.get(str(path))
            infos.append(seen[1] if seen is not None and seen[0] == stamp else checkpoint.info(path))
        self.post_message(CheckpointRows(folders[0], infos))

    def on_checkpoint_rows(self, msg: CheckpointRows) -> None:
        msg.stop()
        table = self.query_one(DataTable)
        fresh = {str(i.path): i for i in msg.infos}
        for key in [k for k in self.known if k not in fresh]:
            self.known.pop(key)
            if key in table.rows:
                table.remove_row(key)
        for key, info in fresh.items():
            stamp = _stamp(info.path)
            old = self.known.get(key)
            if old is not None and old[0] == stamp and key in table.rows:
                continue
            when = datetime.fromtimestamp(stamp[0] / 1e9).strftime("%Y-%m-%d %H:%M:%S") if stamp else ""
            cells = _cells(info, when, msg.folder)
            if key in table.rows:
                for column, value in zip(COLUMNS, cells):
                    table.update_cell(key, column, value)
            else:
                table.add_row(*cells, key=key)
            self.known[key] = (stamp, info)
        table.sort("saved", reverse=True)  # newest first, as the folder listing is
        self.infos = msg.infos
        n = len(msg.infos)
        shared = sum(i.path.parent != msg.folder for i in msg.infos)
        self.query_one("#ckpt-folder", Static).update(Text(
            f"{msg.folder}: {n - shared} checkpoint{'s' if n - shared != 1 else ''}"
            + (f", and {shared} shared. " if shared else ". ")
            + ("Enter loads the highlighted one (weights, Setup and chart); r reads the folder again; " if n else "")
            + "ctrl+s saves the current run."))

    def on_checkpoints_pane_reload(self, event: Reload) -> None:
        event.stop()
        self.refresh_list()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.post_message(self.Load(Path(event.row_key.value)))

    def load(self, path: Path) -> None:
        self.load_worker(path)

    @work(thread=True, group="load", exclusive=True, exit_on_error=False)
    def load_worker(self, path: Path) -> None:
        self.post_message(CheckpointLoaded(checkpoint.load(path), path))

    def saved(self, path: Path) -> None:
        """A file was just written here: read the folder again (only that file is new or changed)."""
        if os.path.dirname(os.path.abspath(path)) == os.path.abspath(checkpoint.default_dir()):
            self.refresh_list()
