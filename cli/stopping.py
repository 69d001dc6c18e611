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

SIGNALS = {signal.SIGINT: "interrupted", signal.SIGTERM: "stopped by SIGTERM", signal.SIGHUP: "stopped by SIGHUP"}
STOP = threading.Event()
_received: list[int] = []


class Interrupted(BaseException):
    """A signal that ends the command."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise(signum, _frame) -> None:
    _received.append(signum)
    STOP.set()
    raise Interrupted(signum)


def catch_signals() -> None:
    for sig in SIGNALS:
        signal.signal(sig, _raise)


def check() -> None:
    """After a loop that watches STOP: if a signal ended it, end the command as the signal would have."""
    if STOP.is_set():
        raise Interrupted(_received[0] if _received else signal.SIGINT)
