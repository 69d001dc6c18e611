"""A run sized in seconds: its schedule runs on the clock, it stops when the budget is spent, and the
progress it reports counts the steps the rest of the budget holds. The trainer's clock is replaced by one
that moves a fixed amount at each reading, so nothing here depends on the machine's speed."""

from __future__ import annotations

import argparse
import itertools

import pytest

from seqlm_tui.cli.flags import add_config_flags, config_from_args
from seqlm_tui.core import events as ev
from seqlm_tui.core import train as train_module
from seqlm_tui.core.optim import lr_at
from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.core.run import new_run
from seqlm_tui.core.train import STEP_LIMIT, Trainer


class Clock:
    """perf_counter for the trainer: each reading 10 ms after the last."""

    def __init__(self) -> None:
        self.ticks = itertools.count()

    def perf_counter(self) -> float:
        return next(self.ticks) * 0.01

    def __getattr__(self, name):  # the rest of the time module as it is
        import time

        return getattr(time, name)


def test_the_schedule_runs_on_whichever_of_steps_and_time_is_further_along():
    cfg = config_for("counting-elman").train
    cfg.schedule, cfg.lr, cfg.warmup = "cosine", 0.1, 0
    assert lr_at(cfg, 10, 1_000_000, spent=0.5) == pytest.approx(0.05)  # half the time: half the cosine
    assert lr_at(cfg, 500_000, 1_000_000, spent=0.1) == pytest.approx(0.05)  # half the steps, less time
    assert lr_at(cfg, 10, 1_000_000, spent=1.0) == pytest.approx(0.0, abs=1e-12)
    cfg.schedule, cfg.decay_at = "step", 0
    assert lr_at(cfg, 10, 1_000_000, spent=0.49) == 0.1 and lr_at(cfg, 10, 1_000_000, spent=0.5) == pytest.approx(0.01)
    cfg.decay_at = 20  # a decay step the user chose is kept
    assert lr_at(cfg, 10, 1_000_000, spent=0.9) == 0.1 and lr_at(cfg, 20, 1_000_000) == pytest.approx(0.01)


def test_a_run_stops_when_its_budget_is_spent_at_the_end_of_its_schedule(monkeypatch):
    monkeypatch.setattr(train_module, "time", Clock())
    cfg = apply(config_for("counting-elman"), {"train": {"steps": 100_000, "time_budget": 2.0, "eval_every": 10_000,
                                                         "schedule": "cosine", "lr": 0.05}})
    run = new_run(cfg)
    events = list(Trainer(run, sample_count=0, step_interval=0).events())
    steps = [e for e in events if isinstance(e, ev.Step)]
    done = events[-1]
    assert isinstance(done, ev.Finished) and not done.stopped  # spent, not stopped
    assert 10 < run.step < 1000 and steps[-1].step == run.step
    assert steps[-1].total == run.step and steps[-1].eta == 0.0  # the bar full at the end
    assert 2.0 <= steps[-1].elapsed < 2.2
    assert steps[-1].lr < 0.05 * 0.01  # the cosine ran to its end on the clock
    assert steps[len(steps) // 2].lr == pytest.approx(0.05 * 0.5, rel=0.15)
    middle = steps[len(steps) // 2]
    assert middle.total == pytest.approx(2 * middle.step, rel=0.1)  # the steps the budget holds, at this pace
    evals = [e for e in events if isinstance(e, ev.Eval)]
    assert evals and evals[-1].step == run.step  # the last weights evaluated


def parse(*argv: str):
    parser = argparse.ArgumentParser()
    add_config_flags(parser)
    parser.add_argument("--preset")
    return config_from_args(parser.parse_args(argv))


def test_a_budget_typed_alone_is_the_runs_length_and_typed_steps_still_cap_it():
    alone = parse("--preset", "names-fast", "--time-budget", "60")
    assert alone.train.time_budget == 60 and alone.train.steps == STEP_LIMIT and alone.train.epochs == 0
    capped = parse("--preset", "names-fast", "--time-budget", "60", "--steps", "50")
    assert capped.train.steps == 50
    preset = parse("--preset", "names-30s")
    assert preset.train.time_budget > 0 and preset.train.schedule == "cosine"
