"""The four datasets as token tensors split into train/dev/test.

A split is either a set of *items* (names, lines of a file, counting windows) stored as one
compact token tensor with item starts and lengths, or one long *stream* of tokens
(the Time Machine, a text file in stream mode). Batching lives in ``core.batches``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from seqlm_tui.core import datafiles
from seqlm_tui.core.config import DataConfig
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.vocab import Vocab, char_counts, compact_dtype

COUNTING_V = 128
COUNTING_L = 6
MIN_ITEMS = 10  # the 80/10/10 split needs at least one dev and one test item
MIN_STREAM = 100
MEMORY_ALPHABET = "abcdefgh"
MEMORY_QUERY = "?"
MEMORY_ITEMS = 10_000


@dataclass
class Split:
    """Tokens of one split. Items are ``tokens[starts[k] : starts[k] + lengths[k]]``; a stream has no starts.

    ``scored``, when set, marks the token positions that count as targets (the memory task's answers);
    every other prediction is left out of the loss (target -1)."""

    tokens: torch.Tensor
    starts: torch.Tensor | None = None
    lengths: torch.Tensor | None = None
    scored: torch.Tensor | None = None
    _windows: dict = field(default_factory=dict, repr=False)

    @property
    def is_stream(self) -> bool:
        return self.starts is None

    @property
    def n_items(self) -> int:
        return 0 if self.starts is None else self.starts.numel()

    @property
    def n_targets(self) -> int:
        """How many next-token predictions the split holds."""
        if self.is_stream:
            return max(self.tokens.numel() - 1, 0)
        if self.scored is not None:
            return int(self.scored.sum())
        return int((self.lengths - 1).sum())

    def windows(self, block: int, pad: int | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(source, starts) such that window i is ``source[starts[i] : starts[i] + block + 1]``:
        ``block`` context tokens then the target. Items are left-padded with ``pad`` the way makemore
        builds its MLP dataset; with no pad only windows with a full context are kept.
        For a stream, ``starts`` is None: every position up to ``len - block - 1`` starts a window."""
        key = (block, pad)
        if key not in self._windows:
            self._windows[key] = self._make_windows(block, pad)
        return self._windows[key]

    def _make_windows(self, block, pad):
        if self.is_stream:
            return self.tokens, None
        lengths, starts, k = self.lengths, self.starts, self.lengths.numel()
        if pad is None:
            count = (lengths - block).clamp(min=0)
            item = torch.repeat_interleave(torch.arange(k), count)
            offset = torch.arange(int(count.sum())) - torch.repeat_interleave(count.cumsum(0) - count, count)
            ws = starts[item] + offset
            return self.tokens, ws if self.scored is None else ws[self.scored[ws + block]]
        padded_len = lengths + (block - 1)
        new_starts = padded_len.cumsum(0) - padded_len
        source = torch.full((int(padded_len.sum()),), pad, dtype=self.tokens.dtype)
        item = torch.repeat_interleave(torch.arange(k), lengths)
        j = torch.arange(item.numel()) - torch.repeat_interleave(lengths.cumsum(0) - lengths, lengths)
        source[new_starts[item] + (block - 1) + j] = self.tokens[starts[item] + j]
        count = lengths - 1
        item = torch.repeat_interleave(torch.arange(k), count)
        j = torch.arange(item.numel()) - torch.repeat_interleave(count.cumsum(0) - count, count)
        ws = new_starts[item] + j
        return source, ws if self.scored is None else ws[self.scored[starts[item] + j + 1]]

    def n_windows(self, block: int, pad: int | None) -> int:
        source, starts = self.windows(block, pad)
        return max(source.numel() - block, 0) if starts is None else starts.numel()


@dataclass
class Dataset:
    name: str
    vocab: Vocab
    splits: dict[str, Split]
    source: str = ""
    mode: str = "lines"
    file: datafiles.FileId | None = None   # the text file it was read from, if any

    @property
    def pad(self) -> int | None:
        """Context padding for window models: the item boundary where there is one."""
        return self.vocab.boundary

    @property
    def is_stream(self) -> bool:
        return self.splits["train"].is_stream

    def describe(self) -> dict:
        """What a checkpoint records about the data it was trained on."""
        out = {"name": self.name, "source": self.source, "mode": self.mode,
               "sizes": {k: s.n_targets for k, s in self.splits.items()}}
        if self.file is not None:
            out["file"] = self.file.to_dict()
        return out

    def summary(self) -> str:
        sizes = " / ".join(f"{k} {s.n_targets:,}" for k, s in self.splits.items())
        unit = "tokens" if self.is_stream else "targets"
        return f"{self.name}: vocabulary {len(self.vocab)}, {unit} {sizes}"


# -- builders ------------------------------------------------------------------------------------


def _split_items(n: int) -> tuple[int, int]:
    return int(0.8 * n), int(0.9 * n)


def counting(v: int = COUNTING_V, length: int = COUNTING_L, seed: int = 42) -> Dataset:
    """All windows of ``length + 1`` consecutive numbers 0..v-1: input [i..i+L-1], target [i+1..i+L]."""
    order = list(range(v - length))
    random.Random(seed).shuffle(order)
    n1, n2 = _split_items(len(order))
    tokens = torch.arange(v, dtype=torch.uint8 if v <= 256 else torch.int32)

    def split(idx):
        return Split(tokens, torch.tensor(idx, dtype=torch.int64), torch.full((len(idx),), length + 1))

    return Dataset("counting", Vocab.numbers(v),
                   {"train": split(order[:n1]), "dev": split(order[n1:n2]), "test": split(order[n2:])},
                   source=f"numbers 0..{v - 1}, windows of {length}")


def memory(length: int = 10, n_items: int = MEMORY_ITEMS, alphabet: str = MEMORY_ALPHABET,
           seed: int = 42) -> Dataset:
    """The memory task: ``length`` random symbols, the query mark, then the first symbol again.

    An item reads ".cfhabg?c." (boundary, symbols, query, answer, boundary). Only the answer and the
    closing boundary are scored: the symbols are uniform noise whose loss (ln 8 each) cannot fall, and
    with them in the loss the one informative target would be 1 of length + 3 and its signal lost in
    the noise, for every model alike. Scored this way the dev loss falls only when the model remembers,
    and the RNN-vs-LSTM gap shows plainly. The closing boundary costs nothing to learn and lets a model
    end an item after the recalled symbol (samples, the prompt pane).
    """
    if not 1 <= length <= 512:
        raise SeqlmError(f"memory length must be between 1 and 512, not {length}.")
    if n_items < MIN_ITEMS:
        raise SeqlmError(f"the memory task needs at least {MIN_ITEMS} items, not {n_items}.")
    vocab = Vocab.for_lines(set(alphabet + MEMORY_QUERY))
    ids = torch.tensor([vocab.stoi[c] for c in alphabet])
    gen = torch.Generator().manual_seed(seed)
    symbols = ids[torch.randint(0, len(alphabet), (n_items, length), generator=gen)]
    # Each row is what follows an item's opening boundary: consecutive items share it, as in lines_dataset.
    rows = torch.cat([symbols, torch.full((n_items, 1), vocab.stoi[MEMORY_QUERY]), symbols[:, :1],
                      torch.full((n_items, 1), vocab.boundary)], dim=1).to(compact_dtype(len(vocab)))
    n1, n2 = _split_items(n_items)
    width = length + 3

    def split(part):
        k = part.shape[0]
        tokens = torch.cat([torch.tensor([vocab.boundary], dtype=part.dtype), part.flatten()])
        starts = torch.arange(k) * width
        scored = torch.zeros(tokens.numel(), dtype=torch.bool)
        scored[starts + length + 2] = True  # the answer
        scored[starts + length + 3] = True  # the closing boundary
        return Split(tokens, starts, torch.full((k,), width + 1), scored)

    return Dataset("memory", vocab, {"train": split(rows[:n1]), "dev": split(rows[n1:n2]),
                                     "test": split(rows[n2:])},
                   source=f"{n_items:,} random sequences of {length} over {alphabet!r}, recall the first",
                   mode="lines")


def lines_dataset(text: str, name: str, source: str, seed: int = 42) -> Dataset:
    """One item per non-empty line, shuffled with ``random.seed(42)`` and split 80/10/10 (makemore)."""
    words = [w for w in (line.strip() for line in text.split("\n")) if w]
    if len(words) < MIN_ITEMS:
        raise SeqlmError(f"{source} has {len(words)} non-empty line(s); lines mode needs at least "
                         f"{MIN_ITEMS} (try stream mode).")
    vocab = Vocab.for_lines(set(char_counts("".join(words))))
    rng = random.Random(seed)
    rng.shuffle(words)
    n1, n2 = _split_items(len(words))
    b = vocab.tokens[0]

    def split(ws):
        # Consecutive items share their boundary token: ".emma.olivia." holds both with no copies.
        tokens = vocab.encode_tensor(b + b.join(ws) + b)
        lengths = torch.tensor([len(w) + 2 for w in ws], dtype=torch.int64)
        starts = (lengths - 1).cumsum(0) - (lengths - 1)
        return Split(tokens, starts, lengths)

    return Dataset(name, vocab, {"train": split(words[:n1]), "dev": split(words[n1:n2]),
                                 "test": split(words[n2:])}, source=source, mode="lines")


def stream_dataset(text: str, name: str, source: str, dev_fraction: float = 0.1) -> Dataset:
    """One token per character; the last 10% is held out as the dev split (stream data has no test split)."""
    if len(text) < MIN_STREAM:
        raise SeqlmError(f"{source} has only {len(text)} characters; stream mode needs at least {MIN_STREAM}.")
    vocab = Vocab.for_stream(char_counts(text))
    tokens = vocab.encode_tensor(text)
    cut = int(len(tokens) * (1 - dev_fraction))
    return Dataset(name, vocab, {"train": Split(tokens[:cut]), "dev": Split(tokens[cut:])},
                   source=source, mode="stream")


_NON_LETTERS = re.compile("[^A-Za-z]+")


def d2l_preprocess(text: str) -> str:
    """d2l's ``read_time_machine``: per line, runs of non-letters -> one space, strip, lowercase;
    the lines are then concatenated with nothing between them, as d2l's corpus is."""
    return "".join(_NON_LETTERS.sub(" ", line).strip().lower() for line in text.split("\n"))


def load(cfg: DataConfig) -> Dataset:
    """Build the dataset a config names (downloading names/timemachine on first use)."""
    if cfg.dataset == "counting":
        return counting()
    if cfg.dataset == "memory":
        return memory(cfg.memory_length)
    if cfg.dataset in ("names", "timemachine"):
        text, ident = datafiles.read(datafiles.locate(cfg.dataset))
        if cfg.dataset == "names":
            ds = lines_dataset(text, "names", ident.path)
        else:
            ds = stream_dataset(d2l_preprocess(text), "timemachine", ident.path)
    elif cfg.dataset == "file":
        text, ident = datafiles.read(cfg.file)
        build = lines_dataset if cfg.mode == "lines" else stream_dataset
        ds = build(text, Path(ident.path).name, ident.path)
    else:
        raise SeqlmError(f"unknown dataset {cfg.dataset!r}.")
    ds.file = ident
    return ds
