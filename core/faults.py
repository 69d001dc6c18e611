"""Named points in slow or risky code paths where a test can stop or break the program on purpose.

Tests that need a fault at a precise moment (kill -9 in the middle of a save, a full disk after the data is
written) set ``SEQLM_FAULT=point:action`` in the environment of the process they start, instead of racing
the clock. Actions: ``wait`` (touch the file named by ``SEQLM_FAULT_MARK``, then sleep until killed),
``hold`` (touch the mark, then wait until the file named by ``SEQLM_FAULT_RELEASE`` exists, two minutes
at most: a test that failed before releasing it must not leave a thread that never ends, since the test's
event loop waits for its threads when it closes),
``enospc`` (raise "no space left on device"), ``truncate`` (cut the file being written, ``target``, in
half: a write that went wrong without an error). Without the variable a point costs one dict lookup.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

HOLD_AT_MOST_S = 120


def action_at(name: str) -> str | None:
    """The action the environment asks for at point ``name``, if any (for points that are not a place
    to wait or fail, like ``signal:lose``: a signal whose exception Python loses)."""
    where, _, action = os.environ.get("SEQLM_FAULT", "").partition(":")
    return action if where == name else None


def point(name: str, target=None, path=None) -> None:
    """``path``: the file the point is about; with ``SEQLM_FAULT_PATH`` set, only files under it fail (a
    full disk where the user asked to save, and room in the checkpoint folder)."""
    spec = os.environ.get("SEQLM_FAULT")
    if not spec:
        return
    where, _, action = spec.partition(":")
    if where != name:
        return
    only = os.environ.get("SEQLM_FAULT_PATH")
    if only and path is not None and not os.path.abspath(path).startswith(os.path.abspath(only)):
        return
    if action in ("wait", "hold"):
        mark = os.environ.get("SEQLM_FAULT_MARK")
        if mark:
            Path(mark).write_text(name)
        release = os.environ.get("SEQLM_FAULT_RELEASE") if action == "hold" else None
        give_up = time.monotonic() + HOLD_AT_MOST_S
        while not (release and (Path(release).exists() or time.monotonic() > give_up)):
            time.sleep(0.01 if release else 3600)
    if action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    if action == "truncate" and target is not None:
        target.truncate(target.tell() // 2)
