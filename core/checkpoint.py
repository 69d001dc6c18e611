"""Checkpoints: one file per run, plain tensors and containers only, written atomically.

Loading uses ``torch.load(weights_only=True)``: a file that would run code is refused, not run.
"""

from __future__ import annotations

import glob
import os
import pickle
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import torch

from core.config import RunConfig, validate
from core.errors import SeqlmError
from core.history import History
from core.models import registry
from core.run import Run, resolve_device
from core.vocab import Vocab

FORMAT = "seqlm-tui"
VERSION = 1
SUFFIX = ".pt"
TMP_SUFFIX = ".tmp"


def default_dir() -> Path:
    return Path(os.environ.get("SEQLM_CHECKPOINT_DIR") or "checkpoints")


def _plain(obj):
    """Optimizer state holds only tensors, numbers and containers; make sure nothing else slips in."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def to_payload(run: Run) -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "config": run.cfg.to_dict(),
        "vocab": run.vocab.to_dict(),
        "dataset": run.dataset_info,
        "model_state": {k: v.detach().cpu() for k, v in run.model.state_dict().items()},
        "optimizer_state": _plain(run.optimizer_state) if run.optimizer_state else None,
        "step": run.step,
        "history": run.history.to_dict(),
        "metrics": {k: float(v) for k, v in run.metrics.items() if v is not None},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive, not ours to judge
        return True
    return True


def _remove_leftovers(path: Path) -> None:
    """Delete temp files that saves of ``path`` killed mid-write (kill -9, power loss) left behind;
    a save still running in another process (its pid alive) keeps its file."""
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*{TMP_SUFFIX}"):
        parts = tmp.name[len(path.name) + 2:-len(TMP_SUFFIX)].split(".")  # [pid, random] or [random]
        if len(parts) > 2 or (len(parts) == 2 and not parts[0].isdigit()):
            continue  # a temp file of another name that starts with this one ("run.pt.old.pt")
        if len(parts) == 2 and _alive(int(parts[0])):
            continue
        try:
            tmp.unlink()
        except OSError:
            pass


def save(run: Run, path: str | Path) -> Path:
    """Write the run to ``path`` atomically (temp file in the same folder, fsync, rename)."""
    path = Path(path).expanduser()
    if path.suffix != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    if path.is_dir():
        raise SeqlmError(f"{path} is a folder; give a file name for the checkpoint.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(path)
        # The pid in the name tells a save in progress from the leftover of a killed one.
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=TMP_SUFFIX, dir=path.parent)
    except OSError as err:
        raise SeqlmError(f"cannot write a checkpoint in {path.parent} ({err.strerror}).") from None
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(to_payload(run), f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError as err:
        raise SeqlmError(f"could not save the checkpoint to {path} ({err.strerror}); "
                         "nothing was overwritten.") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_payload(path: str | Path) -> dict:
    """The checkpoint's contents, checked for format and version; never runs code from the file."""
    path = Path(path).expanduser()
    if not path.exists():
        raise SeqlmError(f"{path}: no such checkpoint.")
    if path.is_dir():
        raise SeqlmError(f"{path} is a folder, not a checkpoint file.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "global" in str(err).lower():
            raise SeqlmError(f"{path} is refused: it holds Python objects other than plain data "
                             "(a checkpoint may not run code when loaded).") from None
        raise SeqlmError(f"{path} is not a readable seqlm-tui checkpoint (truncated or damaged).") from None
    except Exception:  # torch.load raises many kinds on damaged files (zip, struct, EOF, runtime...)
        raise SeqlmError(f"{path} is not a readable seqlm-tui checkpoint (truncated or damaged).") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise SeqlmError(f"{path} is not a seqlm-tui checkpoint.")
    if payload.get("version") != VERSION:
        raise SeqlmError(f"{path} has checkpoint format version {payload.get('version')}; "
                         f"this seqlm-tui reads version {VERSION}.")
    return payload


def load(path: str | Path, device: str = "auto") -> Run:
    """Rebuild a run (config, vocabulary, model weights, step, history) from a checkpoint."""
    payload = read_payload(path)
    try:
        cfg = validate(RunConfig.from_dict(payload["config"]))
        vocab = Vocab.from_dict(payload["vocab"])
        model = registry.build(cfg.model, len(vocab), vocab.boundary)
        model.load_state_dict(payload["model_state"])
    except SeqlmError as err:
        raise SeqlmError(f"{path} has an invalid configuration: {err}") from None
    except (KeyError, TypeError, RuntimeError):
        raise SeqlmError(f"{path} does not match its own model description (damaged or edited).") from None
    model.to(resolve_device(device))
    return Run(cfg, vocab, model, payload.get("dataset") or {}, int(payload.get("step", 0)),
               History.from_dict(payload.get("history")), payload.get("optimizer_state"),
               dict(payload.get("metrics") or {}))


@dataclass
class CheckpointInfo:
    path: Path
    dataset: str
    model: str
    step: int
    dev_loss: float | None
    created: str
    error: str | None = None


def browse(folder: str | Path | None = None) -> list[CheckpointInfo]:
    """Checkpoints in a folder, newest first; unreadable files are listed with their problem."""
    folder = Path(folder) if folder else default_dir()
    if not folder.is_dir():
        return []
    out = []
    for p in folder.glob(f"*{SUFFIX}"):
        if p.name.startswith("."):
            continue  # a temp file of a save in progress
        try:
            d = read_payload(p)
            out.append(CheckpointInfo(p, d["config"]["data"]["dataset"], d["config"]["model"]["model"],
                                      int(d.get("step", 0)), (d.get("metrics") or {}).get("dev_loss"),
                                      d.get("created", "")))
        except (SeqlmError, KeyError, TypeError, ValueError, AttributeError) as err:
            out.append(CheckpointInfo(p, "?", "?", 0, None, "", str(err)))
    out.sort(key=lambda c: _mtime(c.path), reverse=True)
    return out


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # deleted since it was listed
        return 0.0

