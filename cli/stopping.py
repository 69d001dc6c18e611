"""Signals that end a command (Ctrl+C, SIGTERM, SIGHUP): raised in the main thread so that ``finally``
blocks clean up, and also recorded in an event that the work loops watch.

Python runs a signal handler between two bytecodes of the main thread, wherever they are; an exception
raised there while the interpreter is inside a ``__del__`` or a garbage-collection callback is printed as
"Exception ignored" and lost, and a sweep of a million rates would then run on. The event is the second
way out: the train and sweep loops stop at their next step, and ``check`` raises the signal's exception
there. The third, for every other command (an eval of a long split, a generate): if the command has not ended
some seconds after the signal, the process ends with the signal's line and code. It does not raise the
signal again: raised inside torch's C++ (an import at start-up), an exception ends the process with
``terminate``. A temp file of a save then in progress is removed by the next save into that folder.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SIGNALS = {signal.SIGINT: "interrupted", signal.SIGTERM: "stopped by SIGTERM", signal.SIGHUP: "stopped by SIGHUP"}
STOP = threading.Event()
_received: list[int] = []
_ended = threading.Event()  # the command has caught its signal or returned: nothing to end
GRACE_S = 10.0  # far longer than any command takes to unwind from a signal, even on a busy machine


class Interrupted(BaseException):
    """A signal that ends the command."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def request(signum: int) -> None:
    """What a signal leaves behind even when its exception is lost: the loops stop at their next step,
    and the process ends if the command has not ended some seconds later."""
    first = not _received
    _received.append(signum)
    STOP.set()
    if first:
        threading.Thread(target=_end_if_lost, args=(signum, _ended), daemon=True, name="signal-grace").start()


def _end_if_lost(signum: int, ended: threading.Event) -> None:
    if not ended.wait(GRACE_S):  # this command's own event: the next command starts with a fresh one
        sys.stderr.write(f"seqlm-tui: {SIGNALS.get(signum, 'stopped')}.\n")
        sys.stderr.flush()
        os._exit(128 + signum)


def handled() -> None:
    """The command has caught its signal: it ends the usual way."""
    _ended.set()


def on_signal(signum, _frame) -> None:
    from seqlm_tui.core import faults  # here: the handlers go in before anything that need not be loaded

    request(signum)
    if faults.action_at("signal") == "lose":
        return  # as when Python loses the exception
    raise Interrupted(signum)


@contextmanager
def catch_signals() -> Iterator[None]:
    """For one command: a fresh STOP, the handlers installed, and the caller's handlers back afterwards
    (``main`` may be called in a process that has its own, a test runner's worker for one)."""
    global _ended
    STOP.clear()
    _received.clear()
    _ended = threading.Event()
    before = {sig: signal.getsignal(sig) for sig in SIGNALS}
    for sig in SIGNALS:
        signal.signal(sig, on_signal)
    try:
        yield
    finally:
        _ended.set()
        for sig, handler in before.items():
            signal.signal(sig, handler)
        STOP.clear()


def check() -> None:
    """After a loop that watches STOP: if a signal ended it, end the command as the signal would have."""
    if STOP.is_set():
        raise Interrupted(_received[0] if _received else signal.SIGINT)
