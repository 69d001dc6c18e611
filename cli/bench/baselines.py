"""The plain loops the engine is measured against, written the way the seed material writes them."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def seed_mlp_loop(params: list[torch.Tensor], xs: torch.Tensor, ys: torch.Tensor, steps: int,
                  gen: torch.Generator, lr: float, block: int, batch: int = 32) -> float:
    """makemore part 2: C[X] -> tanh(emb @ W1 + b1) @ W2 + b2, cross-entropy, p.data += -lr * p.grad."""
    C, W1, b1, W2, b2 = params
    loss = None
    for _ in range(steps):
        ix = torch.randint(0, xs.shape[0], (batch,), generator=gen)
        emb = C[xs[ix]]
        h = torch.tanh(emb.view(-1, block * C.shape[1]) @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, ys[ix])
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data += -lr * p.grad
        loss.item()  # the seed records every step's loss
    return loss.item()


def d2l_grad_clipping(params: list[torch.Tensor], theta: float) -> None:
    norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in params))
    if norm > theta:
        for p in params:
            p.grad[:] *= theta / norm


def d2l_rnn_epoch(net: torch.nn.Module, head: torch.nn.Module, batches, vocab_size: int, lr: float,
                  clip: float) -> float:
    """d2l ``train_epoch_ch8`` with the concise RNN: state carried (detached) across sequential batches."""
    params = list(net.parameters()) + list(head.parameters())
    state, total, n = None, 0.0, 0
    for x, y in batches:
        if state is not None:
            state = state.detach()
        out, state = net(F.one_hot(x, vocab_size).float(), state)
        logits = head(out)
        loss = F.cross_entropy(logits.reshape(-1, vocab_size), y.reshape(-1))
        for p in params:
            p.grad = None
        loss.backward()
        d2l_grad_clipping(params, clip)
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        total += loss.item() * y.numel()
        n += y.numel()
    return math.exp(total / n)
