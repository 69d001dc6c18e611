"""Streaming generation: warm the state up on a prompt, then one token at a time, reusing the state."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.models.base import LanguageModel
from seqlm_tui.core.vocab import Vocab

MAX_PROMPT = 100_000
FEED_CHUNK = 256


@dataclass
class Sampling:
    temperature: float = 1.0
    top_k: int = 0          # 0: all tokens
    greedy: bool = False

    def check(self) -> None:
        if not (self.temperature > 0 and self.temperature < float("inf")):
            raise SeqlmError(f"temperature must be a positive number, not {self.temperature}.")
        if self.top_k < 0:
            raise SeqlmError(f"top-k must be 0 (off) or a positive whole number, not {self.top_k}.")

    @property
    def effectively_greedy(self) -> bool:
        """A temperature this small leaves all the probability on the most likely token: sampling with it is
        taking that token, and dividing by it overflows (``pick`` then takes the argmax)."""
        return self.greedy or self.temperature < TINY_TEMPERATURE


TINY_TEMPERATURE = 1e-30
SAFE_TEMPERATURE = 1e-3  # at or above it float32 cannot overflow (logits / T stay far below 3e38)


def pick(logits: torch.Tensor, sampling: Sampling, gen: torch.Generator | None = None,
         ban: int | None = None) -> int:
    """One token id from a (V,) logit vector: greedy, or temperature + top-k sampling.

    Sampling is done in float64 from log-probabilities, so that a tiny temperature cannot overflow into
    inf/nan; where it still would, the most likely token is the sample. ``ban`` (the <unk> id) is never
    produced: it stands for characters the model cannot spell."""
    small = sampling.temperature < SAFE_TEMPERATURE
    logits = logits.detach().to("cpu", torch.float64 if small else torch.float32)
    if ban is not None:
        logits = logits.clone()
        logits[ban] = float("-inf")
    if sampling.effectively_greedy:
        return int(logits.argmax())
    if 0 < sampling.top_k < logits.numel():
        kth = torch.topk(logits, sampling.top_k).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    scaled = torch.log_softmax(logits / sampling.temperature, -1)
    if not bool(torch.isfinite(scaled).any()) or bool(torch.isnan(scaled).any()):
        return int(logits.argmax())
    return int(torch.multinomial(scaled.exp(), 1, generator=gen))


class Generator:
    """A conversation with a model. The state carries over from prompt to prompt until ``reset()``."""

    def __init__(self, model: LanguageModel, vocab: Vocab, sampling: Sampling | None = None,
                 seed: int | None = None):
        self.model, self.vocab = model.eval(), vocab
        self.sampling = sampling or Sampling()
        self.gen = torch.Generator()
        self.set_seed(seed)
        self.history_len = 0
        self.reset()

    def set_seed(self, seed: int | None) -> None:
        if seed is None:
            self.gen.seed()
        else:
            self.gen.manual_seed(seed)

    @torch.no_grad()
    def _advance(self, ids: list[int]) -> None:
        x = torch.tensor([ids], dtype=torch.long, device=self.model.device)
        # Long prompts go in pieces with the state carried: same result, bounded memory (attention is T x T).
        for i in range(0, x.shape[1], FEED_CHUNK):
            logits, self.state = self.model(x[:, i:i + FEED_CHUNK], self.state)
        self.logits = logits[0, -1]
        self.history_len += len(ids)

    def reset(self) -> None:
        """Forget everything. Items datasets (names) start at the boundary, as a new item does."""
        self.state, self.logits, self.history_len = None, None, 0
        if self.vocab.boundary is not None:
            self._advance([self.vocab.boundary])

    def feed(self, prompt: str) -> int:
        """Warm the state up on the prompt (d2l's ``predict_ch8`` prefix). Returns tokens fed."""
        if len(prompt) > MAX_PROMPT:
            raise SeqlmError(f"the prompt has {len(prompt):,} characters; the limit is {MAX_PROMPT:,}.")
        ids = self.vocab.encode(prompt)
        if ids:
            self._advance(ids)
        return len(ids)

    @property
    def ready(self) -> bool:
        return self.logits is not None

    def stream(self, n: int, stop_at_boundary: bool = True) -> Iterator[int]:
        """Yield up to ``n`` token ids, each fed back with the carried state (one ``forward`` per token).

        Stops after the boundary token when the vocabulary has one (the end of a name)."""
        if self.logits is None:
            raise SeqlmError("type a prompt first: this model needs at least one token to continue from.")
        for _ in range(n):
            i = pick(self.logits, self.sampling, self.gen, self.vocab.unk)
            self._advance([i])
            yield i
            if stop_at_boundary and i == self.vocab.boundary:
                return

    def top(self, k: int = 10) -> list[tuple[str, float]]:
        """The k most likely next tokens with their probabilities, for display."""
        if self.logits is None:
            return []
        probs = torch.softmax(self.logits.float(), -1)
        p, i = torch.topk(probs, min(k, probs.numel()))
        return [(self.vocab.tokens[j], float(q)) for q, j in zip(p.tolist(), i.tolist())]


def render(vocab: Vocab, ids: list[int], first: bool = True) -> str:
    """Text of generated ids as they are streamed (numbers separated by spaces)."""
    if vocab.kind == "numbers":
        text = " ".join(vocab.tokens[i] for i in ids)
        return text if first or not text else " " + text
    return "".join(vocab.tokens[i] for i in ids)


def samples(model: LanguageModel, vocab: Vocab, n: int = 5, length: int = 60, seed: int = 0,
            prompts: list[str] | None = None, sampling: Sampling | None = None) -> list[str]:
    """A few previews: whole items for items data (names), else continuations of ``prompts``."""
    was_training = model.training
    out = []
    try:
        for k in range(n):
            g = Generator(model, vocab, sampling, seed=seed + k)
            prompt = prompts[k % len(prompts)] if prompts else ""
            if prompt:
                g.feed(prompt)
            if not g.ready:
                continue
            ids = list(g.stream(length))
            if vocab.boundary is not None and ids and ids[-1] == vocab.boundary:
                ids = ids[:-1]
            body = render(vocab, ids, first=not prompt)
            out.append(f"{prompt}|{body}" if prompt else body)  # "|": where the model takes over
    finally:
        model.train(was_training)
    return out
