"""When Python's cycle collector makes its full passes: on a timer, not inside a key's work.

Python starts a full pass when enough objects have been allocated, and the allocations come in bursts: a
pane switch renders the screen anew, so the pass landed inside a switch. It walked some 150,000 live
objects (Textual's caches of rendered lines, the panes, the run), 70-220 ms on the interface's thread:
the slow tenth of pane switches. Here the objects alive once the panes are in are frozen (never walked
again), the young generations are collected as before, and the full pass, when due, runs from a timer.
"""

from __future__ import annotations

import gc

FULL_PASS_EVERY_S = 15.0
DUE = 10  # young collections since the last full pass that make one due (Python's own third threshold)
_before: tuple[int, int, int] | None = None


def take_over(app) -> None:
    """Once the panes are in."""
    global _before
    gc.freeze()
    if _before is None:
        _before = gc.get_threshold()
        gc.set_threshold(_before[0], _before[1], 1 << 30)  # the automatic full pass as good as never
    app.set_interval(FULL_PASS_EVERY_S, full_pass_if_due, name="full collection")


def full_pass_if_due() -> None:
    if gc.get_count()[2] >= DUE:
        gc.collect()


def give_back() -> None:
    """When the app ends: Python's own policy again (a test runs many apps in one process)."""
    global _before
    if _before is not None:
        gc.set_threshold(*_before)
        _before = None
    gc.unfreeze()
