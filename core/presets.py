"""Named recipes: the seed material's runs, and faster ones. A preset is a partial config."""

from __future__ import annotations

from dataclasses import replace

from seqlm_tui.core.config import DataConfig, RunConfig, TrainConfig
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.models import registry

PRESETS: dict[str, tuple[str, dict]] = {
    "counting-elman": (
        "the seed's counting RNN: Elman from scratch, hidden 32, one-hot, batch = half the data",
        {"data": {"dataset": "counting", "batch_size": 48},
         "model": {"model": "elman", "hidden": 32, "one_hot": True},
         "train": {"optimizer": "adam", "lr": 0.01, "steps": 600, "eval_every": 100}}),
    "counting-watch": (
        "the app's first run: the counting RNN paced to watch its curve form, Adam 0.004 for 2,400 steps "
        "(a few seconds), evaluated every 200",
        {"data": {"dataset": "counting", "batch_size": 48},
         "model": {"model": "elman", "hidden": 32, "one_hot": True},
         "train": {"optimizer": "adam", "lr": 0.004, "steps": 2400, "eval_every": 200}}),
    "names-mlp-seed": (
        "the seed's MLP on names: block 3, emb 10, hidden 200, batch 32, every weight from randn, SGD 0.1 then "
        "0.01, 200k steps",
        {"data": {"dataset": "names", "batch_size": 32},
         "model": {"model": "mlp", "block_size": 3, "emb": 10, "hidden": 200, "init": "randn"},
         "train": {"optimizer": "sgd", "lr": 0.1, "schedule": "step", "steps": 200_000,
                   "eval_every": 10_000}}),
    "names-fast": (
        "names in under a second: MLP with 5 characters of context, emb 24 / hidden 200, batch 512, Adam 0.025 "
        "with cosine decay, 300 steps",
        {"data": {"dataset": "names", "batch_size": 512},
         "model": {"model": "mlp", "block_size": 5, "emb": 24, "hidden": 200},
         # 5 characters of context pay for themselves at once: dev 2.11 after 300 steps (~0.6 s on 2 cores), where
         # block 3 / emb 16 / hidden 256 needed 600 steps for 2.17
         "train": {"optimizer": "adam", "lr": 0.025, "schedule": "cosine", "steps": 300, "eval_every": 50}}),
    "names-transformer": (
        "a names Transformer counted in steps: 4 layers, 64 wide, dropout 0.1, AdamW 1e-3, cosine, "
        "12,000 steps of 64 (test 1.946, 5 to 9 minutes on 2 CPU cores; names-10min goes further in ten)",
        {"data": {"dataset": "names", "batch_size": 64},
         "model": {"model": "transformer", "emb": 64, "heads": 4, "layers": 4, "block_size": 32,
                   "dropout": 0.1},
         "train": {"optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.1, "schedule": "cosine",
                   "warmup": 300, "steps": 12_000, "eval_every": 1000}}),
    # The names frontier (seqlm-tui bench --only frontier): each preset trains for a time budget, its schedule
    # fitted to it, a little under its row's wall time on 2 CPU cores (data loading comes on top); the step
    # count only caps it. Batch sizes are chosen for the CPU (a GPU would take larger ones, and more steps).
    "names-30s": (
        "names in half a minute: MLP with 6 characters of context, emb 32 / hidden 512, batch 512, AdamW 0.01 "
        "with weight decay 0.1 and cosine decay over a 28-second budget",
        # Without weight decay this MLP overfits within the half minute (train 1.57 against dev 2.05, and a
        # faster machine ends worse: test 2.042 after 6,100 steps, 2.085 after 8,400); decay 0.1: dev 1.964,
        # train 1.78 (0.2: dev 2.001; hidden 256 or a batch of 1,024 without decay: 2.054, 2.044).
        {"data": {"dataset": "names", "batch_size": 512},
         "model": {"model": "mlp", "block_size": 6, "emb": 32, "hidden": 512},
         "train": {"optimizer": "adamw", "lr": 0.01, "weight_decay": 0.1, "schedule": "cosine", "steps": 1_000_000,
                   "time_budget": 28.0, "eval_every": 1000}}),
    "names-2min": (
        "names in two minutes: MLP with 12 characters of context, emb 24 / hidden 1536, batch 512, AdamW 5e-3 "
        "with weight decay 0.1 and cosine decay over a 118-second budget",
        # In two minutes the MLP's cheap steps (~11 ms for 512 windows) beat the Transformer's (~18 ms for 24 packed
        # rows of 16): dev 1.952 at block 12, 1.957 at block 10 (two runs), 1.954 at block 10 / emb 32, against
        # 1.952-1.955 for the best Transformer (4 x 96 on packed rows, AdamW 2e-3, no dropout). Left: hidden 1024
        # (dev 1.959), lr 0.01 (1.959), weight decay 0.2 (2.001), batches of 256 or 1,024 (1.965, 1.981), dropout
        # on the hidden layer (it halves the steps: 1.973).
        {"data": {"dataset": "names", "batch_size": 512},
         "model": {"model": "mlp", "block_size": 12, "emb": 24, "hidden": 1536},
         "train": {"optimizer": "adamw", "lr": 5e-3, "weight_decay": 0.1, "schedule": "cosine", "steps": 1_000_000,
                   "time_budget": 118.0, "eval_every": 1000}}),
    "names-10min": (
        "names in ten minutes: Transformer (4 layers, 64 wide, dropout 0.2), AdamW 1e-3, warm-up and cosine "
        "over a 590-second budget",
        # Held back by overfitting, not by speed: with dropout 0.1 the train loss ends at 1.78 against dev 1.930;
        # dropout 0.2: train 1.84, dev 1.922; 0.3: dev 1.948. Unpacked: packed rows did worse here (96 wide,
        # dropout 0.1: dev 1.951).
        {"data": {"dataset": "names", "batch_size": 64},
         "model": {"model": "transformer", "emb": 64, "heads": 4, "layers": 4, "block_size": 16, "dropout": 0.2},
         "train": {"optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.1, "schedule": "cosine",
                   "warmup": 300, "steps": 1_000_000, "time_budget": 590.0, "eval_every": 2000}}),
    "memory-lstm": (
        "the memory task at length 20 (recall the first of 20 random symbols): LSTM 64, forget bias 3, "
        "Adam 0.003, 1,000 steps; it learns to recall (accuracy 1.0 here)",
        {"data": {"dataset": "memory", "memory_length": 20, "batch_size": 64},
         "model": {"model": "lstm", "hidden": 64, "one_hot": True, "forget_bias": 3.0},
         "train": {"optimizer": "adam", "lr": 0.003, "clip": 1.0, "steps": 1000, "eval_every": 100}}),
    "memory-elman": (
        "the same memory task for the hand-written Elman RNN, which forgets: about 0.6 accuracy at length 20",
        {"data": {"dataset": "memory", "memory_length": 20, "batch_size": 64},
         "model": {"model": "elman", "hidden": 64, "one_hot": True},
         "train": {"optimizer": "adam", "lr": 0.003, "clip": 1.0, "steps": 1000, "eval_every": 100}}),
    "timemachine-rnn": (
        "d2l's character RNN on The Time Machine: torch RNN 256, one-hot, 32 x 35, SGD lr 1, clip 1",
        {"data": {"dataset": "timemachine", "batch_size": 32, "num_steps": 35, "partition": "sequential"},
         "model": {"model": "rnn", "hidden": 256, "one_hot": True},
         "train": {"optimizer": "sgd", "lr": 1.0, "clip": 1.0, "epochs": 100, "eval_every": 1000}}),
}


def apply(cfg: RunConfig, values: dict) -> RunConfig:
    """A copy of ``cfg`` with ``{"data": {...}, "model": {...}, "train": {...}}`` values set."""
    out = cfg.copy()
    for section, kv in values.items():
        setattr(out, section, replace(getattr(out, section), **kv))
    return out


def get(name: str) -> dict:
    try:
        return PRESETS[name][1]
    except KeyError:
        raise SeqlmError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}.") from None


def config_for(preset: str | None = None, model: str | None = None) -> RunConfig:
    """Defaults, then the preset, with the model's own defaults under the preset's model values."""
    values = get(preset) if preset else {}
    name = model or values.get("model", {}).get("model") or "elman"
    cfg = RunConfig(DataConfig(), registry.defaults_for(name), TrainConfig())
    if values and values.get("model", {}).get("model", name) != name:
        values = {k: v for k, v in values.items() if k != "model"}
    return apply(cfg, values)
