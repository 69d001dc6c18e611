"""An Elman RNN written out by hand, to be checked against ``torch.nn.RNN``.

h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from seqlm_tui.core.models.base import LanguageModel


class ElmanRNN(nn.Module):
    """Single-layer tanh RNN with ``nn.RNN``'s parameter names, shapes and initialisation (batch first)."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.W_ih = nn.Parameter(torch.empty(hidden_size, input_size))
        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.b_ih = nn.Parameter(torch.empty(hidden_size))
        self.b_hh = nn.Parameter(torch.empty(hidden_size))
        bound = 1.0 / math.sqrt(hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def recur(self, xw: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the recurrence on inputs already projected (x W_ih^T + b_ih): (B, T, H) -> all h, last h."""
        xw = xw + self.b_hh  # both biases are added once, outside the time loop
        w = self.W_hh.t()
        outs = []
        for t in range(xw.shape[1]):
            h = torch.tanh(torch.addmm(xw[:, t], h, w))
            outs.append(h)
        return torch.stack(outs, 1), h

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, T, input_size); h0: (B, H) or None. Returns (B, T, H) and the last (B, H)."""
        if h0 is None:
            h0 = x.new_zeros(x.shape[0], self.hidden_size)
        return self.recur(F.linear(x, self.W_ih, self.b_ih), h0)


def copy_weights(src: nn.Module, dst: nn.Module) -> None:
    """Copy weights between an ElmanRNN and a one-layer ``nn.RNN`` (either direction)."""
    names = {"W_ih": "weight_ih_l0", "W_hh": "weight_hh_l0", "b_ih": "bias_ih_l0", "b_hh": "bias_hh_l0"}
    if isinstance(src, ElmanRNN):
        pairs = [(getattr(src, a), getattr(dst, b)) for a, b in names.items()]
    else:
        pairs = [(getattr(src, b), getattr(dst, a)) for a, b in names.items()]
    with torch.no_grad():
        for s, d in pairs:
            d.copy_(s)


class ElmanLM(LanguageModel):
    """The hand-written RNN with a linear head; input one-hot (the seed way) or a learned embedding."""

    recurrent = True

    def __init__(self, vocab_size: int, pad: int = 0, hidden: int = 32, one_hot: bool = True, emb: int = 32):
        super().__init__(vocab_size, pad)
        self.one_hot = one_hot
        self.embed = None if one_hot else nn.Embedding(vocab_size, emb)
        self.rnn = ElmanRNN(vocab_size if one_hot else emb, hidden)
        self.head = nn.Linear(hidden, vocab_size)

    def init_state(self, batch: int) -> torch.Tensor:
        return torch.zeros(batch, self.rnn.hidden_size, device=self.device)

    def char_embedding(self) -> torch.Tensor | None:
        return None if self.embed is None else self.embed.weight

    def tanh_units(self, x: torch.Tensor) -> torch.Tensor:
        xw = F.linear(F.one_hot(x, self.vocab_size).float() if self.one_hot else self.embed(x),
                      self.rnn.W_ih, self.rnn.b_ih)
        return self.rnn.recur(xw, self.init_state(x.shape[0]))[0]

    def unit_states(self, x: torch.Tensor):
        hs = self.tanh_units(x)
        return self.head(hs), [("h", 0, hs)]

    def forward(self, x, state=None):
        if state is None:
            state = self.init_state(x.shape[0])
        if self.one_hot:
            # one_hot(x) @ W_ih^T is a column lookup of W_ih: same numbers, no (B, T, V) matrix.
            xw = F.embedding(x, self.rnn.W_ih.t()) + self.rnn.b_ih
        else:
            xw = F.linear(self.embed(x), self.rnn.W_ih, self.rnn.b_ih)
        hs, h = self.rnn.recur(xw, state)
        return self.head(hs), h
