"""Runs side by side: the loss curves of a run, and the seed's "which learning rate is best" answered by
training the same setup from the same seed at several rates and overlaying their dev curves."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, fields

from seqlm_tui.core import datacache
from seqlm_tui.core.config import SECTIONS, RunConfig, check_value, field_spec, label
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.history import downsample
from seqlm_tui.core.models import registry
from seqlm_tui.core.rules import used, validate
from seqlm_tui.core.run import Run, new_run
from seqlm_tui.core.train import train_to_end

TRAIN_POINTS = 400   # enough for a terminal-wide chart; a long run's history has thousands
DEV_POINTS = 20      # dev evaluations per run of a rate comparison
MAX_RATES = 12


@dataclass
class RunCurve:
    label: str
    dev: list[tuple[float, float]]      # (step, dev loss)
    train: list[tuple[float, float]]    # (step, train loss), downsampled to at most TRAIN_POINTS
    lr: float | None = None
    status: str = "done"                # "done", or "diverged" (the curve ends where the loss blew up)
    message: str = ""                   # why it diverged, in one sentence
    settings: dict = field(default_factory=dict)  # what the run was: see ``settings``

    @property
    def final_dev(self) -> float | None:
        return self.dev[-1][1] if self.dev else None


def settings(cfg: RunConfig) -> dict:
    """The settings a run used, by their labels ("memory length": 40, "hidden": 64, "learning rate": 0.01)."""
    out = {}
    for section, kind in SECTIONS.items():
        for f in fields(kind):
            if used(cfg, f"{section}.{f.name}") and f.name not in ("device", "threads", "eval_cap"):
                out[label(f)] = getattr(getattr(cfg, section), f.name)
    return out


def differences(all_settings: list[dict], most: int = 3) -> list[str]:
    """For each run, what tells it apart from the others: the settings whose values differ among them
    ("memory length 40, steps 2,000"), at most ``most`` of them. The setting with the most distinct values
    comes first (then the config's order): a narrow list cuts the end of a line, and with one run at
    hidden 32 and two at hidden 200 and different rates, "hidden 200, learning ra…" told the two apart by
    nothing."""
    order = list(dict.fromkeys(k for s in all_settings for k in s))
    distinct = {k: len({repr(s.get(k)) for s in all_settings}) for k in order}
    keys = sorted((k for k in order if distinct[k] > 1), key=lambda k: -distinct[k])  # stable: ties keep order
    out = []
    for s in all_settings:
        shown = [f"{k} {_value(s[k])}" for k in keys if k in s and k not in ("model", "dataset")][:most]
        out.append(", ".join(shown))
    return out


def _value(v) -> str:
    return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else f"{v:g}" if isinstance(v, float) else str(v)


def default_label(cfg: RunConfig) -> str:
    return f"{cfg.model.model} on {cfg.data.dataset}, lr {cfg.train.lr:g}"


def run_curve(run: Run, label: str | None = None) -> RunCurve:
    """The dev and (downsampled) train curves of a run, trained here or loaded from a checkpoint."""
    h = run.history
    xs, ys = downsample(h.train.steps, h.train.values, TRAIN_POINTS)
    return RunCurve(label or default_label(run.cfg), list(zip(h.dev.steps, h.dev.values)), list(zip(xs, ys)),
                    lr=run.cfg.train.lr, settings=settings(run.cfg))


def check_rates(lrs: list[float]) -> list[float]:
    """The rates as floats, each a valid learning rate; SeqlmError (one sentence) otherwise."""
    if not lrs:
        raise SeqlmError("give at least one learning rate to compare.")
    if len(lrs) > MAX_RATES:
        raise SeqlmError(f"compare at most {MAX_RATES} learning rates at a time, not {len(lrs)}.")
    spec = field_spec("train", "lr")
    out = []
    for lr in lrs:
        check_value(spec, float(lr))
        out.append(float(lr))
    return out


def lr_comparison(cfg: RunConfig, lrs: list[float], steps: int,
                  stop: threading.Event | None = None) -> Iterator[RunCurve]:
    """Train ``cfg`` once per learning rate for ``steps`` steps, same seed (same initial weights, same
    minibatches), and yield each run's curves as it finishes. The schedule, optimizer and everything
    else stay as ``cfg`` has them. A rate that diverges still yields its curve up to that point.
    Setting ``stop`` ends the current run at its next step and yields nothing more. Bad rates or settings
    raise SeqlmError at the call, before any training."""
    rates = check_rates(list(lrs))
    check_value(field_spec("train", "steps"), steps)
    base = cfg.copy()
    base.train.steps, base.train.epochs = steps, 0.0
    base.train.eval_every = max(1, math.ceil(steps / DEV_POINTS))
    validate(base)
    spec = registry.get(base.model.model)
    if spec.trains_by_counting:
        raise SeqlmError("the count-based bigram has no learning rate; pick a neural model to compare rates.")
    ds = datacache.load(base.data)
    spec.check_size(base.model, len(ds.vocab), ds.pad)
    return _compare(base, rates, stop)


def _compare(base: RunConfig, rates: list[float], stop: threading.Event | None) -> Iterator[RunCurve]:
    for lr in rates:
        if stop is not None and stop.is_set():
            return
        c = base.copy()
        c.train.lr = lr
        run = new_run(c)  # the shared cache: every rate trains on the very same data
        failed, stopped = train_to_end(run, stop)
        if stopped:
            return
        curve = run_curve(run)
        if failed:
            curve.label += " (diverged)"
            curve.status, curve.message = "diverged", failed
        yield curve

