"""The names frontier: how good a model gets in the time a learner waits, ours against makemore's recipe.

Each row is a preset sized to a wall-time budget on 2 CPU cores. Its time runs from reading the data to the
last step (the data cache is emptied first, so loading counts); its test loss is read once, at the end, on
the whole test split. makemore's Transformer recipe (cli/bench/makemore.py) then trains in one run for as
long as the slowest row took, and its test loss is read at each row's time (those evaluations off its
clock): the same split, the same targets, the same seconds. torch's one-time import of torch._dynamo (its
optimizers' first construction, ~1.3 s once per process, as ``import torch`` itself) is done before any clock.
"""

from __future__ import annotations

import time

from seqlm_tui.cli.bench import makemore
from seqlm_tui.core import datacache
from seqlm_tui.core.batches import make_batcher
from seqlm_tui.core.presets import config_for
from seqlm_tui.core.run import new_run
from seqlm_tui.core.train import evaluate, train_to_end

# (preset, target test loss, budget in seconds)
ROWS = (("names-fast", 2.20, 1.0), ("names-30s", 2.05, 30.0), ("names-2min", 1.95, 120.0),
        ("names-10min", 1.92, 600.0))


def ours(name: str) -> dict:
    datacache.CACHE.clear()
    t0 = time.perf_counter()
    run = new_run(config_for(name))
    failed, _ = train_to_end(run)
    secs = time.perf_counter() - t0
    if failed:
        raise RuntimeError(f"{name}: {failed}")
    m = run.model
    b = make_batcher(run.dataset, "test", m.batch_kind, m.context, 1, run.cfg.data.num_steps, "sequential",
                     None, str(m.device))
    test, targets = evaluate(m, b.eval_batches(0))
    return {"preset": name, "seconds": secs, "test_loss": test, "targets": targets, "steps": run.step,
            "params": m.num_params()}


def baseline(marks: list[float], seed: int = 42) -> list[dict]:
    """makemore's recipe on our train split, its test loss at each of ``marks`` seconds."""
    import torch

    run = new_run(config_for("names-fast"))  # only for the data: the split and its batcher
    ds = run.dataset
    gen = torch.Generator().manual_seed(seed)
    train = make_batcher(ds, "train", "sequence", 1, 32, 1, "random", gen, "cpu")
    test = make_batcher(ds, "test", "sequence", 1, 1, 1, "sequential", None, "cpu")
    block = int(ds.splits["train"].lengths.max())  # makemore: the longest name and its end
    points = makemore.train_for(train, lambda: test.eval_batches(0), len(run.vocab), block, sorted(marks), seed)
    return [{"seconds": s, "test_loss": loss, "steps": n} for s, loss, n in points]


def measure(quick: bool) -> tuple[list[dict], list[dict]]:
    import torch._dynamo  # noqa: F401

    rows = ROWS[:2] if quick else ROWS
    mine = [dict(ours(name), target=target, budget=budget) for name, target, budget in rows]
    theirs = baseline([r["seconds"] for r in mine])
    return mine, theirs
