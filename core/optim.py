"""Optimizers and learning-rate schedules: the seed's own plain SGD, torch's SGD/momentum/Adam/AdamW."""

from __future__ import annotations

import math

import torch

from seqlm_tui.core.config import TrainConfig


class SeedSGD:
    """The seed's update ``p.data += -lr * p.grad`` as one fused op over all parameters.

    ``torch.optim.SGD`` does the same arithmetic but spends ~40 us a step on bookkeeping (hooks,
    profiler records), a quarter of a step of the seed MLP; this keeps the engine as fast as the seed loop.
    It has the optimizer interface the trainer and checkpoints use, and no state.
    """

    def __init__(self, params, lr: float):
        self.params = [p for p in params]
        self.param_groups = [{"lr": lr, "params": self.params}]
        # Detached views share the parameters' storage: updating them in place needs no no_grad context
        # (which costs as much as the update itself at this size).
        self._data = [p.detach() for p in self.params]

    def step(self) -> None:
        grads = [p.grad for p in self.params]
        if any(g is None for g in grads):  # a parameter the loss did not reach this step
            pairs = [(d, g) for d, g in zip(self._data, grads) if g is not None]
            if not pairs:
                return
            data, grads = map(list, zip(*pairs))
        else:
            data = self._data
        torch._foreach_add_(data, grads, alpha=-self.param_groups[0]["lr"])

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    def state_dict(self) -> dict:
        return {"state": {}, "param_groups": [{"lr": self.param_groups[0]["lr"]}]}

    def load_state_dict(self, state: dict) -> None:
        pass  # plain SGD has no state to restore



def make_optimizer(params, cfg: TrainConfig):
    """The seed's plain SGD (``p.data += -lr * p.grad``), SGD with momentum, Adam or AdamW."""
    if cfg.optimizer == "sgd":
        if cfg.weight_decay == 0:
            return SeedSGD(params, cfg.lr)
        return torch.optim.SGD(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "momentum":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.AdamW
    params = list(params)
    # torch's fused kernel: one pass over all parameters instead of a dozen foreach ops (a Transformer's step
    # 4.2 -> 0.9 ms on a CPU core); the same numbers to float rounding.
    fused = bool(params) and all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)
    return cls(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused or None)


def lr_at(cfg: TrainConfig, step: int, total: int, spent: float = 0.0) -> float:
    """Learning rate for 0-based ``step`` of ``total``: constant, x0.1 step decay, or cosine with warm-up.
    ``spent``: the share of a time budget used so far (0 to 1); the schedule runs on by whichever of steps
    and time is further along, so a run stopped by its budget ends at the end of its schedule."""
    if cfg.schedule == "step":
        at = cfg.decay_at or total // 2
        late = step >= at or (not cfg.decay_at and spent >= 0.5)
        return cfg.lr * (0.1 if late else 1.0)
    if cfg.schedule == "cosine":
        if step < cfg.warmup:
            return cfg.lr * (step + 1) / cfg.warmup
        span = max(1, total - cfg.warmup)
        done = max((step - cfg.warmup) / span, spent)
        return cfg.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, done)))
    return cfg.lr
