"""A run: config, vocabulary, model, step and history. The trainer trains it, the generator samples it,
a checkpoint stores it."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch

from core import datasets
from core.config import RunConfig, validate
from core.datasets import Dataset
from core.errors import SeqlmError
from core.history import History
from core.models import registry
from core.models.base import LanguageModel
from core.vocab import Vocab


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise SeqlmError("device cuda was asked for, but this machine has no usable CUDA GPU.")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


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

    @property
    def name(self) -> str:
        return f"{self.cfg.data.dataset}-{self.cfg.model.model}"

    def ensure_dataset(self) -> Dataset:
        """The run's dataset, loaded on demand (a run from a checkpoint starts without it)."""
        if self.dataset is None:
            ds = datasets.load(self.cfg.data)
            if ds.vocab.tokens != self.vocab.tokens:
                raise SeqlmError(f"the data at {ds.source} has a different vocabulary from this model's "
                                 f"({len(ds.vocab)} vs {len(self.vocab)} tokens); it was trained on other data.")
            self.dataset = ds
        return self.dataset

    def snapshot_model(self) -> LanguageModel:
        """An independent copy of the model in eval mode, for generation while training goes on."""
        m = copy.deepcopy(self.model)
        return m.eval()


def new_run(cfg: RunConfig, dataset: Dataset | None = None) -> Run:
    """Validate the config, load the data and build a freshly initialised model (seeded)."""
    cfg = validate(cfg.copy())
    ds = dataset if dataset is not None else datasets.load(cfg.data)
    device = resolve_device(cfg.train.device)
    torch.manual_seed(cfg.train.seed)
    model = registry.build(cfg.model, len(ds.vocab), ds.pad).to(device)
    return Run(cfg, ds.vocab, model, ds.describe(), dataset=ds)
