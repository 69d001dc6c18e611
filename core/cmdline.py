"""The command line that does what a configuration does: ``seqlm-tui train --preset X --lr 0.01 ...``.

The app shows it (the palette's "command line for this setup", every lesson step), so that a learner can
leave the app for a script. Only the settings the run uses are written (the command line refuses a flag that
would do nothing, core/rules.py), and only those that differ from the preset or the model's defaults; the
shortest of the candidates (no preset, or each preset of the same model) is the one given.
"""

from __future__ import annotations

import shlex
from dataclasses import fields

from seqlm_tui.core import presets
from seqlm_tui.core.config import SECTIONS, RunConfig, flag, parse_value
from seqlm_tui.core.rules import used

# What each command takes of a configuration (the rest are flags of `train` only; cli/parser.py).
TRAIN_ONLY = {"steps", "epochs", "eval_every", "eval_cap", "schedule", "decay_at", "warmup", "overfit_batch"}
SKIPPED = {"train": set(), "sweep": TRAIN_ONLY | {"lr"}, "compare": {"lr", "steps", "epochs", "eval_every"}}


def _value(f, v) -> str:
    """The value as typed, and typed back to the same value (``parse_value`` is what the CLI reads with)."""
    if isinstance(v, float):
        text = f"{v:g}"
        return text if parse_value(f, text) == v else repr(v)
    return shlex.quote(str(v))


def flags(cfg: RunConfig, base: RunConfig, command: str = "train") -> list[str]:
    """The flags that turn ``base`` into ``cfg`` for ``command``: each used setting that differs."""
    out: list[str] = []
    skip = SKIPPED.get(command, set())
    for section, kind in SECTIONS.items():
        for f in fields(kind):
            v, b = getattr(getattr(cfg, section), f.name), getattr(getattr(base, section), f.name)
            if v == b or f.name in skip or not used(cfg, f"{section}.{f.name}"):
                continue
            if f.name == "dataset" and v == "file":
                continue  # --file says it
            if isinstance(v, bool):
                out.append(flag(f) if v else "--no-" + flag(f)[2:])
            else:
                out.append(f"{flag(f)} {_value(f, v)}")
    return out


def _words(cfg: RunConfig, command: str, preset: str | None) -> list[str] | None:
    """The words after the command with this preset (or none), or None if the command line cannot say it
    that way (steps where the preset counts epochs: it refuses --steps beside --epochs)."""
    base = presets.config_for(preset, cfg.model.model)
    if cfg.train.epochs == 0 and base.train.epochs > 0 and command == "train":
        return None
    preset_model = presets.get(preset).get("model", {}).get("model") if preset else None
    words = [f"--preset {preset}"] if preset else []
    if cfg.model.model != (preset_model or "elman"):  # the model the command line would pick
        words.append(f"--model {cfg.model.model}")
    return words + [w for w in flags(cfg, base, command) if not w.startswith("--model ")]


def command_line(cfg: RunConfig, command: str = "train", preset: str | None = None, extra: str = "") -> str:
    """``seqlm-tui COMMAND [--preset P] FLAGS [EXTRA]`` doing what ``cfg`` does: with ``preset`` if it can say
    it that way, else the shortest of no preset and every preset of the same model."""
    tried = [_words(cfg, command, preset)] if preset else []
    if not tried or tried[0] is None:
        tried = [_words(cfg, command, p) for p in (None, *(p for p, (_, v) in presets.PRESETS.items()
                                                             if v.get("model", {}).get("model") == cfg.model.model))]
    best = min((w for w in tried if w is not None), key=lambda w: len(" ".join(w)))
    return " ".join(["seqlm-tui", command, *best, *([extra] if extra else [])])
