"""Signals that end a command (Ctrl+C, SIGTERM, SIGHUP): raised in the main thread so that ``finally``
blocks clean up, and also recorded in an event that the work loops watch.

Python runs a signal handler between two bytecodes of the main thread, wherever they are; an exception
raised there while the interpreter is inside a ``__del__`` or a garbage-collection callback is printed as
"Exception ignored" and lost, and a sweep of a million rates would then run on. The event is the second
way out: the loops stop at their next step, and ``check`` raises the signal's exception there.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SIGNALS = {signal.SIGINT: "interrupted", signal.SIGTERM: "stopped by SIGTERM", signal.SIGHUP: "stopped by SIGHUP"}
STOP = threading.Event()
_received: list[int] = []


class Interrupted(BaseException):
    """A signal that ends the command."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def request(signum: int) -> None:
    """What a signal leaves behind even when its exception is lost: the loops stop at their next step."""
    _received.append(signum)
    STOP.set()


def on_signal(signum, _frame) -> None:
    request(signum)
    raise Interrupted(signum)


@contextmanager
def catch_signals() -> Iterator[None]:
    """For one command: a fresh STOP, the handlers installed, and the caller's handlers back afterwards
    (``main`` may be called in a process that has its own, a test runner's worker for one)."""
    STOP.clear()
    _received.clear()
    before = {sig: signal.getsignal(sig) for sig in SIGNALS}
    for sig in SIGNALS:
        signal.signal(sig, on_signal)
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
        STOP.clear()


def check() -> None:
    """After a loop that watches STOP: if a signal ended it, end the command as the signal would have."""
    if STOP.is_set():
        raise Interrupted(_received[0] if _received else signal.SIGINT)
