"""The app's thread policy: training gets every core but one (a run's own `threads` setting still wins)."""

from __future__ import annotations

import os


def leave_a_core_to_the_ui() -> None:
    """torch's OpenMP workers spin while they wait for each other, so a team as large as the machine
    collapses when anything else wants a core: on 2 cores with one other busy process, the counting
    model made 2.7 steps/s with 2 workers and 577 with 1. The interface thread keeps a core for itself."""
    import torch

    cores = os.cpu_count() or 1
    torch.set_num_threads(max(1, min(torch.get_num_threads(), cores - 1)))
