"""A small causal Transformer decoder (makemore-sized by default).

Positions are rotary (RoPE) and attention is limited to a sliding window of ``block_size`` tokens.
Both choices serve streaming: a token's scores depend only on relative positions, so the state
is a rolling key/value cache of the last ``block_size - 1`` tokens per layer, and one generated
step costs the same after ten characters or after ten thousand. Within the window (all of training)
this is exactly a plain causal Transformer.

Attention runs through ``F.scaled_dot_product_attention``, which returns no weights. The attention view
asks the same modules for an explicit softmax(QK^T / sqrt(d)) instead (``attention_maps``): the same
weights, the same mask, the same outputs to float tolerance (tests/core/test_attention.py), plus the
weights themselves.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from seqlm_tui.core.models.base import LanguageModel


def rotation(pos: torch.Tensor, d: int, dtype: torch.dtype) -> torch.Tensor:
    """RoPE's rotations for positions ``pos``: (T, d/2) unit complex numbers e^(i pos theta_j), computed once
    per forward and shared by every layer."""
    inv = 1.0 / (10000 ** (torch.arange(0, d, 2, dtype=torch.float64, device=pos.device) / d))
    ang = torch.remainder(pos.to(torch.float64).unsqueeze(1) * inv, 2 * math.pi)  # float64: long sessions
    real = torch.float64 if dtype == torch.float64 else torch.float32
    return torch.complex(ang.cos().to(real), ang.sin().to(real))


def rope(x: torch.Tensor, rot: torch.Tensor) -> torch.Tensor:
    """Rotate pairs of channels (x[2j], x[2j+1]) of x (..., T, 2, heads, D) by the angles of ``rot`` (T, D/2):
    as a complex product, (x1 + i x2)(cos + i sin), one kernel instead of a dozen (3x faster on a CPU)."""
    pairs = torch.view_as_complex(x.to(rot.real.dtype).unflatten(-1, (-1, 2)))
    return torch.view_as_real(pairs * rot[:, None, None, :]).flatten(-2).to(x.dtype)


class Attention(nn.Module):
    def __init__(self, emb: int, heads: int, window: int, dropout: float):
        super().__init__()
        self.heads, self.window, self.dropout = heads, window, dropout
        self.qkv = nn.Linear(emb, 3 * emb)
        self.proj = nn.Linear(emb, emb)

    def forward(self, x, pos, rot, cache, explicit: bool = False):
        """Returns (output, new cache, weights): weights (B, heads, T, keys) on the explicit path, else None."""
        b, t, e = x.shape
        qkv = self.qkv(x).view(b, t, 3, self.heads, e // self.heads)
        q, k = rope(qkv[:, :, :2], rot).permute(2, 0, 3, 1, 4)
        v = qkv[:, :, 2].transpose(1, 2)
        kpos = pos
        if cache is not None:
            ck, cv, cpos = cache
            k, v, kpos = torch.cat([ck, k], 2), torch.cat([cv, v], 2), torch.cat([cpos, pos])
        weights = None
        drop = self.dropout if self.training else 0.0
        if cache is None and t <= self.window and not explicit:
            # Training and a fresh prompt: the window holds every position, so the mask is the causal one,
            # which SDPA's fused kernel takes without building it (a quarter faster on a CPU).
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=drop)
        else:
            gap = pos.unsqueeze(1) - kpos.unsqueeze(0)
            mask = (gap >= 0) & (gap < self.window)
            if explicit:
                scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
                weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
                y = (F.dropout(weights, drop) if drop else weights) @ v
            else:
                y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=drop)
        keep = self.window - 1
        new_cache = (k[:, :, -keep:], v[:, :, -keep:], kpos[-keep:]) if keep else None
        return self.proj(y.transpose(1, 2).reshape(b, t, e)), new_cache, weights


class Block(nn.Module):
    def __init__(self, emb: int, heads: int, window: int, dropout: float):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(emb), nn.LayerNorm(emb)
        self.attn = Attention(emb, heads, window, dropout)
        self.mlp = nn.Sequential(nn.Linear(emb, 4 * emb), nn.GELU(), nn.Linear(4 * emb, emb), nn.Dropout(dropout))

    def forward(self, x, pos, rot, cache, explicit: bool = False):
        a, cache, weights = self.attn(self.ln1(x), pos, rot, cache, explicit)
        x = x + a
        return x + self.mlp(self.ln2(x)), cache, weights


class TransformerLM(LanguageModel):
    """State: (next position, per-layer rolling (keys, values, positions) caches)."""

    def __init__(self, vocab_size: int, pad: int = 0, emb: int = 64, heads: int = 4, layers: int = 4,
                 block_size: int = 32, dropout: float = 0.0):
        super().__init__(vocab_size, pad)
        self.block_size = block_size
        self.tok = nn.Embedding(vocab_size, emb)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(emb, heads, block_size, dropout) for _ in range(layers))
        self.ln_f = nn.LayerNorm(emb)
        self.head = nn.Linear(emb, vocab_size)

    @property
    def context(self) -> int:
        return self.block_size

    def init_state(self, batch: int):
        return (0, [None] * len(self.blocks))

    def char_embedding(self) -> torch.Tensor:
        return self.tok.weight

    def forward(self, x, state=None):
        logits, state, _ = self._run(x, state, explicit=False)
        return logits, state

    def attention_maps(self, x, state=None):
        """``forward`` through the explicit attention path: (logits, state, weights), weights one
        (B, heads, T, keys) tensor per layer, keys being the cached positions and then ``x``'s."""
        return self._run(x, state, explicit=True)

    def _run(self, x, state, explicit: bool):
        start, caches = state if state is not None else self.init_state(x.shape[0])
        pos = torch.arange(start, start + x.shape[1], device=x.device)
        h = self.drop(self.tok(x))
        rot = rotation(pos, h.shape[-1] // self.blocks[0].attn.heads if len(self.blocks) else 2, h.dtype)
        new, maps = [], []
        for block, cache in zip(self.blocks, caches):
            h, cache, weights = block(h, pos, rot, cache, explicit)
            new.append(cache)
            maps.append(weights)
        return self.head(self.ln_f(h)), (start + x.shape[1], new), maps
