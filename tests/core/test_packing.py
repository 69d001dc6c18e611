"""Packed items: a training row starts at an item and runs on through the next ones with no padding, every
target is the token after its input, and evaluation is item by item as without packing."""

from __future__ import annotations

import argparse

import pytest
import torch

from seqlm_tui.cli.flags import add_config_flags, config_from_args
from seqlm_tui.core.batches import make_batcher
from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.core.rules import unused_reason
from seqlm_tui.core.run import new_run
from seqlm_tui.core.train import train_to_end

pytestmark = pytest.mark.usefixtures("one_thread")


def names_transformer(**data):
    return apply(config_for(None, "transformer"), {
        "data": {"dataset": "names", "batch_size": 8, **data},
        "model": {"emb": 16, "heads": 2, "layers": 1, "block_size": 16},
        "train": {"optimizer": "adamw", "lr": 3e-3, "steps": 20, "eval_every": 20}})


def test_a_packed_row_is_items_end_to_end_from_an_item_start():
    run = new_run(names_transformer(pack=True))
    ds = run.dataset
    split = ds.splits["train"]
    b = make_batcher(ds, "train", "sequence", 16, 64, gen=torch.Generator().manual_seed(0), pack=True)
    x, y, fresh = b.next()
    assert fresh and x.shape == y.shape == (64, 16)
    boundary = run.vocab.boundary
    assert (x[:, 0] == boundary).all()  # each row opens at an item
    assert torch.equal(y[:, :-1], x[:, 1:])  # the next token, all along the row
    stream = split.tokens.long()
    starts = set(split.starts.tolist())
    for row_x, row_y in zip(x, y):
        text = torch.cat([row_x[:1], row_y])
        at = next(s for s in starts if torch.equal(stream[s:s + 17], text))  # a stretch of the split, from a start
        assert at in starts
    assert (y >= 0).all()  # no padding away from the split's end
    assert ((y == boundary).sum(1) >= 1).all()  # 16 positions hold at least one whole name and its end


def test_packing_off_pads_each_item_as_before():
    run = new_run(names_transformer())
    b = make_batcher(run.dataset, "train", "sequence", 16, 64, gen=torch.Generator().manual_seed(0))
    x, y, _ = b.next()
    assert (y == -1).any() and x.shape[1] <= 16


def test_rows_run_off_the_end_of_the_split_as_padding():
    run = new_run(names_transformer())
    split = run.dataset.splits["train"]
    b = make_batcher(run.dataset, "train", "sequence", 16, 4, pack=True)
    last = torch.full((4,), split.n_items - 1)
    x, y = b._packed(last)
    item = split.lengths[-1].item()
    assert (y[:, item - 1:] == -1).all() and (y[:, :item - 1] >= 0).all()


def test_a_packed_run_trains_and_is_evaluated_item_by_item():
    packed, plain = new_run(names_transformer(pack=True)), new_run(names_transformer())
    for run in (packed, plain):
        failed, _ = train_to_end(run)
        assert failed is None and run.step == 20
    dev = lambda r: make_batcher(r.dataset, "dev", "sequence", 16, 1).eval_targets()  # noqa: E731
    assert dev(packed) == dev(plain)
    assert packed.history.dev.steps == plain.history.dev.steps


def test_packing_is_refused_where_nothing_is_packed():
    stream = apply(config_for("timemachine-rnn"), {"data": {"pack": True}})
    assert "not stream data" in unused_reason(stream, "data.pack")
    mlp = apply(config_for("names-fast"), {"data": {"pack": True}})
    assert "fixed windows" in unused_reason(mlp, "data.pack")
    assert unused_reason(names_transformer(pack=True), "data.pack") is None
    parser = argparse.ArgumentParser()
    add_config_flags(parser)
    parser.add_argument("--preset")
    assert config_from_args(parser.parse_args(["--model", "transformer", "--pack", "--no-pack"])).data.pack is False
    assert config_from_args(parser.parse_args(["--model", "transformer", "--pack"])).data.pack is True


def test_an_epoch_of_packed_rows_is_the_split_s_targets_once():
    """A packed row holds about two names: an epoch counts their targets, not one item a row (which made
    ``--epochs 1 --pack`` about two epochs)."""
    run = new_run(names_transformer(pack=True))
    ds = run.dataset
    packed = make_batcher(ds, "train", "sequence", 16, 64, gen=torch.Generator().manual_seed(0), pack=True)
    padded = make_batcher(ds, "train", "sequence", 16, 64, gen=torch.Generator().manual_seed(0))
    targets = int((ds.splits["train"].lengths - 1).sum())
    assert padded.steps_per_epoch * 64 >= ds.splits["train"].n_items
    assert (packed.steps_per_epoch - 1) * 64 * 16 < targets <= packed.steps_per_epoch * 64 * 16 + 64 * 16
    assert packed.steps_per_epoch < padded.steps_per_epoch / 1.5
