"""What every model shares: the call signature, the batch kind and parameter counting."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

State = Any  # a tensor, a tuple of tensors, or a small structure of them; None means "fresh"


def detach_state(state: State) -> State:
    """Cut the autograd history of a carried state (truncated backprop through time)."""
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    return state


class LanguageModel(nn.Module):
    """Base class. ``x`` is (B, T) token ids; ``logits`` are (B, T, V): position t predicts token t+1.

    ``batch_kind`` tells the batcher what to feed in training: "window" models see (B, context)
    contexts with (B,) targets through ``batch_logits``; "sequence" models see (B, T) sequences.
    ``recurrent`` models carry their state across sequential training batches.
    """

    batch_kind = "sequence"
    recurrent = False
    trains_by_counting = False

    def __init__(self, vocab_size: int, pad: int = 0):
        super().__init__()
        self.vocab_size = vocab_size
        self.pad = pad

    @property
    def context(self) -> int:
        """Tokens of context a window model reads (unused by sequence models)."""
        return 1

    def init_state(self, batch: int) -> State:
        return None

    def forward(self, x: torch.Tensor, state: State = None) -> tuple[torch.Tensor, State]:
        raise NotImplementedError

    def batch_logits(self, x: torch.Tensor, state: State = None) -> tuple[torch.Tensor, State]:
        """Logits aligned with a training batch's targets."""
        return self(x, state)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def char_embedding(self) -> torch.Tensor | None:
        """The (V, D) input embedding of the characters, or None (one-hot input, bigram tables)."""
        return None

    def tanh_units(self, x: torch.Tensor) -> torch.Tensor | None:
        """The tanh-bounded hidden units the model computes on a training-shaped batch ``x`` (from a fresh
        state), shaped (..., units) with one row per position, or None if it has none (health checks)."""
        return None

    def unit_states(self, x: torch.Tensor) -> tuple[torch.Tensor, list[tuple[str, int, torch.Tensor]]] | None:
        """The logits and every hidden unit the model computes at each position of ``x`` (B, T), read from a
        fresh state: a list of (kind, layer, values (B, T, units)), kind "h" (a recurrent hidden state), "c"
        (an LSTM's cell) or "hidden" (a feed-forward hidden layer); None if the model has no hidden units
        (the neuron view)."""
        return None

    @property
    def device(self) -> torch.device:
        for t in self.parameters():
            return t.device
        for t in self.buffers():
            return t.device
        return torch.device("cpu")
