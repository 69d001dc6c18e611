"""The attention view's numbers: for a text, every layer's and head's attention weights (row = the query
position, column = the key position), read through the model's explicit attention path
(``TransformerLM.attention_maps``: the same modules and weights that generate, with the softmax written
out). The app and ``seqlm-tui inspect --attention`` draw it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.fmt import shade_level
from seqlm_tui.core.insight import model_title
from seqlm_tui.core.models.base import LanguageModel
from seqlm_tui.core.neurons import has_units, prepare
from seqlm_tui.core.vocab import Vocab

MAX_TEXT = 256   # positions: every layer and head is a T x T matrix
MASKED = -1      # a grid cell the query may not look at (a later position, or one outside the window)
# Shade levels 0..4 of a cell the query may look at, so that the window shows even where the weight is 0;
# a masked cell is blank.
SHADES = "·░▒▓█"
ASCII_SHADES = ".:+*#"
# The same levels as colours of the 16 ANSI ones (half-block drawing: two query rows per line).
COLOURS = ("bright_black", "blue", "bright_blue", "bright_cyan", "bright_white")


@dataclass
class AttentionReading:
    labels: list[str]          # one per position, as shown
    weights: torch.Tensor      # (layers, heads, T, T) float32 on the CPU
    window: int                # how many positions a query sees, itself included
    title: str
    numbers: bool = False

    @property
    def layers(self) -> int:
        return int(self.weights.shape[0])

    @property
    def heads(self) -> int:
        return int(self.weights.shape[1])

    def __len__(self) -> int:
        return len(self.labels)

    def matrix(self, layer: int, head: int | None = None) -> torch.Tensor:
        """(T, T) weights of one head, or their average over the layer's heads (``head`` None)."""
        w = self.weights[layer % self.layers]
        return w.mean(0) if head is None else w[head % self.heads]

    def allowed(self) -> torch.Tensor:
        """(T, T) True where query q may look at key k: k <= q (causal) and q - k < window."""
        n = len(self)
        gap = torch.arange(n).unsqueeze(1) - torch.arange(n).unsqueeze(0)
        return (gap >= 0) & (gap < self.window)

    def reach(self, layer: int, head: int | None = None) -> float:
        """How far back the head looks: the attention-weighted distance q - k, averaged over the queries."""
        n = len(self)
        gap = (torch.arange(n).unsqueeze(1) - torch.arange(n).unsqueeze(0)).clamp(min=0).float()
        return float((self.matrix(layer, head) * gap).sum(1).mean())

    def grid(self, layer: int, head: int | None, start: int, end: int) -> list[list[int]]:
        """Rows ``start..end-1`` (queries) by the same columns (keys): a shade level 0..4 for each cell the
        query may look at, ``MASKED`` for the others."""
        m = self.matrix(layer, head)[start:end, start:end].tolist()
        ok = self.allowed()[start:end, start:end].tolist()
        return [[shade_level(p, 1.0) if a else MASKED for p, a in zip(row, oks)] for row, oks in zip(m, ok)]


def has_attention(model: LanguageModel) -> bool:
    return hasattr(model, "attention_maps")


def no_attention(model: LanguageModel) -> str:
    title = model_title(model)
    if has_units(model):
        return f"the {title} has no attention (only the Transformer has); look at its hidden units instead."
    return f"the {title} has no attention; only the Transformer has."


def check_head(reading: AttentionReading, layer: int | None, head: int | None) -> tuple[int, int]:
    """1-based ``layer`` / ``head`` (None: the first) as 0-based indices, or one sentence when the model has
    no such layer or head."""
    if layer is not None and not 1 <= layer <= reading.layers:
        raise SeqlmError(f"the {reading.title} has {reading.layers} layers; there is no layer {layer}.")
    if head is not None and not 1 <= head <= reading.heads:
        raise SeqlmError(f"the {reading.title} has {reading.heads} heads per layer; there is no head {head}.")
    return (layer or 1) - 1, (head or 1) - 1


@torch.no_grad()
def read_attention(model: LanguageModel, vocab: Vocab, text: str) -> AttentionReading:
    """Run ``text`` through ``model`` from a fresh state (dropout off) on its explicit attention path."""
    if not has_attention(model):
        raise SeqlmError(no_attention(model))
    ids, labels, _ = prepare(vocab, text, limit=MAX_TEXT)
    was = model.training
    model.eval()
    try:
        _, _, maps = model.attention_maps(torch.tensor([ids], dtype=torch.long, device=model.device))
    finally:
        model.train(was)
    weights = torch.stack([m[0] for m in maps]).detach().to("cpu", torch.float32)
    return AttentionReading(labels, weights, int(model.block_size), model_title(model), vocab.kind == "numbers")
