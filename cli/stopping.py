"""Signals that end a command (Ctrl+C, SIGTERM, SIGHUP): raised in the main thread so that ``finally``
blocks clean up, and also recorded in an event that the work loops watch.

Python runs a signal handler between two bytecodes of the main thread, wherever they are; an exception
raised there while the interpreter is inside a ``__del__`` or a garbage-collection callback is printed as
"Exception ignored" and lost, and a sweep of a million rates would then run on. The event is the second
way out: the train and sweep loops stop at their next step, and ``check`` raises the signal's exception
there. The third, for every other command (an eval of a long split, a generate): while the command is
still running a moment after the signal, the signal is raised in the main thread again, and if that is
lost too, the process ends with the signal's line and code (a temp file of a save then in progress is
removed by the next save into that folder).
"""

from __future__ import annotations

import _thread
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SIGNALS = {signal.SIGINT: "interrupted", signal.SIGTERM: "stopped by SIGTERM", signal.SIGHUP: "stopped by SIGHUP"}
STOP = threading.Event()
_received: list[int] = []
_ended = threading.Event()  # the command has returned: nothing to nudge
NUDGE_S = 3.0  # a step of any loop here is far shorter; the handler's own exception has had its chance
NUDGES = 3


class Interrupted(BaseException):
    """A signal that ends the command."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def request(signum: int) -> None:
    """What a signal leaves behind even when its exception is lost: the loops stop at their next step,
    and the signal is raised again if the command is still running a moment later."""
    first = not _received
    _received.append(signum)
    STOP.set()
    if first:
        threading.Thread(target=_nudge, args=(signum,), daemon=True, name="signal-nudge").start()


def _nudge(signum: int) -> None:
    for _ in range(NUDGES):
        if _ended.wait(NUDGE_S):
            return
        _thread.interrupt_main(signum)  # runs on_signal in the main thread again
    if not _ended.wait(NUDGE_S):
        sys.stderr.write(f"seqlm-tui: {SIGNALS.get(signum, 'stopped')}.\n")
        sys.stderr.flush()
        os._exit(128 + signum)


def on_signal(signum, _frame) -> None:
    request(signum)
    raise Interrupted(signum)


@contextmanager
def catch_signals() -> Iterator[None]:
    """For one command: a fresh STOP, the handlers installed, and the caller's handlers back afterwards
    (``main`` may be called in a process that has its own, a test runner's worker for one)."""
    STOP.clear()
    _received.clear()
    _ended.clear()
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
