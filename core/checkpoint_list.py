"""The checkpoint folder as the browser lists it: a row per file from its card alone (no weights read),
with what can be checked cheaply (the file's size against the card's promise, the archive's last record)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seqlm_tui.core.checkpoint import SUFFIX, default_dir, open_file, read_card
from seqlm_tui.core.errors import SeqlmError


@dataclass
class CheckpointInfo:
    path: Path
    dataset: str
    model: str
    step: int
    dev_loss: float | None
    created: str
    kept: str = ""
    error: str | None = None   # why it cannot be loaded, in a sentence
    reason: str = ""           # the same in a word or two, for a row of a listing


ZIP_END = b"PK\x05\x06"  # the record that closes a zip archive (torch.save's format), 22 bytes from its end
WEIGHT_BYTES = 4          # every parameter is a float32


def check_whole(path: Path, card: dict) -> None:
    """What can be checked without reading the weights: the file is as long as the card's parameter count
    promises, and the archive ends with its closing record (a file cut short anywhere has none)."""
    try:
        size = path.stat().st_size
        with open_file(path) as f:
            f.seek(max(0, size - 22))
            tail = f.read(22)
    except OSError as err:
        raise SeqlmError(f"{path} cannot be read ({err.strerror}).") from None
    params = card.get("params")
    need = params * WEIGHT_BYTES if isinstance(params, int) and params > 0 else 0
    if size < need:
        raise SeqlmError(f"{path} is truncated: {size:,} bytes, and the weights of its {params:,} parameters "
                         f"alone take {need:,}.")
    if not tail.startswith(ZIP_END):
        raise SeqlmError(f"{path} is truncated or damaged: its archive does not end where a whole one does.")


REASONS = (("truncated or damaged", "truncated or damaged"), ("truncated", "truncated"), ("damaged", "damaged"),
           ("refused", "refused: it would run code"), ("format version", "another format version"),
           ("not a seqlm-tui", "not a checkpoint"), ("cannot be read", "cannot be read"))


def info(path: Path) -> CheckpointInfo:
    """One browser row (the card only: no weights are read from a version 2 file)."""
    try:
        d = read_card(path)
        check_whole(path, d)
        rule = d.get("kept") or {}
        return CheckpointInfo(path, str(d["config"]["data"]["dataset"]), str(d["config"]["model"]["model"]),
                              int(d.get("step", 0)), (d.get("metrics") or {}).get("dev_loss"),
                              str(d.get("created", "")), str(rule.get("rule", "")) if isinstance(rule, dict) else "")
    except (SeqlmError, KeyError, TypeError, ValueError, AttributeError) as err:
        why = str(err) if isinstance(err, SeqlmError) else f"{path} has a damaged card ({type(err).__name__})."
        reason = next((short for word, short in REASONS if word in why), "unreadable")
        return CheckpointInfo(path, "?", "?", 0, None, "", error=why, reason=reason)


def listing(folder: str | Path | None = None) -> list[Path]:
    """The checkpoint files of a folder, newest first (temp files of saves in progress left out)."""
    folder = Path(folder) if folder else default_dir()
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob(f"*{SUFFIX}") if not p.name.startswith(".")]
    return sorted(found, key=_mtime, reverse=True)


def browse(folder: str | Path | None = None) -> list[CheckpointInfo]:
    """Checkpoints in a folder, newest first; unreadable files are listed with their problem."""
    return [info(p) for p in listing(folder)]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # deleted since it was listed
        return 0.0
