"""Command-line flags derived from the config dataclasses, and the checks that no typed flag goes unused.

A config flag's default is left out of the parsed arguments (``argparse.SUPPRESS``): whatever is in them
was typed. Presets and the model's own defaults fill the rest, and only what the user typed is judged.
"""

from __future__ import annotations

import argparse
from dataclasses import fields
from typing import Any

from seqlm_tui.cli.errors import UsageError
from seqlm_tui.core import presets
from seqlm_tui.core.config import SECTIONS, ModelConfig, RunConfig, field_spec, field_type, flag, parse_value
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.models import registry
from seqlm_tui.core.rules import models_using, unused_reason
from seqlm_tui.core.run import cpu_cores


def _default_text(section: str, f) -> str:
    if section == "model" and f.name != "model":
        users = models_using(f.name)
        values: dict[str, list[str]] = {}
        for m in users:
            v = registry.MODELS[m].defaults.get(f.name, f.default)
            values.setdefault(f"{v:g}" if isinstance(v, float) else str(v), []).append(m)
        shown = "; ".join(f"{'/'.join(ms)} {v}" for v, ms in values.items())
        return f"for {', '.join(users)}; default {shown}" if users else "used by no model"
    if f.name == "model":
        return "default elman"
    v = f.default
    return f"default {v:g}" if isinstance(v, float) else f"default {v!r}" if isinstance(v, str) else f"default {v}"


def _typed(f):
    def convert(text: str):
        try:
            return parse_value(f, text)
        except SeqlmError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    convert.__name__ = field_type(f).__name__
    return convert


def add_config_flags(p: argparse.ArgumentParser, sections=("data", "model", "train"), skip=(),
                     prefix: str = "") -> None:
    """One flag per config field, its help saying what it does, its default and which models use it.
    ``prefix`` keeps the app's own flags (before any command) apart from a command's (``app_flags``)."""
    for section in sections:
        group = p.add_argument_group(f"{section} options" + (" (the app's starting setup)" if prefix else ""))
        for f in fields(SECTIONS[section]):
            if f.name in skip:
                continue
            m = f.metadata
            dest = f"{prefix}{section}.{f.name}"
            text = f"{m['help']} ({_default_text(section, f)}; a --preset may set it)"
            if field_type(f) is bool:
                group.add_argument(flag(f), dest=dest, action=argparse.BooleanOptionalAction,
                                   default=argparse.SUPPRESS, help=text)
                continue
            choices = list(registry.MODELS) if f.name == "model" else m.get("choices")
            group.add_argument(flag(f), dest=dest, type=_typed(f), default=argparse.SUPPRESS, help=text,
                               choices=choices, metavar=None if choices else f.name.upper())


def explicit(args: argparse.Namespace) -> dict[str, Any]:
    """The config flags typed, as {"section.name": value}."""
    return {k: v for k, v in vars(args).items() if "." in k}


def nest(values: dict[str, Any]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for key, v in values.items():
        section, name = key.split(".")
        out.setdefault(section, {})[name] = v
    return out


def typed_keys(args: argparse.Namespace) -> dict[str, Any]:
    """The typed config flags, with what they imply: a ``--file`` alone means ``--dataset file``."""
    values = explicit(args)
    if "data.file" in values and "data.dataset" not in values:
        values["data.dataset"] = "file"
    if "train.steps" in values and "train.epochs" in values:
        raise UsageError("give --steps or --epochs, not both.")
    if "train.epochs" in values and not values["train.epochs"] > 0:
        raise UsageError(f"--epochs must be more than 0, not {values['train.epochs']:g} (leave it out to count "
                         "in --steps).")
    if values.get("train.threads", 0) > (cores := cpu_cores()):
        raise UsageError(f"--threads {values['train.threads']} is more than this machine's {cores} CPU "
                         f"core{'s' if cores > 1 else ''}; give at most {cores} (0: torch's default).")
    return values


APP = "app:"  # the prefix of the app's own flags' names in the parsed arguments


def app_flags(args: argparse.Namespace) -> argparse.Namespace:
    """The flags typed before any command (the app's starting setup), taken out of ``args`` and returned
    as a namespace of their own that the functions here read like a command's. Given to a command, they
    are refused: each command has its own, after its name."""
    mine = {k[len(APP):]: v for k, v in vars(args).items() if k.startswith(APP)}
    for k in list(vars(args)):
        if k.startswith(APP):
            delattr(args, k)
    if args.command is not None and mine:
        first = "--preset" if "preset" in mine else "--checkpoint-dir" if "checkpoint_dir" in mine \
            else flag_of(next(iter(mine)))
        raise UsageError(f"{first} before a command sets up the app; put it after '{args.command}'.")
    return argparse.Namespace(**mine)


def config_from_args(args: argparse.Namespace, base: RunConfig | None = None) -> RunConfig:
    """Preset (or ``base``), then the model's defaults, then the flags the user gave; every typed flag
    must be one the resulting configuration uses."""
    values = typed_keys(args)
    if base is not None:
        cfg = base.copy()
    else:
        cfg = presets.config_for(getattr(args, "preset", None), values.get("model.model"))
    cfg = presets.apply(cfg, nest(values))
    if values.get("train.time_budget") and not {"train.steps", "train.epochs"} & values.keys():
        # A budget typed alone is the length of the run: the preset's steps would end it first.
        cfg.train.steps, cfg.train.epochs = field_spec("train", "steps").metadata["hi"], 0.0
    if cfg.data.dataset == "file" and not cfg.data.file.strip():
        raise UsageError("--dataset file needs --file PATH (the text file to train on).")
    refuse_unused(cfg, values)
    return cfg


def app_start_config(args: argparse.Namespace) -> RunConfig | None:
    """The app's starting setup from its flags: a preset and its overrides (with neither a preset nor a
    model, the overrides apply to the app's own start); None when none was typed."""
    from seqlm_tui.core.rules import validate
    from seqlm_tui.tui.app import DEFAULT_PRESET

    typed = set(vars(args)) - {"checkpoint_dir"}
    if not typed:
        return None
    own_start = "preset" not in typed and "model.model" not in typed
    return validate(config_from_args(args, base=presets.config_for(DEFAULT_PRESET) if own_start else None))


def as_flags(args: argparse.Namespace) -> list[str]:
    """The preset and the typed config flags of ``args`` written out again, for another process to read
    (``serve`` passes its starting setup to each session's app this way)."""
    out = ["--preset", args.preset] if getattr(args, "preset", None) else []
    for key, value in explicit(args).items():
        name = flag_of(key)
        if isinstance(value, bool):
            out.append(name if value else "--no-" + name[2:])
        else:
            out += [name, repr(value) if isinstance(value, float) else str(value)]
    return out


def flag_of(key: str) -> str:
    section, name = key.split(".")
    return next(flag(f) for f in fields(SECTIONS[section]) if f.name == name)


def refuse_unused(cfg: RunConfig, keys) -> None:
    for key in keys:
        reason = unused_reason(cfg, key)
        if reason:
            raise UsageError(f"{flag_of(key)} {reason}.")


# What a resumed run cannot change: its data (the vocabulary and the split) and its architecture.
# --file may move (it is checked to be the same data), dropout may change (it is not a weight).
FIXED_ON_RESUME = ("data.dataset", "data.mode", "data.memory_length",
                   *(f"model.{f.name}" for f in fields(ModelConfig) if f.name != "dropout"))


def resume_config(args: argparse.Namespace, cfg: RunConfig, where: str) -> RunConfig:
    """The resumed run's config with the typed flags applied; a flag that would change what the weights
    are is refused (the weights could not be that model)."""
    values = typed_keys(args)
    if getattr(args, "preset", None):
        raise UsageError("--preset cannot be used with --resume: the run already has its settings "
                         "(change them with their own flags).")
    if "data.file" in values and cfg.data.dataset != "file":
        raise UsageError(f"--file does not apply: the run resumed from {where} was trained on {cfg.data.dataset}.")
    for key in FIXED_ON_RESUME:
        if key in values:
            section, name = key.split(".")
            had = getattr(getattr(cfg, section), name)
            if values[key] != had:
                raise UsageError(f"{flag_of(key)} {values[key]} would change the architecture or data of the run "
                                 f"resumed from {where} (it has {had}); train a new run instead of resuming.")
    return config_from_args(args, base=cfg)
