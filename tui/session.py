"""The app as one session of ``seqlm-tui serve`` (a student's browser tab in a room).

``serve`` starts the app with SEQLM_ROOM_SESSION (the session's code), SEQLM_CHECKPOINT_DIR (the session's
own folder) and SEQLM_ROOM_SHARED (the room's checkpoint folder, whose files every session may load). Here:
the session saves only into its own folder; its last run is written there when the app ends, however it
ends (a closed tab, a refresh, ctrl+q, the idle timeout), and loaded again when the same session starts
again; and the app ends if ``serve`` is gone, so that no session outlives it. Outside a room, every function
here does nothing.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from seqlm_tui.core import checkpoint
from seqlm_tui.core.errors import SeqlmError

CODE_ENV = "SEQLM_ROOM_SESSION"
SHARED_ENV = "SEQLM_ROOM_SHARED"
LAST_RUN = "last-run" + checkpoint.SUFFIX
ORPHAN_GRACE_S = 10.0  # after serve is gone: time to save and leave before the process just ends


@dataclass(frozen=True)
class Room:
    code: str
    own: Path            # this session's folder: where it saves
    shared: Path | None  # the room's folder: loaded from, never written

    @property
    def last_run(self) -> Path:
        return self.own / LAST_RUN


def current() -> Room | None:
    code = os.environ.get(CODE_ENV)
    if not code:
        return None
    shared = os.environ.get(SHARED_ENV)
    return Room(code, checkpoint.default_dir(), Path(shared) if shared else None)


def folders() -> list[Path]:
    """The folders the Checkpoints pane lists: the app's own, and in a room the room's shared one."""
    room = current()
    own = checkpoint.default_dir()
    if room is None or room.shared is None or room.shared.resolve() == own.resolve():
        return [own]
    return [own, room.shared]


def save_target(name: str, folder: Path) -> Path:
    """Where the save dialog's answer leads. In a room only a file name is taken, and the file goes into
    the session's own folder: the room's other folders belong to other students."""
    if current() is None:
        return folder / name if not os.path.isabs(os.path.expanduser(name)) and "/" not in name \
            else Path(os.path.expanduser(name))
    if "/" in name or os.sep in name or name in (".", "..") or name.startswith("~"):
        raise SeqlmError("in a room, runs are saved in your own folder: give a file name without a folder.")
    return folder / name


def start(app) -> bool:
    """In a room: the session's code in the header, and its last run loaded (True) if it has one."""
    room = current()
    if room is None:
        return False
    app.sub_title = f"session {room.code}"
    if room.last_run.is_file():
        app.checkpoints.load(room.last_run)
        return True
    return False


def watch_parent() -> None:
    """In a room, end the app when ``serve`` is gone (killed with no chance to end its sessions): SIGTERM
    first, so the app leaves the usual way and saves its run, then, if that has not worked, at once."""
    if current() is None:
        return
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(ORPHAN_GRACE_S)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="room-parent-watch").start()


def keep_last_run(app) -> Path | None:
    """In a room, after the app has ended: write its current run to the session's last-run file (training,
    if it still runs, stops at its next step first). One line on stderr if that fails."""
    room = current()
    train = getattr(app, "train", None)
    run = getattr(train, "run", None)
    if room is None or run is None or not run.step:
        return None
    try:
        trainer = train.trainer
        if trainer is not None and trainer.run is run:
            trainer.stop()
            with trainer.still():  # between two steps, the optimizer's state current
                payload = checkpoint.to_payload(run)
        else:
            payload = checkpoint.to_payload(run)
        return checkpoint.write_payload(payload, room.last_run)
    except (SeqlmError, OSError) as err:
        print(f"seqlm-tui: the session's last run was not kept: {err}", file=sys.stderr)
        return None
