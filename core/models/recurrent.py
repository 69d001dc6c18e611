"""torch's own recurrent layers (RNN, LSTM, GRU) with a linear head."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seqlm_tui.core.models.base import LanguageModel

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class TorchRNNLM(LanguageModel):
    recurrent = True

    def __init__(self, vocab_size: int, pad: int = 0, cell: str = "rnn", hidden: int = 256, layers: int = 1,
                 dropout: float = 0.0, one_hot: bool = True, emb: int = 32, forget_bias: float = 0.0):
        super().__init__(vocab_size, pad)
        self.cell, self.layers, self.hidden_size, self.one_hot = cell, layers, hidden, one_hot
        self.embed = None if one_hot else nn.Embedding(vocab_size, emb)
        # One-hot rows looked up in an identity matrix: one op (a third of one_hot(x).float()'s time);
        # not saved in checkpoints.
        self.register_buffer("eye", torch.eye(vocab_size) if one_hot else None, persistent=False)
        self.rnn = CELLS[cell](vocab_size if one_hot else emb, hidden, num_layers=layers, batch_first=True,
                               dropout=dropout if layers > 1 else 0.0)
        if cell == "lstm" and forget_bias:
            # A forget gate that starts near 1 (Gers et al. 2000; Jozefowicz et al. 2015) keeps the cell's
            # content, and its gradient, alive across long lags; torch starts it near 0.5, which halves
            # both at every step. Gates are stacked (input, forget, cell, output).
            with torch.no_grad():
                for k in range(layers):
                    getattr(self.rnn, f"bias_ih_l{k}")[hidden:2 * hidden] += forget_bias
        self.head = nn.Linear(hidden, vocab_size)

    def init_state(self, batch: int):
        h = torch.zeros(self.layers, batch, self.hidden_size, device=self.device)
        return (h, torch.zeros_like(h)) if self.cell == "lstm" else h

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """What the recurrent layer reads: one-hot rows (V wide) or embeddings."""
        return F.embedding(x, self.eye) if self.one_hot else self.embed(x)

    def char_embedding(self) -> torch.Tensor | None:
        return None if self.embed is None else self.embed.weight

    def tanh_units(self, x: torch.Tensor) -> torch.Tensor:
        """The top layer's h at every position. The RNN's h is a tanh; the LSTM's h = o * tanh(c) and the
        GRU's h (a convex mix of tanh candidates, from h0 = 0) are bounded by tanh as well, and h near
        +-1 means the same there: the unit is pinned and passes little gradient back."""
        inp = self.inputs(x)
        return self.rnn(inp, self.init_state(x.shape[0]))[0]

    def _run(self, inp: torch.Tensor, state):
        if inp.shape[0] == 1 and not torch.is_grad_enabled() and inp.device.type == "cpu":
            # Streaming one token at a time: oneDNN's CPU LSTM costs ~20 ms a step at batch 1, the
            # native kernel ~0.2 ms (measured by `seqlm-tui bench`); training keeps oneDNN.
            mkldnn = torch.backends.mkldnn
            was, mkldnn.enabled = mkldnn.enabled, False
            try:
                return self.rnn(inp, state)
            finally:
                mkldnn.enabled = was
        return self.rnn(inp, state)

    def forward(self, x, state=None):
        if state is None:
            state = self.init_state(x.shape[0])
        out, state = self._run(self.inputs(x), state)
        return self.head(out), state

    def unit_states(self, x: torch.Tensor):
        """Every layer's h (and the LSTM's cell c) at each position. torch's layers return only the top
        layer's h for every step, so the model is stepped one position at a time (as it streams) and the
        state read after each."""
        inp, state = self.inputs(x), self.init_state(x.shape[0])
        hs, cs = [], []
        for t in range(x.shape[1]):
            _, state = self._run(inp[:, t:t + 1], state)
            hs.append(state[0] if self.cell == "lstm" else state)
            if self.cell == "lstm":
                cs.append(state[1])
        h = torch.stack(hs, 2)  # (layers, B, T, H)
        c = torch.stack(cs, 2) if cs else None
        groups = []
        for k in range(self.layers):
            groups.append(("h", k, h[k]))
            if c is not None:
                groups.append(("c", k, c[k]))
        return self.head(h[-1]), groups
