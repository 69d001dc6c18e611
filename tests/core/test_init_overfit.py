"""The seed post's initialisation as an option (--init randn) and training on one batch (--overfit-batch)."""

from __future__ import annotations

import math

import pytest
import torch

from seqlm_tui.core.models import registry
from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.core.run import new_run
from seqlm_tui.core.train import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")


def train(cfg):
    run = new_run(cfg)
    for _ in Trainer(run, sample_count=0).events():
        pass
    return run


def test_the_posts_init_starts_far_above_ln_27_and_torchs_near_it(names):
    """makemore part 3: the first loss of the randn init is ~27 against ln 27 = 3.30 for a sensible one."""
    seed = config_for("names-mlp-seed")
    assert seed.model.init == "randn" and config_for("names-fast").model.init == "torch"
    firsts = {}
    for init in ("randn", "torch"):
        run = train(apply(seed, {"model": {"init": init}, "train": {"steps": 1, "eval_every": 1}}))
        firsts[init] = run.metrics["first_loss"]
    assert firsts["randn"] > 10
    assert abs(firsts["torch"] - math.log(27)) < 0.3, firsts


def test_randn_draws_every_parameter_from_a_standard_normal():
    cfg = config_for(None, "mlp").model
    cfg.init, cfg.hidden = "randn", 400
    torch.manual_seed(0)
    model = registry.build(cfg, 27)
    for name, p in model.named_parameters():
        p = p.detach()
        assert abs(float(p.std()) - 1) < 0.25 and abs(float(p.mean())) < 0.3, name
    cfg.init = "torch"
    assert float(registry.build(cfg, 27).hidden.weight.detach().std()) < 0.2  # torch's: 1/sqrt(fan-in) scaled


def test_one_batch_is_overfit_below_half_while_the_whole_data_is_not(names):
    """Single-batch overfitting (the original drives 32 examples to ~0.25); the same steps on the whole
    training split stay far above it, so the flag is what does it."""
    base = apply(config_for("names-mlp-seed"), {"model": {"init": "torch"},
                                                "train": {"steps": 300, "eval_every": 300, "schedule": "constant"}})
    one = train(apply(base, {"train": {"overfit_batch": True}}))
    assert one.history.train.values[-1] < 0.5
    assert one.metrics["dev_loss"] > 3  # what it memorised says nothing about names it has not seen
    whole = train(base)
    assert whole.history.train.values[-1] > 1.5
