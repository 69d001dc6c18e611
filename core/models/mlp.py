"""Bengio et al. (2003), the seed recipe: embed the last ``block_size`` tokens, one tanh layer, logits."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seqlm_tui.core.models.base import LanguageModel


class MLP(LanguageModel):
    batch_kind = "window"

    def __init__(self, vocab_size: int, pad: int = 0, block_size: int = 3, emb: int = 10, hidden: int = 200):
        super().__init__(vocab_size, pad)
        self.block_size = block_size
        self.C = nn.Embedding(vocab_size, emb)
        self.hidden = nn.Linear(block_size * emb, hidden)
        self.out = nn.Linear(hidden, vocab_size)

    @property
    def context(self) -> int:
        return self.block_size

    def window_logits(self, ctx: torch.Tensor) -> torch.Tensor:
        """(..., block) contexts -> (..., V) logits."""
        # Functional calls on the modules' own weights: the hot path of the seed recipe, where
        # nn.Module's call machinery is a measurable share of a step.
        # Indexing the table rather than F.embedding: the same rows, and a cheaper backward (index_put
        # accumulate; measured 3% of an MLP step in instructions).
        e = self.C.weight[ctx].flatten(-2)
        return F.linear(torch.tanh(F.linear(e, self.hidden.weight, self.hidden.bias)), self.out.weight, self.out.bias)

    def batch_logits(self, x, state=None):
        return self.window_logits(x), None

    def char_embedding(self) -> torch.Tensor:
        return self.C.weight

    def tanh_units(self, x: torch.Tensor) -> torch.Tensor:
        e = F.embedding(x, self.C.weight).flatten(-2)
        return torch.tanh(F.linear(e, self.hidden.weight, self.hidden.bias))

    def unit_states(self, x: torch.Tensor):
        """The hidden layer for the window ending at each position, as ``forward`` reads it."""
        full = torch.cat([self.init_state(x.shape[0]), x], dim=1)
        e = self.C.weight[full.unfold(1, self.block_size, 1)[:, 1:]].flatten(-2)
        hidden = torch.tanh(F.linear(e, self.hidden.weight, self.hidden.bias))
        return F.linear(hidden, self.out.weight, self.out.bias), [("hidden", 0, hidden)]

    def init_state(self, batch: int) -> torch.Tensor:
        """The state is the context window, all boundary tokens at the start (as makemore samples)."""
        return torch.full((batch, self.block_size), self.pad, dtype=torch.long, device=self.device)

    def forward(self, x, state=None):
        if state is None:
            state = self.init_state(x.shape[0])
        full = torch.cat([state, x], dim=1)
        windows = full.unfold(1, self.block_size, 1)[:, 1:]  # the window ending at each x_t
        return self.window_logits(windows), full[:, -self.block_size:]
