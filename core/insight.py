"""Looking inside a model: its character embedding, its bigram table, and the health of its training.

Every function reads a model that is standing still (between two training steps, or loaded from a
checkpoint) and returns plain data; the CLI and the app draw it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.fmt import token_label
from seqlm_tui.core.models.base import LanguageModel
from seqlm_tui.core.models.bigram import BigramCounts, BigramNeural
from seqlm_tui.core.models.registry import spec_of
from seqlm_tui.core.vocab import Vocab

SATURATED = 0.97  # |h| above this: the tanh's slope is below 0.06, so the unit passes almost no gradient


def labels(vocab: Vocab) -> list[str]:
    """One visible label per vocabulary entry (see ``core.fmt.token_label``)."""
    return [token_label(t) for t in vocab.tokens]


def model_title(model: LanguageModel) -> str:
    """The registry's title of a model ("LSTM", "MLP (Bengio et al.)"), for messages."""
    spec = spec_of(model)
    return spec.title if spec is not None else type(model).__name__


# -- embedding map ------------------------------------------------------------------------------


@dataclass
class EmbeddingMap:
    labels: list[str]        # one per vocabulary entry, printable (control chars escaped; " " shown as "␣")
    x: list[float]
    y: list[float]
    method: str              # "raw 2-D embedding" or "PCA: 2 components, 63% of the variance"


def has_embedding(model: LanguageModel) -> bool:
    return model.char_embedding() is not None


def embedding_map(model: LanguageModel, vocab: Vocab) -> EmbeddingMap:
    """Every vocabulary entry as a point: the embedding itself when it is 2-D, else its first two
    principal components. <unk> and the boundary are plotted too (they are rows the model learns)."""
    weight = model.char_embedding()
    if weight is None:
        raise SeqlmError(f"{model_title(model)} has no character embedding to show"
                         + ("; turn one-hot input off to learn one." if getattr(model, "one_hot", False) else "."))
    w = weight.detach().to("cpu", torch.float64)
    d = w.shape[1]
    if d <= 2:
        x = w[:, 0]
        y = w[:, 1] if d == 2 else torch.zeros_like(x)
        method = "raw 2-D embedding" if d == 2 else "raw 1-D embedding (y = 0)"
    else:
        centred = w - w.mean(0, keepdim=True)
        # Exact SVD rather than pca_lowrank: V x D is tiny, and the result must not change between two
        # draws of the same weights.
        _, s, vh = torch.linalg.svd(centred, full_matrices=False)
        comps = vh[:2]
        # An eigenvector's sign is arbitrary; pin it so the live map does not mirror itself between evals.
        big = comps.abs().argmax(1)
        comps = comps * torch.sign(comps[torch.arange(2), big]).unsqueeze(1)
        xy = centred @ comps.T
        x, y = xy[:, 0], xy[:, 1]
        var = s.square()
        share = float(var[:2].sum() / var.sum()) if float(var.sum()) > 0 else 0.0
        method = f"PCA: 2 components, {share:.0%} of the variance"
    return EmbeddingMap(labels(vocab), x.tolist(), y.tolist(), method)


# -- bigram table -------------------------------------------------------------------------------


@dataclass
class BigramTable:
    labels: list[str]        # printable row/column labels, vocabulary order
    probs: torch.Tensor      # (V, V) float, rows sum to 1 (row = current char, column = next char)
    counts: torch.Tensor | None   # (V, V) counts for bigram-counts, None for bigram-neural

    def index(self, token: str) -> int:
        """The row of ``token``, given as its label ("␣", "⏎", "<unk>"), escaped ("\\n") or as the character."""
        try:
            unescaped = token.encode("latin-1", "backslashreplace").decode("unicode_escape")
        except UnicodeDecodeError:
            unescaped = token
        for candidate in (token, token_label(token), token_label(unescaped)):
            if candidate in self.labels:
                return self.labels.index(candidate)
        known = " ".join(self.labels) if len(self.labels) <= 60 else f"{len(self.labels)} tokens"
        raise SeqlmError(f"{token!r} is not in the vocabulary; it has {known}.")

    def row(self, token: str) -> list[tuple[str, float]]:
        """Next-token probabilities after ``token``, most likely first."""
        p = self.probs[self.index(token)].tolist()
        return sorted(zip(self.labels, p), key=lambda kv: -kv[1])


def has_bigram_table(model: LanguageModel) -> bool:
    return isinstance(model, (BigramCounts, BigramNeural))


def bigram_table(model: LanguageModel, vocab: Vocab) -> BigramTable:
    if isinstance(model, BigramCounts):
        return BigramTable(labels(vocab), model.probs().detach().cpu().float(),
                           model.counts.detach().cpu().clone())
    if isinstance(model, BigramNeural):
        return BigramTable(labels(vocab), torch.softmax(model.table.weight.detach().cpu().float(), 1), None)
    raise SeqlmError(f"the bigram table needs a bigram model; this is {model_title(model)}.")


# -- training health ----------------------------------------------------------------------------


@dataclass
class Health:
    step: int
    grad_norms: list[tuple[str, float]]   # per parameter tensor: L2 norm of its gradient at the last step
    saturated: float | None               # fraction of tanh units with |h| > 0.97 on a dev batch; None if none


def grad_norms(model: LanguageModel) -> list[tuple[str, float]]:
    """L2 norm of each parameter's ``.grad`` as it stands (after clipping, when the trainer clips);
    parameters without a gradient (frozen, or before the first step) are left out."""
    named = [(n, p.grad) for n, p in model.named_parameters() if p.grad is not None]
    if not named:
        return []
    norms = torch._foreach_norm([g.detach() for _, g in named])
    return [(n, float(v)) for (n, _), v in zip(named, torch.stack(norms).cpu().tolist())]


@torch.no_grad()
def saturation(model: LanguageModel, x: torch.Tensor, y: torch.Tensor | None = None) -> float | None:
    """Share of tanh units with |h| > 0.97 over the positions of batch ``x`` (those whose target ``y`` is
    padding, -1, are left out). None when the model has no tanh units (Transformer, bigrams)."""
    was = model.training
    model.eval()  # dropout off: the units as the model uses them
    try:
        h = model.tanh_units(x)
    finally:
        model.train(was)
    if h is None:
        return None
    h = h.reshape(-1, h.shape[-1])
    if y is not None and y.numel() == h.shape[0]:
        h = h[y.reshape(-1) >= 0]
    if h.numel() == 0:
        return None
    return float((h.abs() > SATURATED).float().mean())


def health(model: LanguageModel, x: torch.Tensor, step: int, y: torch.Tensor | None = None) -> Health:
    """Gradient norms of the last training step and tanh saturation on the batch ``x`` (shaped as the
    model trains: windows for window models, sequences otherwise)."""
    return Health(step, grad_norms(model), saturation(model, x, y))
