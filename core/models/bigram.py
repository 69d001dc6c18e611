"""Bigram models: the count table of the seed material, and its one-layer neural twin."""

from __future__ import annotations

import torch
from torch import nn

from seqlm_tui.core.models.base import LanguageModel


class BigramCounts(LanguageModel):
    """P(next | current) from counts with add-k smoothing. Its "training" is counting."""

    batch_kind = "window"
    trains_by_counting = True

    def __init__(self, vocab_size: int, pad: int = 0, smoothing: float = 1.0):
        super().__init__(vocab_size, pad)
        self.smoothing = smoothing
        self.register_buffer("counts", torch.zeros(vocab_size, vocab_size))

    def fit(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Add the bigrams (x[:, -1] -> y) to the table."""
        flat = x[:, -1] * self.vocab_size + y
        self.counts += torch.bincount(flat, minlength=self.vocab_size ** 2).view_as(self.counts).to(self.counts)

    def log_probs(self) -> torch.Tensor:
        p = self.counts + self.smoothing
        # Unsmoothed, a context never seen has no counts: uniform rather than 0/0 = NaN.
        p = torch.where(p.sum(1, keepdim=True) > 0, p, torch.ones_like(p))
        return (p / p.sum(1, keepdim=True)).log()

    def probs(self) -> torch.Tensor:
        """The normalised table, for display."""
        return self.log_probs().exp()

    def forward(self, x, state=None):
        return self.log_probs()[x], x[:, -1:]

    def batch_logits(self, x, state=None):
        return self.log_probs()[x[:, -1]], None

    def num_params(self) -> int:
        return self.counts.numel()


class BigramNeural(LanguageModel):
    """A lookup table of logits trained by gradient descent (the seed's ``W`` with one-hot input)."""

    batch_kind = "window"

    def __init__(self, vocab_size: int, pad: int = 0):
        super().__init__(vocab_size, pad)
        self.table = nn.Embedding(vocab_size, vocab_size)

    def forward(self, x, state=None):
        return self.table(x), x[:, -1:]

    def batch_logits(self, x, state=None):
        return self.table(x[:, -1]), None
