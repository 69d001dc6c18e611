"""Learning-rate range test (the seed recipe; Leslie Smith / fastai ``lr_find``).

On a copy of the model, one minibatch per learning rate over an exponential grid, recording the loss;
stop once the loss diverges (above 4x the best). Suggested rate: fastai's "valley" rule on the smoothed
curve, after a short burn-in is left out: the longest run of falling loss, and a point about halfway down
it. Steepest descent, the older rule, fails with Adam: there the loss falls fastest in the first few
steps whatever the rate, and the rule points at the bottom edge of the range.
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from seqlm_tui.core import events as ev
from seqlm_tui.core.batches import make_batcher
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.models.base import detach_state
from seqlm_tui.core.optim import make_optimizer
from seqlm_tui.core.run import Run, resolve_device


@dataclass
class SweepConfig:
    lr_min: float = 1e-3
    lr_max: float = 1.0
    steps: int = 1000
    diverge: float = 4.0     # stop when the smoothed loss exceeds this many times the best
    beta: float = 0.98       # smoothing of the recorded losses (bias-corrected EMA)

    def check(self) -> None:
        for name, v in (("lr-min", self.lr_min), ("lr-max", self.lr_max)):
            if not (math.isfinite(v) and v > 0):
                raise SeqlmError(f"{name} must be a positive number, not {v}.")
        if self.lr_min >= self.lr_max:
            raise SeqlmError(f"lr-min ({self.lr_min:g}) must be below lr-max ({self.lr_max:g}).")
        if not 2 <= self.steps <= 1_000_000:
            raise SeqlmError(f"sweep steps must be between 2 and 1,000,000, not {self.steps}.")

    def grid(self) -> list[float]:
        a, b = math.log10(self.lr_min), math.log10(self.lr_max)
        return [10 ** (a + (b - a) * i / (self.steps - 1)) for i in range(self.steps)]


RULE = "fastai's valley: halfway down the longest fall of the smoothed loss"
BURN_IN = 0.1   # share of the first points left out: the loss falls there because training begins
TAIL = 5        # and the last few, where it may be turning up already


def valley(losses: list[float]) -> tuple[int, int] | None:
    """(start, end) of the longest descending run of ``losses`` (a longest decreasing subsequence's span,
    as fastai computes it), or None when nothing falls."""
    n = len(losses)
    if n < 2:
        return None
    lds = [1] * n
    best_start, best_end = 0, 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
        if lds[best_end] < lds[i]:
            best_end, best_start = i, i - lds[i]
    return (best_start, best_end) if best_end > best_start else None


def suggest(lrs: list[float], smoothed: list[float]) -> float | None:
    """The valley rule on the smoothed loss after the burn-in: a third of the way into the valley plus a
    sixth (fastai's ``idx = start + sections + sections/2`` with sections a third of it)."""
    n = len(smoothed)
    lo, hi = int(n * BURN_IN), n - TAIL
    if hi - lo < 5:
        return None
    span = valley(smoothed[lo:hi])
    if span is None:
        return None
    start, end = span
    sections = (end - start) / 3
    return lrs[lo + start + int(sections) + int(sections / 2)]


class Sweep:
    def __init__(self, run: Run, cfg: SweepConfig | None = None, stop: threading.Event | None = None):
        """``stop`` (a worker's cancel event, say) ends the sweep at its next rate once set."""
        self.run, self.cfg = run, cfg or SweepConfig()
        self._stop = stop if stop is not None else threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def events(self) -> Iterator[ev.Event]:
        try:
            yield from self._loop()
        except SeqlmError as err:
            yield ev.Error(0, str(err))

    def _loop(self) -> Iterator[ev.Event]:
        self.cfg.check()
        run, c = self.run, self.run.cfg
        device = resolve_device(c.train.device)
        model = copy.deepcopy(run.model).to(device).train()  # the user's weights stay untouched
        if model.trains_by_counting:
            raise SeqlmError("the count-based bigram has no learning rate; pick a neural model to sweep.")
        ds = run.ensure_dataset()
        gen = torch.Generator().manual_seed(c.train.seed)
        torch.manual_seed(c.train.seed)
        batcher = make_batcher(ds, "train", model.batch_kind, model.context, c.data.batch_size,
                               c.data.num_steps, c.data.partition, gen, str(device), c.data.pack)
        params = [p for p in model.parameters() if p.requires_grad]
        opt = make_optimizer(params, c.train)
        lrs, losses, smoothed = [], [], []
        avg, best, reason, state = 0.0, float("inf"), "done", None
        grid = self.cfg.grid()
        for i, lr in enumerate(grid):
            if self._stop.is_set():
                reason = "stopped"
                break
            for g in opt.param_groups:
                g["lr"] = lr
            x, y, fresh = batcher.next()
            state = None if fresh or not model.recurrent else detach_state(state)
            logits, state = model.batch_logits(x, state)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-1)
            value = loss.item()
            if not math.isfinite(value):
                reason = "diverged"
                break
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if c.train.clip > 0:
                torch.nn.utils.clip_grad_norm_(params, c.train.clip)
            opt.step()
            avg = self.cfg.beta * avg + (1 - self.cfg.beta) * value
            sm = avg / (1 - self.cfg.beta ** (i + 1))
            lrs.append(lr)
            losses.append(value)
            smoothed.append(sm)
            best = min(best, sm)
            yield ev.SweepPoint(i + 1, len(grid), lr, value, sm)
            if i > 10 and sm > self.cfg.diverge * best:
                reason = "diverged"
                break
        yield ev.SweepDone(lrs, losses, smoothed, suggest(lrs, smoothed), reason)
