"""Run configuration: three dataclasses whose field metadata drives validation, CLI flags,
the app's form and checkpoint metadata, so that each hyperparameter is described exactly once."""

from __future__ import annotations

import math
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from typing import Any

from seqlm_tui.core.errors import SeqlmError

DATASETS = ("counting", "names", "timemachine", "memory", "file")
INITS = ("torch", "randn")


def param(default: Any, help: str, *, lo: float | None = None, hi: float | None = None,
          choices: tuple[str, ...] | None = None, label: str | None = None,
          positive: bool = False, flag: str | None = None) -> Any:
    """A config field with what the CLI, the form and the validator need to know about it.

    ``positive`` means strictly greater than ``lo`` (used for learning rates and the like).
    """
    meta = {"help": help, "lo": lo, "hi": hi, "choices": choices, "label": label, "positive": positive,
            "flag": flag}
    return field(default=default, metadata=meta)


@dataclass
class DataConfig:
    dataset: str = param("counting", "dataset", choices=DATASETS)
    file: str = param("", "path of a UTF-8 text file (dataset 'file')", label="file path")
    mode: str = param("lines", "how a text file is read: one item per line, or one stream",
                      choices=("lines", "stream"))
    batch_size: int = param(32, "examples per minibatch", lo=1, hi=1_000_000, label="batch size")
    num_steps: int = param(35, "sequence length of a minibatch on stream data", lo=1, hi=4096,
                           label="sequence length")
    memory_length: int = param(10, "symbols to read before recalling the first one (dataset 'memory')",
                               lo=1, hi=512, label="memory length")
    partition: str = param("sequential", "stream minibatches: sequential (state carried) or random",
                           choices=("sequential", "random"))
    pack: bool = param(False, "train on items (names, lines) packed end to end: a row starts at an item and "
                       "runs on into the next, no padding (evaluated item by item)",
                       label="pack items")


@dataclass
class ModelConfig:
    model: str = param("elman", "model name from the registry")
    emb: int = param(10, "embedding size", lo=1, hi=4096, label="embedding")
    hidden: int = param(32, "hidden size", lo=1, hi=8192)
    layers: int = param(1, "number of layers", lo=1, hi=32)
    heads: int = param(4, "attention heads", lo=1, hi=64)
    block_size: int = param(3, "context length (MLP window, Transformer attention window)",
                            lo=1, hi=1024, label="block size")
    one_hot: bool = param(True, "one-hot input instead of a learned embedding", label="one-hot input")
    dropout: float = param(0.0, "dropout probability", lo=0.0, hi=0.9)
    smoothing: float = param(1.0, "add-k smoothing of the bigram count table", lo=0.0, hi=1e6)
    forget_bias: float = param(0.0, "added to the LSTM forget gate's initial bias (3 helps it remember "
                               "over long sequences)", lo=-10.0, hi=10.0, label="forget bias")
    init: str = param("torch", "initial weights: torch's defaults (scaled to each layer), or randn: every "
                      "parameter from N(0, 1) as in the seed's MLP post (first loss far above ln V)",
                      choices=INITS)


@dataclass
class TrainConfig:
    optimizer: str = param("sgd", "optimizer", choices=("sgd", "momentum", "adam", "adamw"))
    lr: float = param(0.1, "learning rate", lo=0.0, hi=1000.0, positive=True, label="learning rate")
    momentum: float = param(0.9, "momentum (optimizer 'momentum')", lo=0.0, hi=0.9999)
    weight_decay: float = param(0.0, "weight decay", lo=0.0, hi=10.0, label="weight decay")
    schedule: str = param("constant", "learning-rate schedule", choices=("constant", "step", "cosine"),
                          flag="lr-schedule")
    decay_at: int = param(0, "step of the x0.1 decay for schedule 'step' (0: half-way)", lo=0,
                          hi=100_000_000, label="decay at")
    warmup: int = param(0, "linear warm-up steps (schedule 'cosine')", lo=0, hi=100_000_000)
    clip: float = param(0.0, "gradient-norm clipping (0: off)", lo=0.0, hi=1e6)
    steps: int = param(1000, "optimisation steps", lo=1, hi=100_000_000)
    epochs: float = param(0.0, "epochs over the training split; overrides steps when > 0", lo=0.0, hi=1e6)
    time_budget: float = param(0.0, "seconds of training, the schedule fitted to them (0: off); steps or epochs "
                               "still cap it, unless --time-budget is typed alone", lo=0.0, hi=1e6, label="time budget")
    eval_every: int = param(200, "steps between dev evaluations and samples", lo=1, hi=100_000_000,
                            label="eval every")
    eval_cap: int = param(100_000, "at most this many dev targets per evaluation (0: the whole split)",
                          lo=0, hi=1_000_000_000, label="eval cap")
    seed: int = param(42, "random seed", lo=0, hi=2**32 - 1)
    device: str = param("auto", "device", choices=("auto", "cpu", "cuda"))
    threads: int = param(0, "CPU threads for torch (0: torch's default; in the app, all cores but one)", lo=0, hi=1024)
    overfit_batch: bool = param(False, "the same minibatch at every step: a model that cannot drive its loss "
                                "near zero on it has a bug (the dev loss shows the overfitting)",
                                label="overfit one batch")


@dataclass
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> RunConfig:
        """Rebuild from checkpoint metadata; unknown keys (from a newer version) are ignored."""
        if not isinstance(d, dict):
            raise SeqlmError("the configuration is not a table of values.")
        def build(kind, values):
            if values is not None and not isinstance(values, dict):
                raise SeqlmError(f"the {kind.__name__} part of the configuration is not a table of values.")
            known = {f.name for f in fields(kind)}
            return kind(**{k: v for k, v in (values or {}).items() if k in known})
        return cls(build(DataConfig, d.get("data")), build(ModelConfig, d.get("model")),
                   build(TrainConfig, d.get("train")))

    def copy(self) -> RunConfig:
        return RunConfig(replace(self.data), replace(self.model), replace(self.train))


SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


def field_spec(section: str, name: str):
    for f in fields(SECTIONS[section]):
        if f.name == name:
            return f
    raise KeyError(name)


def field_type(f) -> type:
    default = f.default if f.default is not MISSING else None
    return type(default)


def flag(f) -> str:
    """The command-line flag of a field (``--batch-size`` for ``batch_size``)."""
    return "--" + (f.metadata.get("flag") or f.name.replace("_", "-"))


def label(f) -> str:
    return f.metadata.get("label") or f.name.replace("_", " ")


def parse_value(f, text: str) -> Any:
    """Turn what a user typed into the field's type, or raise SeqlmError with one sentence."""
    kind = field_type(f)
    text = str(text).strip()
    name = label(f)
    if kind is bool:
        low = text.lower()
        if low in ("1", "true", "yes", "on", "y"):
            return True
        if low in ("0", "false", "no", "off", "n"):
            return False
        raise SeqlmError(f"{name} must be yes or no, not {_shown(text)}.")
    if kind is int:
        try:
            value = int(text.replace("_", "")) if text else None
        except ValueError:
            value = None
        if value is None:
            if text.lstrip("+-").replace("_", "").isdigit():  # past Python's 4,300-digit limit
                raise SeqlmError(f"{name} must be at most {_number(f.metadata.get('hi'))}, "
                                 "not a number that large.")
            raise SeqlmError(f"{name} must be a whole number, not {_shown(text)}.")
        return value
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise SeqlmError(f"{name} must be a number, not {_shown(text)}.") from None
    return text


def check_value(f, value: Any) -> None:
    """Raise SeqlmError if ``value`` is outside what field ``f`` admits."""
    m = f.metadata
    name = label(f)
    kind = field_type(f)
    # Exact types: a bool is an int to Python and "32" prints like 32, but either would break a model
    # far from here. An int is accepted where a float is wanted (lr 1).
    wrong = {bool: not isinstance(value, bool),
             int: isinstance(value, bool) or not isinstance(value, int),
             float: isinstance(value, bool) or not isinstance(value, (int, float)),
             str: not isinstance(value, str)}.get(kind, False)
    if wrong:
        what = {bool: "yes or no", int: "a whole number", float: "a number", str: "text"}[kind]
        raise SeqlmError(f"{name} must be {what}, not {_shown(value)}.")
    if m.get("choices") and value not in m["choices"]:
        raise SeqlmError(f"{name} must be one of {', '.join(m['choices'])}, not {_shown(value)}.")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise SeqlmError(f"{name} must be a finite number, not {value}.")
    lo, hi = m.get("lo"), m.get("hi")
    if lo is not None and (value < lo or (m.get("positive") and value <= lo)):
        word = "greater than" if m.get("positive") else "at least"
        raise SeqlmError(f"{name} must be {word} {_number(lo)}, not {_number(value)}.")
    if hi is not None and value > hi:
        raise SeqlmError(f"{name} must be at most {_number(hi)}, not {_number(value)}.")


def _number(value: int | float) -> str:
    if isinstance(value, int):  # exact (a seed bound of 4294967295, not 4.29497e+09)
        # A pasted 400-digit int would overflow float formatting (and str() past 4,300 digits).
        return str(value) if value.bit_length() <= 64 else "a number that large"
    return f"{value:g}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
