"""Checkpoints: a browser of the checkpoint folder; Enter loads the highlighted one.

The folder is read by a worker, from each file's card (no weights are read), and only files that are new
or changed since the last look are read at all; the table then changes only in the rows that did.
Loading a checkpoint (``torch.load``, building its model) is a worker too.

Each row takes two lines (name over model and dataset, step over which weights were kept, date over time)
so that the table fits 60 columns; the name is cut to the room left, and the highlighted row's whole name,
or why it cannot be loaded, is on the line under the table.
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

from seqlm_tui.core import checkpoint, checkpoint_list
from seqlm_tui.core.checkpoint_list import CheckpointInfo
from seqlm_tui.core.fmt import fit
from seqlm_tui.tui import session
from seqlm_tui.tui.jobs import ReportsJobs
from seqlm_tui.tui.messages import CheckpointLoaded, CheckpointRows

COLUMNS = ("checkpoint", "step", "dev loss", "saved")
FIXED = 9 + 8 + 10 + 2 * 4 + 2  # the other columns, the cells' padding and the scroll bar
MIN_NAME = 12


class CheckpointTable(DataTable):
    """The table, with Enter shown in the Footer as what it does here; Home and End go to the first and the
    last row (a DataTable's own scroll sideways)."""

    BINDINGS = [Binding("enter", "select_cursor", "Load"), Binding("r", "reload", "Refresh"),
                Binding("home", "row(0)", "First", show=False), Binding("end", "row(-1)", "Last", show=False)]

    def action_reload(self) -> None:
        self.post_message(CheckpointsPane.Reload())

    def action_row(self, where: int) -> None:
        if self.row_count:
            self.move_cursor(row=where % self.row_count)


def _stamp(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


class Saved(str):
    """When a file was written, as shown (date over time, to the minute), sorted to the nanosecond."""

    ns: int = 0

    @classmethod
    def of(cls, stamp: tuple | None) -> Saved:
        text = datetime.fromtimestamp(stamp[0] / 1e9).strftime("%Y-%m-%d\n%H:%M") if stamp else ""
        out = cls(text)
        out.ns = stamp[0] if stamp else 0
        return out


def _cells(info: CheckpointInfo, stamp: tuple | None, name_width: int, own: Path | None) -> tuple:
    # A file of another folder (a room's shared one) is named with its folder: it is loaded, never written.
    shown = info.path.name if own is None or info.path.parent == own else f"{info.path.parent.name}/{info.path.name}"
    name = fit(shown, name_width)
    when = Saved.of(stamp)
    if info.error:
        return (Text(name + "\n") + Text(fit(f"unreadable: {info.reason}", name_width), style="bold"), "", "", when)
    dev = f"{info.dev_loss:.4f}" if info.dev_loss is not None else "-"
    what = fit(f"{info.model} on {info.dataset}", name_width)
    return (Text(f"{name}\n{what}"), f"{info.step:,}\n{info.kept}", dev, when)


class CheckpointsPane(ReportsJobs, Vertical):
    class Reload(Message):
        """Read the folder again."""

    class Load(Message):
        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.known: dict[str, tuple[tuple, CheckpointInfo]] = {}  # path -> (stamp, info)
        self.infos: list[CheckpointInfo] = []
        self.name_width = 40
        self.own: Path | None = None  # the app's own folder, as last listed

    def compose(self) -> ComposeResult:
        yield Static("", id="ckpt-folder")
        yield CheckpointTable(id="ckpt-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="ckpt-row", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for c in COLUMNS:
            table.add_column(c, key=c)
        self.refresh_list()

    def on_resize(self) -> None:
        width = max(MIN_NAME, self.content_size.width - FIXED)
        if width != self.name_width:
            self.name_width = width
            table = self.query_one(DataTable)
            for key, (stamp, info) in self.known.items():
                if key in table.rows:
                    table.update_cell(key, "checkpoint", _cells(info, stamp, width, self.own)[0], update_width=True)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        known = self.known.get(event.row_key.value) if event.row_key is not None else None
        info = known[1] if known else None
        if info is None:
            line = ""
        elif info.error:  # the file's name, not its whole path: the reason must fit the two lines
            line = info.error.replace(str(info.path), info.path.name)
        else:
            line = (f"{info.path.name}: {info.model} on {info.dataset}, step {info.step:,}"
                    + (f", the {info.kept} weights" if info.kept else "") + ". Enter loads it.")
        self.query_one("#ckpt-row", Static).update(line)

    def refresh_list(self) -> None:
        self.browse_worker(session.folders())

    @work(thread=True, group="browse", exclusive=True, exit_on_error=False)
    def browse_worker(self, folders: list[Path]) -> None:
        """The app's folder, then (in a room) the room's shared one."""
        infos, known = [], dict(self.known)
        for path in (p for folder in folders for p in checkpoint_list.listing(folder)):
            stamp = _stamp(path)
            seen = known.get(str(path))
            infos.append(seen[1] if seen is not None and seen[0] == stamp else checkpoint_list.info(path))
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
            cells = _cells(info, stamp, self.name_width, msg.folder)
            if key in table.rows:
                for column, value in zip(COLUMNS, cells):
                    table.update_cell(key, column, value)
            else:
                table.add_row(*cells, key=key, height=2)
            self.known[key] = (stamp, info)
        table.sort("saved", key=lambda when: when.ns, reverse=True)  # newest first, as the folder listing is
        self.infos = msg.infos
        n = len(msg.infos)
        self.own = msg.folder
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
