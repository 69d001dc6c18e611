"""Minibatches for training and evaluation.

Three batchers share one shape: ``next() -> (x, y, fresh)`` where ``fresh`` says the model's
state must start anew, and ``eval_batches(cap)`` yields the same triples over a whole split.
Targets use -1 for padding (ignored by the loss).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

from seqlm_tui.core.datasets import Dataset, Split
from seqlm_tui.core.errors import SeqlmError

Batch = tuple[torch.Tensor, torch.Tensor, bool]
MAX_ITEM_LEN = 1024  # sequence models see at most this many tokens of one item
MATERIALIZE = 4_000_000  # window tokens laid out in full below this size


class WindowBatcher:
    """Fixed-context examples for window models (bigram, MLP): x is (B, block), y is (B,)."""

    def __init__(self, split: Split, block: int, pad: int | None, batch_size: int,
                 gen: torch.Generator | None = None, device: str = "cpu"):
        source, starts = split.windows(block, pad)
        self.source = source.to(device)
        self.starts = None if starts is None else starts.to(device)
        self.block, self.batch_size, self.gen, self.device = block, batch_size, gen, device
        self.n = split.n_windows(block, pad)
        self.offsets = torch.arange(block + 1, device=device)
        if self.n == 0:
            raise SeqlmError(f"block size {block} is longer than any item of the data.")
        self.contexts = self.targets_table = None
        if self.n * (block + 1) <= MATERIALIZE:
            # Small data (names: 228k windows) is laid out once, contexts and targets apart, so a batch is
            # two index ops giving contiguous tensors (slices of one table would be copied again downstream).
            w = self._windows(torch.arange(self.n, device=device))
            self.contexts, self.targets_table = w[:, :-1].contiguous(), w[:, -1].contiguous()

    @property
    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(self.n / self.batch_size))

    def _windows(self, idx: torch.Tensor) -> torch.Tensor:
        """(len(idx), block + 1) rows: the context then the target."""
        s = idx if self.starts is None else self.starts[idx]
        return self.source[s.unsqueeze(1) + self.offsets].long()

    def _gather(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.contexts is not None:
            return self.contexts[idx], self.targets_table[idx]
        w = self._windows(idx)
        return w[:, :-1], w[:, -1]

    def next(self) -> Batch:
        idx = torch.randint(0, self.n, (self.batch_size,), generator=self.gen)
        x, y = self._gather(idx if self.device == "cpu" else idx.to(self.device))
        return x, y, True

    def all(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every example at once (fine for the small datasets; used by counting bigrams and tests)."""
        return self._gather(torch.arange(self.n, device=self.device))

    def eval_targets(self, cap: int = 0) -> int:
        """Targets that ``eval_batches(cap)`` scores (the one definition every report uses)."""
        return self.n if cap <= 0 else min(cap, self.n)

    def eval_batches(self, cap: int = 0, size: int = 8192) -> Iterator[Batch]:
        n = self.eval_targets(cap)
        for i in range(0, n, size):
            x, y = self._gather(torch.arange(i, min(i + size, n), device=self.device))
            yield x, y, True


class ItemBatcher:
    """Whole items for sequence models: x = item[:-1], y = item[1:], padded to the longest in the batch.

    Packed (``pack``: a row length, 0 for the longest item), a training row starts at a random item and runs on
    through the items after it (they share their boundary token), so no position is padding: names fill 7 of
    13 positions of a padded row, and a packed step carries twice the targets for the same work. Every target
    still sees its own item from its start; the items before it in the row are in view too (a Transformer
    learns to look past the boundary). Evaluation is item by item either way."""

    def __init__(self, split: Split, batch_size: int, gen: torch.Generator | None = None,
                 device: str = "cpu", pack: int | None = None):
        self.split, self.batch_size, self.gen, self.device = split, batch_size, gen, device
        self.tokens = split.tokens.to(device)
        self.starts = split.starts.to(device)
        self.lengths = split.lengths.clamp(max=MAX_ITEM_LEN + 1).to(device)
        self.scored = None if split.scored is None else split.scored.to(device)
        self.n = split.n_items
        self.pad_in = 0
        self._counts: torch.Tensor | None = None
        self.pack = None if pack is None else (pack or int(self.lengths.max()) - 1)
        self._row = None if self.pack is None else torch.arange(self.pack + 1, device=device)

    @property
    def steps_per_epoch(self) -> int:
        if self.pack is not None:  # a packed row holds several items: an epoch is the split's targets once
            return max(1, math.ceil((self.tokens.numel() - 1) / (self.batch_size * self.pack)))
        return max(1, math.ceil(self.n / self.batch_size))

    def _gather(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        lengths = self.lengths[idx]
        width = int(lengths.max())
        pos = torch.arange(width, device=self.device)
        inside = pos.unsqueeze(0) < lengths.unsqueeze(1)
        flat = (self.starts[idx].unsqueeze(1) + pos).clamp(max=self.tokens.numel() - 1)
        return self._rows(flat, inside)

    def next(self) -> Batch:
        idx = torch.randint(0, self.n, (self.batch_size,), generator=self.gen).to(self.device)
        x, y = self._gather(idx) if self.pack is None else self._packed(idx)
        return x, y, True

    def _packed(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        flat = self.starts[idx].unsqueeze(1) + self._row
        inside = flat < self.tokens.numel()  # the split's last items run off its end: padding there only
        return self._rows(flat.clamp(max=self.tokens.numel() - 1), inside)

    def _rows(self, flat: torch.Tensor, inside: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(x, y) of the rows of token positions ``flat``; outside ``inside`` a position is padding."""
        seq = torch.where(inside, self.tokens[flat].long(), torch.full_like(flat, -1))
        x = seq[:, :-1].clamp(min=self.pad_in)
        if self.scored is not None:
            return x, seq[:, 1:].masked_fill(~self.scored[flat[:, 1:]], -1)
        return x, seq[:, 1:]

    def _per_item(self) -> torch.Tensor:
        """Targets of each item, as ``_gather`` scores them (computed once)."""
        if self._counts is None:
            if self.scored is None:
                self._counts = self.lengths - 1
            else:  # scored positions among each item's targets (positions 1 .. length-1)
                cs = torch.cat([torch.zeros(1, dtype=torch.long, device=self.device), self.scored.long().cumsum(0)])
                end = (self.starts + self.lengths).clamp(max=self.scored.numel())
                self._counts = cs[end] - cs[self.starts + 1]
        return self._counts

    def _items_for(self, cap: int) -> int:
        """How many items (whole, in order) an evaluation capped at ``cap`` targets reads."""
        if cap <= 0:
            return self.n
        reached = (self._per_item().cumsum(0) >= cap).nonzero()
        return self.n if reached.numel() == 0 else int(reached[0, 0]) + 1

    def eval_targets(self, cap: int = 0) -> int:
        return int(self._per_item()[:self._items_for(cap)].sum())

    def eval_batches(self, cap: int = 0, size: int = 512) -> Iterator[Batch]:
        n = self._items_for(cap)
        for i in range(0, n, size):
            x, y = self._gather(torch.arange(i, min(i + size, n), device=self.device))
            yield x, y, True


class StreamBatcher:
    """d2l's partitions of a long corpus into (batch_size, num_steps) minibatches.

    sequential: each row continues the previous batch's row, so the hidden state is carried
    (fresh only at the start of an epoch); random: independent subsequences, state reset each batch.
    """

    def __init__(self, split: Split, batch_size: int, num_steps: int, partition: str = "sequential",
                 gen: torch.Generator | None = None, device: str = "cpu", name: str = "training"):
        """``name`` is the split's name in messages; only a training split must hold whole minibatches
        (evaluation reads any length)."""
        self.corpus = split.tokens.to(device)
        self.batch_size, self.num_steps, self.partition = batch_size, num_steps, partition
        self.gen, self.device = gen, device
        self._epoch: Iterator[Batch] | None = None
        if name == "training" and (self.steps_per_epoch < 1 or (len(self.corpus) - 1) // batch_size < num_steps):
            raise SeqlmError(f"batch size {batch_size} x sequence length {num_steps} needs more text than "
                             f"the {name} split has ({len(self.corpus):,} tokens); make them smaller.")
        if len(self.corpus) < 2:
            raise SeqlmError(f"the {name} split has {len(self.corpus)} token(s): nothing to predict.")

    @property
    def steps_per_epoch(self) -> int:
        n = len(self.corpus) - 1 - self.num_steps  # worst case of the random offset
        if self.partition == "sequential":
            return (n // self.batch_size) // self.num_steps
        return (n // self.num_steps) // self.batch_size

    def _randint(self, hi: int) -> int:
        return int(torch.randint(0, hi + 1, (1,), generator=self.gen))

    def _sequential(self) -> Iterator[Batch]:
        offset = self._randint(self.num_steps)
        n = ((len(self.corpus) - offset - 1) // self.batch_size) * self.batch_size
        xs = self.corpus[offset:offset + n].view(self.batch_size, -1)
        ys = self.corpus[offset + 1:offset + 1 + n].view(self.batch_size, -1)
        for k in range(self.steps_per_epoch):
            i = k * self.num_steps
            yield xs[:, i:i + self.num_steps].long(), ys[:, i:i + self.num_steps].long(), k == 0

    def _random(self) -> Iterator[Batch]:
        corpus = self.corpus[self._randint(self.num_steps - 1):]
        n_sub = (len(corpus) - 1) // self.num_steps
        starts = torch.randperm(n_sub, generator=self.gen).to(self.device) * self.num_steps
        offsets = torch.arange(self.num_steps, device=self.device)
        for k in range(self.steps_per_epoch):
            s = starts[k * self.batch_size:(k + 1) * self.batch_size].unsqueeze(1) + offsets
            yield corpus[s].long(), corpus[s + 1].long(), True

    def next(self) -> Batch:
        while True:
            if self._epoch is None:
                self._epoch = self._sequential() if self.partition == "sequential" else self._random()
            batch = next(self._epoch, None)
            if batch is not None:
                return batch
            self._epoch = None

    def eval_targets(self, cap: int = 0) -> int:
        n = len(self.corpus) - 1
        return n if cap <= 0 else min(cap, n)

    def eval_batches(self, cap: int = 0, rows: int = 16) -> Iterator[Batch]:
        """The split as ``rows`` contiguous streams read left to right with the state carried; the few
        targets left over at the end (fewer than ``rows``) follow as one short row of their own."""
        total = self.eval_targets(cap)
        corpus = self.corpus[:total + 1]
        rows = max(1, min(rows, total // (4 * self.num_steps)))
        n = (total // rows) * rows
        xs = corpus[:n].view(rows, -1)
        ys = corpus[1:n + 1].view(rows, -1)
        for i in range(0, xs.shape[1], self.num_steps):
            yield xs[:, i:i + self.num_steps].long(), ys[:, i:i + self.num_steps].long(), i == 0
        if n < total:
            yield corpus[n:total].long().unsqueeze(0), corpus[n + 1:total + 1].long().unsqueeze(0), True


SPLIT_NAMES = {"train": "training", "dev": "dev", "test": "test"}


def make_batcher(ds: Dataset, split: str, batch_kind: str, context: int, batch_size: int,
                 num_steps: int = 35, partition: str = "sequential",
                 gen: torch.Generator | None = None, device: str = "cpu", pack: bool = False):
    """The right batcher for a dataset split and a model's batch kind ("window" or "sequence"). ``pack``:
    items packed in rows of the model's context (a Transformer's block), or of the longest item."""
    if split not in ds.splits:
        raise SeqlmError(f"{ds.name} has no {split} split; it has {', '.join(ds.splits)}.")
    s = ds.splits[split]
    if batch_kind == "window":
        return WindowBatcher(s, context, ds.pad, batch_size, gen, device)
    if s.is_stream:
        return StreamBatcher(s, batch_size, num_steps, partition, gen, device, SPLIT_NAMES.get(split, split))
    return ItemBatcher(s, batch_size, gen, device, (context if context > 1 else 0) if pack else None)
