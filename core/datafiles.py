"""Finding, downloading, verifying and reading the text files behind the datasets."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from seqlm_tui.core.errors import SeqlmError


@dataclass(frozen=True)
class KnownFile:
    filename: str
    url: str
    sha256: str
    size: int


KNOWN = {
    "names": KnownFile("names.txt", "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt",
                       "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d", 228_145),
    "timemachine": KnownFile("timemachine.txt", "https://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt",
                             "8424dbd9532ac81f7e5f0b6add90e6952baea29158309d7d1bf3884f4e12c516", 178_979),
}


def cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("seqlm-tui"))


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as err:
        raise SeqlmError(f"cannot read {path} ({err.strerror}).") from None
    return h.hexdigest()


def fetch(url: str, dest: Path, sha256: str, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``dest`` and verify it; a partial or wrong download is never left at ``dest``."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    except OSError as err:
        raise SeqlmError(f"{dest.name} must be downloaded, and the folder for it, {dest.parent}, cannot be "
                         f"written ({err.strerror}); set SEQLM_DATA_DIR to a folder that has {dest.name}, or "
                         "XDG_CACHE_HOME to a folder you can write to.") from None
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            for block in iter(lambda: resp.read(1 << 16), b""):
                h.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if h.hexdigest() != sha256:
            raise SeqlmError(f"the download of {dest.name} from {url} has the wrong checksum; "
                             f"try again later or put a good copy in {dest.parent}.")
        os.replace(tmp, dest)
        return dest
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", None) or err
        raise SeqlmError(f"could not download {dest.name} from {url} ({reason}); put the file in "
                         f"{dest.parent} or set SEQLM_DATA_DIR to a folder that has it.") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def locate(name: str, download: bool = True) -> Path:
    """Path of a known dataset file: SEQLM_DATA_DIR, else the user cache, else downloaded into the cache."""
    known = KNOWN[name]
    env = os.environ.get("SEQLM_DATA_DIR")
    if env:
        p = Path(env).expanduser() / known.filename
        if p.is_file():
            if sha256_of(p) != known.sha256:
                raise SeqlmError(f"{p} does not have the expected checksum; delete it or point "
                                 "SEQLM_DATA_DIR at a good copy.")
            return p
    p = cache_dir() / known.filename
    if p.is_file() and sha256_of(p) == known.sha256:
        return p
    if not download:
        raise SeqlmError(f"{known.filename} is not downloaded yet.")
    return fetch(known.url, p, known.sha256)


def is_available(name: str) -> bool:
    """True if the file is on disk already (no download needed)."""
    try:
        locate(name, download=False)
        return True
    except SeqlmError:
        return False


@dataclass(frozen=True)
class FileId:
    """What a checkpoint records of the file it was trained on, to tell later whether it is the same."""
    path: str
    size: int
    sha256: str

    def to_dict(self) -> dict:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


def open_regular(path: Path, what: str = "text file", missing: str = "file") -> int:
    """A read-only descriptor of ``path``, or one sentence saying why not. Opened without blocking and
    checked on the open file: a FIFO (or a symlink to one) would otherwise block forever, and a file
    swapped for one after a check would slip past it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise SeqlmError(f"{path}: no such {missing}.") from None
    except IsADirectoryError:
        raise SeqlmError(f"{path} is a folder, not a {what}.") from None
    except OSError as err:
        raise SeqlmError(f"{path} cannot be read ({err.strerror}).") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise SeqlmError(f"{path} is a folder, not a {what}.")
        raise SeqlmError(f"{path} is not a regular file.")
    return fd


def read_bytes(path: str | Path) -> bytes:
    """The whole of a regular file, in one read to the end: a file rewritten or truncated meanwhile gives
    what was there, never a length from an earlier stat."""
    p = Path(path).expanduser()
    fd = open_regular(p)
    try:
        with os.fdopen(fd, "rb") as f:
            return f.read()
    except OSError as err:
        raise SeqlmError(f"{p} cannot be read ({err.strerror}).") from None


def read(path: str | Path) -> tuple[str, FileId]:
    """A UTF-8 text file (BOM and CRLF tolerated) and its identity, or one clear sentence about it."""
    p = Path(path).expanduser()
    raw = read_bytes(p)
    if not raw.strip():
        raise SeqlmError(f"{p} is empty.")
    if b"\x00" in raw:
        raise SeqlmError(f"{p} looks like a binary file (it has NUL bytes), not text.")
    ident = FileId(str(p), len(raw), hashlib.sha256(raw).hexdigest())
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise SeqlmError(f"{p} is not UTF-8 text (bad byte at offset {err.start}).") from None
    del raw
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, ident


def read_text(path: str | Path) -> str:
    return read(path)[0]
