"""Datasets loaded once and shared, keyed by the whole data configuration.

The key is every field of ``DataConfig`` (and, for a text file, its size, time and inode on disk), never a
hand-picked part of it: a cache keyed by less than what the data depends on serves the wrong data
(a memory task of length 10 when 40 was asked for). Loads of the same key in several threads wait for
one another; loads of different keys run side by side.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import astuple

from seqlm_tui.core import datasets
from seqlm_tui.core.config import DataConfig
from seqlm_tui.core.datasets import Dataset

LIMIT = 4  # datasets kept: a 100 MB stream file is 100 MB of tokens


def _stamp(cfg: DataConfig) -> tuple | None:
    """The file's identity on disk, so an edited file is read again (None if it is not there)."""
    if cfg.dataset != "file":
        return None
    try:
        st = os.stat(os.path.expanduser(cfg.file))
    except (OSError, ValueError):
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def key(cfg: DataConfig) -> tuple:
    return astuple(cfg) + (_stamp(cfg),)


class DataCache:
    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, Dataset] = OrderedDict()
        self._loading: dict[tuple, threading.Event] = {}

    def peek(self, cfg: DataConfig) -> Dataset | None:
        """The dataset if it is loaded already; never loads (for a summary drawn on every keystroke)."""
        with self._lock:
            return self._entries.get(key(cfg))

    def get(self, cfg: DataConfig) -> Dataset:
        """The dataset of ``cfg``, loaded on first use (SeqlmError with one sentence if it cannot be)."""
        k = key(cfg)
        while True:
            with self._lock:
                if k in self._entries:
                    self._entries.move_to_end(k)
                    return self._entries[k]
                waiting = self._loading.get(k)
                if waiting is None:
                    done = self._loading[k] = threading.Event()
                    break
            waiting.wait()  # another thread is loading it: use its result (or try again if it failed)
        try:
            ds = datasets.load(cfg)
            with self._lock:
                self._entries[k] = ds
                while len(self._entries) > self.limit:
                    self._entries.popitem(last=False)
            return ds
        finally:
            with self._lock:
                self._loading.pop(k, None)
            done.set()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


CACHE = DataCache()


def load(cfg: DataConfig) -> Dataset:
    return CACHE.get(cfg)
