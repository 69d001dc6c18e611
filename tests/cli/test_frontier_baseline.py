"""The frontier's baseline: makemore's Transformer recipe on our names split. At a mark of 0 seconds it
stops after its first step (no timing involved), so its loss is a fresh model's: about ln(27)."""

from __future__ import annotations

import math

import torch

from seqlm_tui.cli.bench import makemore
from seqlm_tui.core.batches import make_batcher
from seqlm_tui.core.presets import config_for
from seqlm_tui.core.run import new_run


def test_makemores_recipe_trains_on_our_batches_and_is_read_on_the_whole_test_split():
    run = new_run(config_for("names-fast"))
    ds = run.dataset
    train = make_batcher(ds, "train", "sequence", 1, 32, 1, "random", torch.Generator().manual_seed(0), "cpu")
    test = make_batcher(ds, "test", "sequence", 1, 1, 1, "sequential", None, "cpu")
    block = int(ds.splits["train"].lengths.max())
    [(seconds, loss, steps)] = makemore.train_for(train, lambda: test.eval_batches(0), len(run.vocab), block, [0.0])
    assert steps == 1 and seconds >= 0.0
    assert abs(loss - math.log(len(run.vocab))) < 0.3  # one step from makemore's init: near a uniform guess
