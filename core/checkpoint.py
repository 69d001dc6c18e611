"""Checkpoints: one file per run, plain tensors and containers only, written atomically and read back
before they take the place of anything.

A file (format version 2) is a short header line, a JSON card (what the run is: config, step, metrics,
which step was kept), then the ``torch.save`` archive of the whole run. The card lets the checkpoint
browser list hundreds of files without loading a single weight; the archive is read with
``torch.load(weights_only=True)``, so a file that would run code is refused, not run. Version 1 files
(the archive alone) are still read.
"""

from __future__ import annotations

import copy
import io
import json
import os
import pickle
import stat
import warnings
from datetime import datetime, timezone
from pathlib import Path

import torch

from seqlm_tui.core import faults, savetemp
from seqlm_tui.core.config import RunConfig
from seqlm_tui.core.datafiles import open_regular
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.history import History
from seqlm_tui.core.models import registry
from seqlm_tui.core.rules import validate
from seqlm_tui.core.run import Run, resolve_device
from seqlm_tui.core.vocab import Vocab

FORMAT = "seqlm-tui"
VERSION = 2
READABLE = (1, 2)
MAGIC = b"seqlm-tui checkpoint\n"
SUFFIX = ".pt"
CARD_LIMIT = 1 << 20
KEEP = ("best", "last")


def default_dir(override: str | Path | None = None) -> Path:
    """The checkpoint folder: ``override`` (``--checkpoint-dir``), else $SEQLM_CHECKPOINT_DIR, else ./checkpoints."""
    return Path(override or os.environ.get("SEQLM_CHECKPOINT_DIR") or "checkpoints").expanduser()


def check_folder(folder: Path) -> Path:
    """``folder`` if it is a folder or can become one; one sentence if a file stands in its way."""
    for p in (folder, *folder.parents):
        if p.exists():
            if not p.is_dir():
                raise SeqlmError(f"the checkpoint folder {folder} cannot be made: {p} is a file, not a folder.")
            break
    return folder


def fresh_name(run: Run, folder: Path) -> Path:
    """A new file name in ``folder`` for ``run`` (name, date and time; never an existing file)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path, n = folder / f"{run.name}-{stamp}{SUFFIX}", 1
    while path.exists():
        n += 1
        path = folder / f"{run.name}-{stamp}-{n}{SUFFIX}"
    return path


def target(path: str | Path, run: Run) -> Path:
    """Where a save of ``run`` to ``path`` goes: into a folder (an existing one, or a path ending in '/')
    under a fresh name; a symlink's own target (the link stays); ``.pt`` added when missing."""
    text = str(path)
    p = Path(text).expanduser()
    if p.is_dir() or text.endswith(("/", os.sep)):
        return fresh_name(run, p)
    if p.suffix != SUFFIX:
        p = p.with_name(p.name + SUFFIX)
    if p.is_symlink():
        p = Path(os.path.realpath(p))
    return p


def _writable_in_place(path: Path) -> None:
    """A save replaces an existing file only if the user could write to it: a file made read-only (0444,
    or another user's) is left alone, whatever the folder allows. Mode bits are read as well as asked
    about, because root passes every access check."""
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return  # nothing there to protect (the folder itself may not be writable: saving says so)
    except OSError as err:
        raise SeqlmError(f"cannot check {path} ({err.strerror}); nothing was written.") from None
    if not stat.S_ISREG(st.st_mode):
        raise SeqlmError(f"{path} exists and is not a regular file; nothing was written.")
    if not st.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise SeqlmError(f"{path} is read-only; it was left as it is.")


# -- what goes into a file -------------------------------------------------------------------------


def _cpu_copy(obj):
    """Tensors copied to the CPU (training may go on in another thread while the file is written)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _cpu_copy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_cpu_copy(v) for v in obj]
    return copy.copy(obj)


def _plain_metrics(metrics: dict) -> dict:
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _kept_snapshot(run: Run, keep: str):
    if keep not in KEEP:
        raise SeqlmError(f"keep must be one of {', '.join(KEEP)}, not {keep!r}.")
    return run.best if keep == "best" and run.best is not None and run.best.step != run.step else None


def kept(run: Run, keep: str = "last") -> dict:
    """Which weights a checkpoint of ``run`` holds: rule, step, its dev loss, and the steps trained."""
    best = _kept_snapshot(run, keep)
    if best is not None:
        return {"rule": "best", "step": best.step, "dev_loss": best.dev_loss, "trained_steps": run.step}
    rule = "best" if keep == "best" and run.best is not None else "last"
    return {"rule": rule, "step": run.step, "dev_loss": run.metrics.get("dev_loss"), "trained_steps": run.step}


def to_payload(run: Run, keep: str = "last") -> dict:
    """Everything a checkpoint holds, copied (safe to write while the run trains on). ``keep="best"`` stores
    the weights of the best dev evaluation when the trainer kept them and they are not the last."""
    best = _kept_snapshot(run, keep)
    if best is not None:
        step, model_state, opt_state, metrics = best.step, best.model_state, best.optimizer_state, best.metrics
    else:
        step, model_state, opt_state, metrics = run.step, run.model.state_dict(), run.optimizer_state, run.metrics
    return {
        "format": FORMAT,
        "version": VERSION,
        "config": run.cfg.to_dict(),
        "vocab": run.vocab.to_dict(),
        "dataset": copy.deepcopy(run.dataset_info),
        "model_state": _cpu_copy(dict(model_state)),
        "optimizer_state": _cpu_copy(opt_state) if opt_state else None,
        "step": step,
        "history": run.history.to_dict(),
        "metrics": _plain_metrics(metrics),
        "kept": kept(run, keep),
        "params": run.model.num_params(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


CARD_KEYS = ("format", "version", "config", "dataset", "step", "metrics", "kept", "params", "created")


def _card(payload: dict) -> bytes:
    card = {k: payload.get(k) for k in CARD_KEYS}
    return json.dumps(card, allow_nan=True).encode("utf-8")


# -- writing ---------------------------------------------------------------------------------------


def _check_read_back(tmp: str, payload: dict) -> None:
    """The file just written, loaded as any later load will: it must rebuild the same run."""
    try:
        back = load(tmp, device="cpu")
    except SeqlmError as err:
        raise SeqlmError(f"the new checkpoint did not read back ({err})") from None
    state = back.model.state_dict()
    same = (back.step == payload["step"] and back.cfg.to_dict() == payload["config"]
            and state.keys() == payload["model_state"].keys()
            and all(torch.equal(state[k].cpu(), v) for k, v in payload["model_state"].items()))
    if not same:
        raise SeqlmError("the new checkpoint did not read back as it was written")


class _Sink:
    """The file torch.save writes into, keeping what went wrong in a write: torch's archive writer turns an
    exception raised there (a full disk, a file-size limit, a signal's) into a RuntimeError that names
    neither, and the real one is what the user must hear (and a signal must still end the command)."""

    def __init__(self, f, path: Path) -> None:
        self.f, self.path, self.error, self.writes = f, path, None, 0

    def write(self, data) -> int:
        try:
            self.writes += 1
            if self.writes > 1:  # the disk fills in the middle of the archive
                faults.point("checkpoint.archive", path=self.path)
            return self.f.write(data)
        except BaseException as err:
            self.error = self.error or err
            raise

    def flush(self) -> None:
        try:
            self.f.flush()
        except BaseException as err:
            self.error = self.error or err
            raise


def _archive(payload: dict, f, path: Path) -> None:
    sink = _Sink(f, path)
    try:
        torch.save(payload, sink)
    except RuntimeError as err:
        if sink.error is not None:
            raise sink.error from None  # an OSError is reported below; a signal ends the command
        reason = str(err).strip().splitlines()[0][:120]
        raise SeqlmError(f"could not save the checkpoint to {path} (the archive could not be written: "
                         f"{reason}); nothing was overwritten.") from None


def write_payload(payload: dict, path: Path) -> Path:
    """Write ``payload`` to ``path`` atomically: a temp file in the same folder, fsync, read back and
    checked, then renamed over ``path``. Whatever fails, ``path`` is what it was before."""
    _writable_in_place(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        savetemp.remove_leftovers(path)
        fd, tmp = savetemp.create(path)
    except OSError as err:
        raise SeqlmError(f"cannot write a checkpoint in {path.parent} ({err.strerror}).") from None
    try:
        try:
            with os.fdopen(fd, "wb") as f:
                card = _card(payload)
                f.write(MAGIC + b"%d\n" % len(card) + card + b"\n")
                _archive(payload, f, path)
                f.flush()
                faults.point("checkpoint.written", f)
                os.fsync(f.fileno())
        except OSError as err:
            raise SeqlmError(f"could not save the checkpoint to {path} ({err.strerror}); "
                             "nothing was overwritten.") from None
        try:
            _check_read_back(tmp, payload)
        except SeqlmError as err:
            raise SeqlmError(f"{err}; {path} was not replaced.") from None
        faults.point("checkpoint.verified")
        try:
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


def save(run: Run, path: str | Path, keep: str = "last") -> Path:
    """Save ``run`` (see ``target`` for where a path leads); returns the file written."""
    return write_payload(to_payload(run, keep), target(path, run))


# -- reading ---------------------------------------------------------------------------------------


class _Window(io.RawIOBase):
    """The archive part of a file, seen as a file of its own (torch.load seeks within it)."""

    def __init__(self, f, start: int) -> None:
        self.f, self.start = f, start
        f.seek(start)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        return self.f.readinto(b)

    def seek(self, pos: int, whence: int = 0) -> int:
        return self.f.seek(pos + self.start if whence == 0 else pos, whence) - self.start

    def tell(self) -> int:
        return self.f.tell() - self.start


def open_file(path: Path):
    """A checkpoint file opened for reading (a regular file only: not a pipe, a device or a folder)."""
    fd = open_regular(path, "checkpoint file", "checkpoint")
    return os.fdopen(fd, "rb")


def _read_card(f, path: Path) -> tuple[dict | None, int]:
    """(card, where the archive starts); (None, 0) for a version 1 file, which is the archive alone."""
    head = f.read(len(MAGIC))
    if head != MAGIC:
        return None, 0
    line = f.readline(20)
    try:
        n = int(line)
    except ValueError:
        n = -1
    if not 0 < n <= CARD_LIMIT:
        raise SeqlmError(f"{path} is not a readable seqlm-tui checkpoint (damaged header).")
    raw = f.read(n)
    if len(raw) != n or f.read(1) != b"\n":
        raise SeqlmError(f"{path} is not a readable seqlm-tui checkpoint (truncated).")
    try:
        card = json.loads(raw)
    except ValueError:
        card = None
    if not isinstance(card, dict):
        raise SeqlmError(f"{path} is not a readable seqlm-tui checkpoint (damaged header).")
    return card, f.tell()


def _check_format(d: dict, path: Path) -> None:
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise SeqlmError(f"{path} is not a seqlm-tui checkpoint.")
    if d.get("version") not in READABLE:
        raise SeqlmError(f"{path} has checkpoint format version {d.get('version')}; "
                         f"this seqlm-tui reads versions {', '.join(map(str, READABLE))}.")


def read_card(path: str | Path) -> dict:
    """What a checkpoint is (config, step, metrics, kept, dataset) without its weights; a version 1 file
    has no card and is read whole."""
    path = Path(path).expanduser()
    with open_file(path) as f:
        card, _ = _read_card(f, path)
    if card is None:
        card = {k: v for k, v in read_payload(path).items() if k in CARD_KEYS}
    _check_format(card, path)
    return card


def read_payload(path: str | Path) -> dict:
    """The checkpoint's contents, checked for format and version; never runs code from the file."""
    path = Path(path).expanduser()
    with open_file(path) as f:
        _, start = _read_card(f, path)
        f.seek(start)
        head = f.read(4)
        if head[:1] == b"\x80":  # a pickle's PROTO opcode: not the zip archive torch.save writes
            raise SeqlmError(f"{path} is refused: it is a bare Python pickle, not a checkpoint archive, and "
                             "loading one could run code.")
        try:
            with warnings.catch_warnings():  # torch's notes on what it refuses: the sentence below says it
                warnings.simplefilter("ignore")
                payload = torch.load(_Window(f, start), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as err:
            if "global" in str(err).lower():
                raise SeqlmError(f"{path} is refused: it holds Python objects other than plain data "
                                 "(a checkpoint may not run code when loaded).") from None
            raise SeqlmError(f"{path} is not a readable seqlm-tui checkpoint (truncated or damaged).") from None
        except Exception:  # torch.load raises many kinds on damaged files (zip, struct, EOF, runtime...)
            raise SeqlmError(f"{path} is not a readable seqlm-tui checkpoint (truncated or damaged).") from None
    _check_format(payload, path)
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
    except (KeyError, TypeError, RuntimeError, ValueError, AttributeError):
        raise SeqlmError(f"{path} does not match its own model description (damaged or edited).") from None
    model.to(resolve_device(device))
    info = payload.get("dataset")
    return Run(cfg, vocab, model, info if isinstance(info, dict) else {}, int(payload.get("step", 0)),
               History.from_dict(payload.get("history")), payload.get("optimizer_state"),
               dict(payload.get("metrics") or {}))
