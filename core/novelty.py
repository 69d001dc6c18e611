"""Where a sample comes from (makemore's "in train / in test / new"): a generated item that is a line of
the training data is memorised, one of the held-out lines was learnt as a pattern, anything else is new."""

from __future__ import annotations

from seqlm_tui.core.datasets import Dataset, Split

NEW, TRAIN, HELD_OUT = "new", "in train", "in dev/test"


def _items(split: Split, vocab) -> set[str]:
    """The split's items as text, without their boundary tokens."""
    if split.is_stream:
        return set()
    toks, starts, lengths = split.tokens.tolist(), split.starts.tolist(), split.lengths.tolist()
    return {vocab.decode(toks[s + 1:s + n - 1]) for s, n in zip(starts, lengths)}


class Novelty:
    def __init__(self, train: set[str], held_out: set[str]) -> None:
        self.train, self.held_out = train, held_out

    @classmethod
    def of(cls, ds: Dataset) -> Novelty:
        s = ds.splits
        held = set().union(*(_items(s[k], ds.vocab) for k in ("dev", "test") if k in s))
        return cls(_items(s["train"], ds.vocab), held)

    @classmethod
    def for_run(cls, run) -> Novelty | None:
        """For a lines dataset the run's data can be read for; None otherwise (stream data, or missing)."""
        from seqlm_tui.core.errors import SeqlmError

        try:
            ds = run.ensure_dataset()
        except SeqlmError:
            return None
        return cls.of(ds) if not ds.is_stream else None

    def where(self, text: str) -> str:
        if text in self.train:
            return TRAIN
        if text in self.held_out:
            return HELD_OUT
        return NEW

    def share_new(self, texts: list[str]) -> float | None:
        return sum(self.where(t) == NEW for t in texts) / len(texts) if texts else None
