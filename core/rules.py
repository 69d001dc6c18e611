"""The rules that tie the fields of a run's configuration together: which values are valid as a whole
(``validate``, and ``check_fits`` once the data is loaded), and which fields a given configuration actually
uses (``unused_reason``). A rule that two fields break names the one that can fix it (``FieldError.key``).

The command line refuses a flag that would do nothing; the app's Setup hides such a field. Both ask here,
so that the two front ends cannot disagree about what a setting does.
"""

from __future__ import annotations

from dataclasses import fields

from seqlm_tui.core.config import SECTIONS, RunConfig, check_value, field_spec, label
from seqlm_tui.core.errors import FieldError, SeqlmError
from seqlm_tui.core.models import registry

STREAM_DATASETS = ("timemachine",)


def validate(cfg: RunConfig) -> RunConfig:
    """Check every field and the rules that tie fields together. Returns ``cfg`` for chaining."""
    for section, kind in SECTIONS.items():
        part = getattr(cfg, section)
        for f in fields(kind):
            check_value(f, getattr(part, f.name))
    if cfg.model.model not in registry.MODELS:
        raise SeqlmError(f"unknown model {cfg.model.model!r}; choose one of {', '.join(registry.MODELS)}.")
    if cfg.data.dataset == "file" and not cfg.data.file.strip():
        raise FieldError("dataset 'file' needs a file path.", "data.file")
    registry.MODELS[cfg.model.model].check(cfg.model)
    return cfg


def check_fits(cfg: RunConfig, ds) -> None:
    """The rules that need the data (``ds``, a loaded ``Dataset``): the model's context and a minibatch
    must fit in the training split. The trainer checks them before it starts; the app's Setup as soon as
    the data is loaded, at the field that fixes them."""
    spec = registry.get(cfg.model.model)
    split, batch = ds.splits["train"], cfg.data.batch_size
    if spec.batch_kind == "window":
        block = cfg.model.block_size if "block_size" in spec.fields else 1
        n = split.n_windows(block, ds.pad)
        if n == 0:
            raise FieldError(f"block size {block} is longer than any item of the data.", "model.block_size")
        what = f"{n:,} examples"
    elif split.is_stream:
        steps, tokens = cfg.data.num_steps, split.tokens.numel()
        if (tokens - 1) // batch < steps or (tokens - 1 - steps) // batch // steps < 1:
            raise FieldError(f"batch size {batch} x sequence length {steps} needs more text than the training "
                             f"split has ({tokens:,} tokens); make them smaller.", "data.batch_size")
        return
    else:
        n, what = split.n_items, f"{split.n_items:,} examples"
    if spec.trains_by_counting:
        return
    if batch > n:
        raise FieldError(f"batch size {batch} is larger than the training split ({what}).", "data.batch_size")


def is_stream(cfg: RunConfig) -> bool:
    d = cfg.data
    return d.dataset in STREAM_DATASETS or (d.dataset == "file" and d.mode == "stream")


def models_using(name: str) -> list[str]:
    return [m for m, spec in registry.MODELS.items() if name in spec.fields]


def unused_reason(cfg: RunConfig, key: str) -> str | None:
    """None if field ``key`` ("section.name") changes what ``cfg`` does; else why it does not, as the end of
    a sentence whose subject is the field ("is not used by the Transformer ...")."""
    section, name = key.split(".")
    field_spec(section, name)  # KeyError for a field that does not exist
    spec = registry.MODELS.get(cfg.model.model)
    counting = spec is not None and spec.trains_by_counting
    d, t = cfg.data, cfg.train
    if section == "data":
        if name in ("file", "mode") and d.dataset != "file":
            return f"is read only for the dataset 'file', not {d.dataset}"
        if name == "memory_length" and d.dataset != "memory":
            return f"is for the dataset 'memory', not {d.dataset}"
        if name in ("num_steps", "partition") and not is_stream(cfg):
            return "applies to stream data only (timemachine, or a file in stream mode)"
        if name == "pack" and is_stream(cfg):
            return "applies to items (names, lines), not stream data"
        if name in ("num_steps", "partition", "pack") and spec is not None and spec.batch_kind == "window":
            return f"is not used by the {spec.name} model, which reads fixed windows (block size)"
        if name == "batch_size" and counting:
            return "is not used by the count-based bigram, which counts every pair at once"
        return None
    if section == "model":
        if spec is None or name == "model":
            return None
        if name not in spec.fields:
            users = ", ".join(models_using(name)) or "no model"
            return f"is not used by the {spec.name} model (it applies to {users})"
        if name == "emb" and "one_hot" in spec.fields and cfg.model.one_hot:
            return "is not used with one-hot input (turn it off, --no-one-hot, to learn an embedding)"
        if name == "dropout" and "layers" in spec.fields and spec.name != "transformer" and cfg.model.layers < 2:
            return f"is applied between layers by the {spec.name} model: it needs 2 layers or more"
        return None
    # train
    if counting and name not in ("device", "threads", "eval_cap"):
        what = label(field_spec(section, name))
        return f"is not used by the count-based bigram, which learns by counting (no {what})"
    if name == "momentum" and t.optimizer != "momentum":
        return f"is used by the optimizer 'momentum' only, not {t.optimizer}"
    if name == "decay_at" and t.schedule != "step":
        return f"is used by the schedule 'step' only, not {t.schedule}"
    if name == "warmup" and t.schedule != "cosine":
        return f"is used by the schedule 'cosine' only, not {t.schedule}"
    if name == "steps" and t.epochs > 0:
        return "is decided by epochs when epochs is set"
    return None


def used(cfg: RunConfig, key: str) -> bool:
    return unused_reason(cfg, key) is None


# -- seqlm-tui inspect ----------------------------------------------------------------------------
LOOK_OPTIONS = {"prompt": ("neurons", "attention"), "unit": ("neurons",), "find": ("neurons",),
                "cell": ("neurons",), "guesses": ("neurons",), "head": ("attention",),
                "layer": ("neurons", "attention")}


def inspect_unused(model: str, view: str, option: str) -> str | None:
    """None if the option ``option`` of ``seqlm-tui inspect`` does something when it draws ``view``
    ("neurons", "attention", or "" for the embedding map and bigram table) of a model named ``model``;
    else why not, as the end of a sentence whose subject is the option."""
    spec = registry.MODELS.get(model)
    if option in ("embeddings", "bigram", "row"):
        return f"does not go with --{view}: inspect draws one kind of picture at a time" if view else None
    views = LOOK_OPTIONS[option]
    if view not in views:
        return "is read only with " + " or ".join(f"--{v}" for v in views)
    if spec is None:
        return None
    if option == "cell" and spec.fixed.get("cell") != "lstm":
        return f"is for an LSTM's cell state; the {spec.name} model has none"
    if option == "layer" and view == "neurons" and "layers" not in spec.fields:
        return f"is not used by the {spec.name} model, which has one hidden layer"
    return None
