"""Model names -> classes, the hyperparameters each uses, and their defaults."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch
from torch.overrides import TorchFunctionMode

from seqlm_tui.core.config import ModelConfig
from seqlm_tui.core.errors import FieldError, SeqlmError
from seqlm_tui.core.models.base import LanguageModel
from seqlm_tui.core.models.bigram import BigramCounts, BigramNeural
from seqlm_tui.core.models.elman import ElmanLM
from seqlm_tui.core.models.mlp import MLP
from seqlm_tui.core.models.recurrent import TorchRNNLM
from seqlm_tui.core.models.transformer import TransformerLM

BUILT_HERE = ("init",)  # fields applied to the built model, not passed to its constructor
MAX_PARAMS = 200_000_000  # 800 MB of float32 weights, 3.2 GB with Adam's moments and the gradients


class _NoInit(TorchFunctionMode):
    """Skips filling tensors while a model is built on the meta device to be counted: there is nothing to fill,
    and torch's meta ``normal_`` and ``eye`` import torch._dynamo the first time (1.3 s on the thread that
    counts: the UI's, for Setup's summary)."""

    INITS = frozenset({"normal_", "uniform_", "trunc_normal_", "exponential_", "bernoulli_", "random_"})

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in self.INITS:  # Tensor.normal_(t) and nn.init.normal_(tensor=t)
            return args[0] if args else (kwargs or {})["tensor"]
        if func is torch.eye:
            return torch.empty(args[0], args[1] if len(args) > 1 else args[0])
        return func(*args, **(kwargs or {}))


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    cls: type[LanguageModel]
    fields: tuple[str, ...]             # the ModelConfig fields this model is built from
    defaults: dict = field(default_factory=dict)
    fixed: dict = field(default_factory=dict)   # constructor arguments that make it this model (cell="lstm")

    @property
    def trains_by_counting(self) -> bool:
        return self.cls.trains_by_counting

    @property
    def batch_kind(self) -> str:
        return self.cls.batch_kind

    def _make(self, cfg: ModelConfig, vocab_size: int, pad: int) -> LanguageModel:
        args = {f: getattr(cfg, f) for f in self.fields if f not in BUILT_HERE}
        return self.cls(vocab_size, pad, **self.fixed, **args)

    def count_params(self, cfg: ModelConfig, vocab_size: int, pad: int | None = 0) -> int:
        """The model's size without allocating its weights (on the meta device)."""
        self.check(cfg)
        with torch.device("meta"), _NoInit():
            return self._make(cfg, vocab_size, 0 if pad is None else pad).num_params()

    def check_size(self, cfg: ModelConfig, vocab_size: int, pad: int | None = 0) -> int:
        """The parameter count, or one sentence if it is over the limit. Each size is within its bounds,
        yet together they can ask for billions (LSTM hidden 8192 x 32 layers): counted on the meta
        device, which allocates nothing."""
        n = self.count_params(cfg, vocab_size, pad)
        if n > MAX_PARAMS:
            raise SeqlmError(f"this {self.name} would have {n:,} parameters; the limit is {MAX_PARAMS:,} "
                             "(make it smaller: hidden, embedding, layers or block size).")
        return n

    def build(self, cfg: ModelConfig, vocab_size: int, pad: int | None = 0) -> LanguageModel:
        n = self.check_size(cfg, vocab_size, pad)
        try:
            model = self._make(cfg, vocab_size, 0 if pad is None else pad)
        except (RuntimeError, MemoryError) as err:
            if isinstance(err, RuntimeError) and "alloc" not in str(err).lower():
                raise
            raise SeqlmError(f"not enough memory for this {self.name} ({n:,} parameters); make it smaller.") from None
        if "init" in self.fields and cfg.init == "randn":
            plain_randn(model)
        return model

    def check(self, cfg: ModelConfig) -> None:
        if "heads" in self.fields and cfg.emb % cfg.heads:
            raise FieldError(f"embedding {cfg.emb} must be divisible by heads {cfg.heads}.", "model.heads")
        if "heads" in self.fields and (cfg.emb // cfg.heads) % 2:
            raise FieldError(f"embedding / heads must be even for rotary positions "
                             f"({cfg.emb} / {cfg.heads} is odd).", "model.heads")


def plain_randn(model: LanguageModel) -> None:
    """The seed's MLP post draws every parameter from N(0, 1) (``torch.randn``), biases and embedding
    included, from the global generator (seeded by the run). Its first loss is far above ln V: the logits
    are large and confidently wrong, and many tanh units start saturated (makemore part 3 fixes both)."""
    with torch.no_grad():
        for p in model.parameters():
            p.normal_()


_RNN_FIELDS = ("hidden", "layers", "dropout", "one_hot", "emb", "init")
_RNN_DEFAULTS = {"hidden": 256, "layers": 1, "one_hot": True, "emb": 32, "dropout": 0.0}

MODELS: dict[str, ModelSpec] = {s.name: s for s in [
    ModelSpec("bigram-counts", "Bigram (counts)", BigramCounts, ("smoothing",), {"smoothing": 1.0}),
    ModelSpec("bigram-neural", "Bigram (neural)", BigramNeural, ("init",)),
    ModelSpec("mlp", "MLP (Bengio et al.)", MLP, ("block_size", "emb", "hidden", "init"),
              {"block_size": 3, "emb": 10, "hidden": 200}),
    ModelSpec("elman", "Elman RNN (from scratch)", ElmanLM, ("hidden", "one_hot", "emb", "init"),
              {"hidden": 32, "one_hot": True, "emb": 32}),
    ModelSpec("rnn", "torch RNN", TorchRNNLM, _RNN_FIELDS, _RNN_DEFAULTS, {"cell": "rnn"}),
    ModelSpec("lstm", "LSTM", TorchRNNLM, (*_RNN_FIELDS, "forget_bias"), {**_RNN_DEFAULTS, "forget_bias": 0.0},
              {"cell": "lstm"}),
    ModelSpec("gru", "GRU", TorchRNNLM, _RNN_FIELDS, _RNN_DEFAULTS, {"cell": "gru"}),
    ModelSpec("transformer", "Transformer (tiny)", TransformerLM,
              ("emb", "heads", "layers", "block_size", "dropout", "init"),
              {"emb": 64, "heads": 4, "layers": 4, "block_size": 32, "dropout": 0.0}),
]}


def get(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise SeqlmError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}.") from None


def spec_of(model: LanguageModel) -> ModelSpec | None:
    """The registry entry a built model comes from."""
    for spec in MODELS.values():
        if type(model) is spec.cls and all(getattr(model, k, None) == v for k, v in spec.fixed.items()):
            return spec
    return None


def defaults_for(name: str) -> ModelConfig:
    """A ModelConfig holding this model's own defaults."""
    return replace(ModelConfig(model=name), **get(name).defaults)


def build(cfg: ModelConfig, vocab_size: int, pad: int | None = 0) -> LanguageModel:
    return get(cfg.model).build(cfg, vocab_size, pad)
