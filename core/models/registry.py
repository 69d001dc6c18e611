"""Model names -> classes, the hyperparameters each uses, and their defaults."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

from core.config import ModelConfig
from core.errors import SeqlmError
from core.models.base import LanguageModel
from core.models.bigram import BigramCounts, BigramNeural
from core.models.elman import ElmanLM
from core.models.mlp import MLP
from core.models.recurrent import TorchRNNLM
from core.models.transformer import TransformerLM

MAX_PARAMS = 200_000_000  # 800 MB of float32 weights, 3.2 GB with Adam's moments and the gradients


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    build_fn: object
    fields: tuple[str, ...]
    defaults: dict = field(default_factory=dict)

    def build(self, cfg: ModelConfig, vocab_size: int, pad: int | None = 0) -> LanguageModel:
        self.check(cfg)
        kwargs = {f: getattr(cfg, f) for f in self.fields}
        pad = 0 if pad is None else pad
        # Each size is within its bounds, yet together they can ask for a model of billions of
        # parameters (LSTM hidden 8192 x 32 layers): count on the meta device, which allocates nothing.
        if torch.get_default_device().type != "meta":
            with torch.device("meta"):
                n = self.build_fn(vocab_size, pad, **kwargs).num_params()
            if n > MAX_PARAMS:
                raise SeqlmError(f"this {self.name} would have {n:,} parameters; the limit is {MAX_PARAMS:,} "
                                 "(make it smaller: hidden, embedding, layers or block size).")
        try:
            return self.build_fn(vocab_size, pad, **kwargs)
        except RuntimeError as err:
            if "alloc" not in str(err).lower():
                raise
            raise SeqlmError(f"not enough memory for this {self.name}; make it smaller.") from None

    def check(self, cfg: ModelConfig) -> None:
        if "heads" in self.fields and cfg.emb % cfg.heads:
            raise SeqlmError(f"embedding {cfg.emb} must be divisible by heads {cfg.heads}.")
        if "heads" in self.fields and (cfg.emb // cfg.heads) % 2:
            raise SeqlmError(f"embedding / heads must be even for rotary positions "
                             f"({cfg.emb} / {cfg.heads} is odd).")


def _rnn(cell):
    def build(vocab_size, pad, **kw):
        return TorchRNNLM(vocab_size, pad, cell=cell, **kw)
    return build


_RNN_FIELDS = ("hidden", "layers", "dropout", "one_hot", "emb")
_RNN_DEFAULTS = {"hidden": 256, "layers": 1, "one_hot": True, "emb": 32, "dropout": 0.0}

MODELS: dict[str, ModelSpec] = {s.name: s for s in [
    ModelSpec("bigram-counts", "Bigram (counts)", BigramCounts, ("smoothing",), {"smoothing": 1.0}),
    ModelSpec("bigram-neural", "Bigram (neural)", BigramNeural, ()),
    ModelSpec("mlp", "MLP (Bengio et al.)", MLP, ("block_size", "emb", "hidden"),
              {"block_size": 3, "emb": 10, "hidden": 200}),
    ModelSpec("elman", "Elman RNN (from scratch)", ElmanLM, ("hidden", "one_hot", "emb"),
              {"hidden": 32, "one_hot": True, "emb": 32}),
    ModelSpec("rnn", "torch RNN", _rnn("rnn"), _RNN_FIELDS, _RNN_DEFAULTS),
    ModelSpec("lstm", "LSTM", _rnn("lstm"), (*_RNN_FIELDS, "forget_bias"), {**_RNN_DEFAULTS, "forget_bias": 0.0}),
    ModelSpec("gru", "GRU", _rnn("gru"), _RNN_FIELDS, _RNN_DEFAULTS),
    ModelSpec("transformer", "Transformer (tiny)", TransformerLM, ("emb", "heads", "layers", "block_size", "dropout"),
              {"emb": 64, "heads": 4, "layers": 4, "block_size": 32, "dropout": 0.0}),
]}


def get(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise SeqlmError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}.") from None


def defaults_for(name: str) -> ModelConfig:
    """A ModelConfig holding this model's own defaults."""
    return replace(ModelConfig(model=name), **get(name).defaults)


def build(cfg: ModelConfig, vocab_size: int, pad: int | None = 0) -> LanguageModel:
    return get(cfg.model).build(cfg, vocab_size, pad)
