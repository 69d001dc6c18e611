"""What the trainer and the sweep report while they run. The CLI prints these, the app draws them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # events stay a light import (no torch) for whoever renders them
    from seqlm_tui.core.insight import Health as HealthReport


@dataclass
class Started:
    total_steps: int
    params: int
    dataset: str
    model: str
    device: str
    eval_targets: int  # dev targets per evaluation (the cap, or the whole split)


@dataclass
class Step:
    step: int            # steps done so far (1-based)
    total: int
    loss: float
    smooth: float        # exponential moving average of the loss
    lr: float
    tokens_per_s: float
    elapsed: float
    eta: float


@dataclass
class Eval:
    step: int
    train_loss: float    # smoothed train loss at this point
    dev_loss: float
    dev_ppl: float


@dataclass
class Health:
    """Yielded by the trainer right after each ``Eval`` (not for the counting bigram, which has no
    gradients): ``health.grad_norms`` of the last training step, ``health.saturated`` on a dev batch."""
    health: HealthReport


@dataclass
class Sample:
    step: int
    texts: list[str]


@dataclass
class Paused:
    step: int


@dataclass
class Resumed:
    step: int


@dataclass
class Finished:
    step: int
    stopped: bool        # True when the user stopped it early
    result: dict = field(default_factory=dict)


@dataclass
class Error:
    step: int
    message: str
    diverged: bool = False   # the loss blew up: the run holds the weights of the last good step, worth saving


@dataclass
class SweepPoint:
    index: int
    total: int
    lr: float
    loss: float
    smooth: float


@dataclass
class SweepDone:
    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggested_lr: float | None
    reason: str          # why it stopped: "done", "diverged" or "stopped"


Event = Started | Step | Eval | Health | Sample | Paused | Resumed | Finished | Error | SweepPoint | SweepDone
