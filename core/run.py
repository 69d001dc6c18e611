"""A run: config, vocabulary, model, step and history. The trainer trains it, the generator samples it,
a checkpoint stores it."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from seqlm_tui.core import datacache
from seqlm_tui.core.config import RunConfig
from seqlm_tui.core.datasets import Dataset
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.history import History
from seqlm_tui.core.models import registry
from seqlm_tui.core.models.base import LanguageModel
from seqlm_tui.core.rules import validate
from seqlm_tui.core.vocab import Vocab


def cpu_cores() -> int:
    """The CPU cores this process may run on (its affinity: a container or ``taskset`` may give fewer than
    the machine has)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise SeqlmError("device cuda was asked for, but this machine has no usable CUDA GPU.")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


@dataclass
class Snapshot:
    """The weights (and optimizer state) of one step, kept aside: the best dev evaluation so far."""
    step: int
    dev_loss: float
    model_state: dict
    optimizer_state: dict | None
    metrics: dict


@dataclass
class Run:
    cfg: RunConfig
    vocab: Vocab
    model: LanguageModel
    dataset_info: dict = field(default_factory=dict)
    step: int = 0
    history: History = field(default_factory=History)
    optimizer_state: dict | None = None
    metrics: dict = field(default_factory=dict)
    dataset: Dataset | None = None
    best: Snapshot | None = None      # set by a trainer asked to keep the best dev evaluation

    @property
    def name(self) -> str:
        return f"{self.cfg.data.dataset}-{self.cfg.model.model}"

    def ensure_dataset(self) -> Dataset:
        """The run's dataset, loaded on demand (a run from a checkpoint starts without it), and checked to be
        the data the model was trained on: same vocabulary and, for a text file, the same bytes."""
        if self.dataset is None:
            recorded = self.dataset_info.get("file") if isinstance(self.dataset_info, dict) else None
            where = self.cfg.data.file if self.cfg.data.dataset == "file" else ""
            if where and not Path(where).expanduser().exists():
                raise SeqlmError(f"the data file {where} this model was trained on is not there (moved or "
                                 "deleted?); give the path of a copy (--file in the command line, the file "
                                 "path in Setup).")
            ds = datacache.load(self.cfg.data)
            sha = recorded.get("sha256") if isinstance(recorded, dict) else None
            if sha is not None and ds.file is not None and sha != ds.file.sha256:
                raise SeqlmError(f"{ds.file.path} has changed since this model was trained on it (it had "
                                 f"{recorded.get('size', 0):,} bytes, now {ds.file.size:,}, and other content); "
                                 "give the path of the original (--file in the command line).")
            if ds.vocab.tokens != self.vocab.tokens:
                raise SeqlmError(f"the data at {ds.source} has a different vocabulary from this model's "
                                 f"({len(ds.vocab)} vs {len(self.vocab)} tokens); it was trained on other data.")
            self.dataset = ds
            self.dataset_info = ds.describe()
        return self.dataset

    def snapshot_model(self) -> LanguageModel:
        """An independent copy of the model in eval mode, for generation while training goes on."""
        m = copy.deepcopy(self.model)
        return m.eval()


def new_run(cfg: RunConfig) -> Run:
    """Validate the config, load the data (through the shared cache) and build a freshly initialised
    model (seeded)."""
    cfg = validate(cfg.copy())
    ds = datacache.load(cfg.data)
    device = resolve_device(cfg.train.device)
    torch.manual_seed(cfg.train.seed)
    model = registry.build(cfg.model, len(ds.vocab), ds.pad).to(device)
    return Run(cfg, ds.vocab, model, ds.describe(), dataset=ds)
