"""The memory task, the seed's next step after counting: read a sequence, then recall its first symbol.

A plain (Elman) RNN has to carry the first symbol through every later update of its state, and its
gradient back through as many tanh layers, so it forgets as the sequence grows; an LSTM's cell state
is a path that can hold the symbol unchanged. ``compare_memory`` trains both at several lengths and
reports the recall accuracy on held-out sequences, which shows where the plain RNN falls off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields

import torch

from seqlm_tui.core import datasets
from seqlm_tui.core.config import SECTIONS, DataConfig, RunConfig, TrainConfig, check_value, field_spec
from seqlm_tui.core.datasets import Dataset
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.models import registry
from seqlm_tui.core.models.base import LanguageModel
from seqlm_tui.core.presets import apply
from seqlm_tui.core.rules import validate
from seqlm_tui.core.run import new_run
from seqlm_tui.core.train import train_to_end

# Chosen on 2 CPU cores so that the default comparison (2 models x 4 lengths) takes a minute or two
# and the plain RNN's fall-off between lengths 10 and 40 is plain to see (README has the table).
# Adam at 0.01 stalls both models on a plateau (the answer narrowed to half the alphabet) at lengths
# 20 and up; 0.003 does not. The LSTM's forget gate starts open (bias +3, core/models/recurrent.py),
# the usual remedy for long lags. One thread: at this size a second one only adds synchronisation
# (5x slower on a busy machine).
MEMORY_DEFAULTS: dict[str, dict] = {
    "data": {"batch_size": 64},
    "model": {"hidden": 64, "one_hot": True, "forget_bias": 3.0},
    "train": {"optimizer": "adam", "lr": 0.003, "clip": 1.0, "threads": 1},
}
DEFAULT_STEPS = 1000
DEFAULT_LENGTHS = (5, 10, 20, 40)


@dataclass
class MemoryResult:
    model: str
    length: int
    accuracy: float          # fraction of test sequences whose first symbol is recalled (greedy)
    steps: int
    seconds: float           # building the data, training and measuring
    dev_loss: float | None = None   # cross-entropy of the scored targets after training
    params: int = 0


def chance() -> float:
    """Accuracy of a guess: one symbol of the alphabet."""
    return 1 / len(datasets.MEMORY_ALPHABET)


def recall(sample: str) -> str | None:
    """What a sample of the memory task shows ("cfhabg?|c": a sequence, the query, the model's answer):
    "recalled", or "wrong: the first was c"; None for text that is not such a sample."""
    seq, query, answer = sample.partition(datasets.MEMORY_QUERY)
    answer = answer.lstrip("|")[:1]
    if not query or not seq:
        return None
    return "recalled" if answer == seq[0] else f"wrong: the first was {seq[0]}"


def _items(ds: Dataset, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(prompts, answers): every item of the split up to and including its query mark, and its first symbol."""
    if ds.name != "memory" or split not in ds.splits or ds.splits[split].scored is None:
        raise SeqlmError(f"memory accuracy needs the memory dataset's train, dev or test split, "
                         f"not {ds.name} {split}.")
    s = ds.splits[split]
    length = int(s.lengths[0]) - 4  # boundary, symbols, query, answer, boundary
    prompts = s.tokens[s.starts.unsqueeze(1) + torch.arange(length + 2)].long()
    return prompts, prompts[:, 1]


@torch.no_grad()
def memory_accuracy(model: LanguageModel, ds: Dataset, split: str = "test", batch: int = 1024) -> float:
    """Fraction of the split's sequences whose first symbol the model names right after the query mark.

    It asks every model the same way, through ``forward`` from a fresh state, so a window model whose
    context is shorter than the sequence is measured honestly: it cannot see the first symbol."""
    prompts, answers = _items(ds, split)
    was = model.training
    model.eval()
    correct = 0
    try:
        for i in range(0, prompts.shape[0], batch):
            logits, _ = model(prompts[i:i + batch].to(model.device))
            correct += int((logits[:, -1].argmax(-1).cpu() == answers[i:i + batch]).sum())
    finally:
        model.train(was)
    return correct / prompts.shape[0]


def _overrides(overrides: dict) -> dict[str, dict]:
    """Sort ``hidden=48, lr=0.003, ...`` into config sections (field names are unique across them)."""
    out: dict[str, dict] = {}
    for name, value in overrides.items():
        for section, kind in SECTIONS.items():
            if name in {f.name for f in fields(kind)}:
                out.setdefault(section, {})[name] = value
                break
        else:
            raise SeqlmError(f"unknown setting {name!r} for the memory comparison.")
    return out


def memory_config(model: str, length: int, steps: int = DEFAULT_STEPS, seed: int = 0,
                  **overrides) -> RunConfig:
    """The run the comparison trains: the model's defaults, then the memory defaults, then ``overrides``."""
    cfg = RunConfig(DataConfig(dataset="memory", memory_length=length), registry.defaults_for(model),
                    TrainConfig())
    cfg = apply(cfg, MEMORY_DEFAULTS)
    cfg = apply(cfg, {"train": {"steps": steps, "eval_every": steps, "seed": seed, "epochs": 0.0}})
    return apply(cfg, _overrides(overrides))


def compare_memory(models: tuple[str, ...] | list[str] = ("elman", "lstm"),
                   lengths: tuple[int, ...] | list[int] = DEFAULT_LENGTHS, steps: int = DEFAULT_STEPS,
                   seed: int = 0, stop: threading.Event | None = None, **overrides) -> Iterator[MemoryResult]:
    """Train each model at each length (same seed, same budget) and yield its test accuracy as it finishes.

    Lengths go in the outer loop so that every model has a point at the short lengths early on.
    Setting ``stop`` ends the current training at its next step and yields nothing more. Bad settings
    raise SeqlmError at the call, before any training."""
    models, lengths = list(models), list(lengths)
    if not models or not lengths:
        raise SeqlmError("the memory comparison needs at least one model and one length.")
    for m in models:
        registry.get(m)
    for n in lengths:
        check_value(field_spec("data", "memory_length"), n)
    check_value(field_spec("train", "steps"), steps)
    vocab = datasets.memory(1, n_items=datasets.MIN_ITEMS).vocab  # the same alphabet at every length
    for m in models:  # every setting is checked before the first minute of training, not after it
        cfg = validate(memory_config(m, lengths[0], steps, seed, **overrides))
        registry.get(m).check_size(cfg.model, len(vocab), vocab.boundary)
    return _compare(models, lengths, steps, seed, stop, overrides)


def _compare(models: list[str], lengths: list[int], steps: int, seed: int, stop: threading.Event | None,
             overrides: dict) -> Iterator[MemoryResult]:
    threads = torch.get_num_threads()  # the runs set their own; the caller's is given back at the end
    try:
        for length in lengths:
            for m in models:
                if stop is not None and stop.is_set():
                    return
                t0 = time.perf_counter()
                run = new_run(memory_config(m, length, steps, seed, **overrides))
                failed, stopped = train_to_end(run, stop)
                if stopped:
                    return
                if failed:
                    raise SeqlmError(f"{m} at memory length {length}: {failed}")
                yield MemoryResult(m, length, memory_accuracy(run.model, run.dataset), run.step,
                                   time.perf_counter() - t0, run.metrics.get("dev_loss"), run.model.num_params())
    finally:
        torch.set_num_threads(threads)
