"""The temp file a checkpoint is written to before it is renamed into place: beside the target, named
with the writer's pid, so that the leftover of a killed save (kill -9, power loss) is told from a save
still running in another process, and removed by the next save of that file."""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path

SUFFIX = ".tmp"
# mkstemp makes its file private (0600); a checkpoint gets the mode any new file of the user's gets.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def create(path: Path) -> tuple[int, str]:
    """(fd, name) of a new temp file for ``path``, in the same folder (so the rename is atomic)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=SUFFIX, dir=path.parent)
    os.fchmod(fd, 0o666 & ~_UMASK)
    return fd, tmp


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive, not ours to judge
        return True
    return True


def remove_leftovers(path: Path) -> None:
    """Delete temp files that saves of ``path`` killed mid-write left behind; a save still running in
    another process (its pid alive) keeps its file."""
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*{SUFFIX}"):
        parts = tmp.name[len(path.name) + 2:-len(SUFFIX)].split(".")  # [pid, random] or [random]
        if len(parts) > 2 or (len(parts) == 2 and not parts[0].isdigit()):
            continue  # a temp file of another name that starts with this one ("run.pt.old.pt")
        if len(parts) == 2 and _alive(int(parts[0])):
            continue
        try:
            tmp.unlink()
        except OSError:
            pass
