"""makemore's Transformer recipe, written here as makemore writes it, for the frontier's baseline.

The model is makemore.py's (karpathy/makemore): learned token and position embeddings, blocks of causal
self-attention (an explicit masked softmax) and a 4x MLP with the tanh GELU, a final LayerNorm, a head
without bias. The recipe is its defaults for names: 4 layers, 4 heads, 64 wide, batch 32, AdamW 5e-4,
weight decay 0.01, betas 0.9 / 0.99, no schedule, no dropout. Only the data differ: the same train split
as ours, read by our batcher (a name, its boundary before and after, padded to the batch's longest), so
that both are scored on the very same test targets.
"""

from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F
from torch import nn


class NewGELU(nn.Module):
    def forward(self, x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int, block_size: int):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.register_buffer("bias", torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size,
                                                                                          block_size))
        self.n_head, self.n_embd = n_head, n_embd

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class Block(nn.Module):
    def __init__(self, n_embd: int, n_head: int, block_size: int):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, block_size)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(n_embd, 4 * n_embd), c_proj=nn.Linear(4 * n_embd, n_embd),
                                      act=NewGELU()))
        m = self.mlp
        self.mlpf = lambda x: m.c_proj(m.act(m.c_fc(x)))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlpf(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, vocab_size: int, block_size: int, n_layer: int = 4, n_head: int = 4, n_embd: int = 64):
        super().__init__()
        self.block_size = block_size
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab_size, n_embd), wpe=nn.Embedding(block_size, n_embd),
            h=nn.ModuleList([Block(n_embd, n_head, block_size) for _ in range(n_layer)]), ln_f=nn.LayerNorm(n_embd)))
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)

    def forward(self, idx, targets=None):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device).unsqueeze(0)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)
        return logits, loss


@torch.no_grad()
def test_loss(model: Transformer, batches) -> float:
    """Mean cross-entropy per target over every batch (the whole split)."""
    model.eval()
    total, count = 0.0, 0
    for x, y, _ in batches:
        logits, _ = model(x)
        total += float(F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), ignore_index=-1,
                                       reduction="sum"))
        count += int((y >= 0).sum())
    model.train()
    return total / count


def train_for(train_batches, test_batches, vocab_size: int, block_size: int, marks: list[float],
              seed: int = 42) -> list[tuple[float, float, int]]:
    """Train makemore's recipe for ``marks[-1]`` seconds of wall time (model building included, as ours);
    at each mark, the test loss (its evaluation off the clock). Returns (seconds, test loss, steps)."""
    torch.manual_seed(seed)
    t0 = time.perf_counter()
    model = Transformer(vocab_size, block_size)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01, betas=(0.9, 0.99), eps=1e-8)
    out, steps, paused = [], 0, 0.0
    pending = list(marks)
    while pending:
        x, y, _ = train_batches.next()
        _, loss = model(x, y)
        model.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        steps += 1
        now = time.perf_counter() - t0 - paused
        while pending and now >= pending[0]:
            t_eval = time.perf_counter()
            out.append((now, test_loss(model, test_batches()), steps))
            paused += time.perf_counter() - t_eval
            pending.pop(0)
    return out
