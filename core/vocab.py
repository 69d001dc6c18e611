"""Vocabularies: token <-> id, for characters and for the counting task's numbers."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from seqlm_tui.core.errors import SeqlmError

UNK = "<unk>"
# Characters encoded at a time. Under torch's parallel grain (32,768 elements) each op stays on the calling
# thread: on a shared machine an OpenMP team waits for a busy core at every op, which made 100 MB take 30 s
# instead of 1 s with chunks of 256k. Small chunks also bound peak memory (about 19 bytes a character).
_CHUNK = 30_000


def chunk_size(n: int) -> int:
    """Characters per chunk for a text of ``n``: at most ``_CHUNK``, and a small share of a small text, so that
    the chunk's temporaries never outweigh the text itself (a 1 MB file would otherwise peak at 8x its size)."""
    return max(4096, min(_CHUNK, n // 32))


def compact_dtype(n: int) -> torch.dtype:
    """Smallest integer dtype that holds ids below ``n`` (token tensors are stored compactly)."""
    return torch.uint8 if n <= 256 else torch.int16 if n <= 32767 else torch.int32


def codepoints(text: str) -> torch.Tensor:
    """Unicode code points of ``text`` as an int32 tensor, without a Python loop."""
    return torch.frombuffer(bytearray(text.encode("utf-32-le")), dtype=torch.int32)


def char_counts(text: str) -> dict[str, int]:
    """Character frequencies of ``text``, counted with tensor ops in chunks."""
    counts = torch.zeros(0, dtype=torch.int64)
    step = chunk_size(len(text))
    for i in range(0, len(text), step):
        c = torch.bincount(codepoints(text[i:i + step]))
        if c.numel() > counts.numel():
            c[: counts.numel()] += counts
            counts = c
        else:
            counts[: c.numel()] += c
    nz = counts.nonzero().flatten().tolist()
    return {chr(cp): int(counts[cp]) for cp in nz}


@dataclass(frozen=True)
class Vocab:
    """``tokens[i]`` is the text of id ``i``.

    kind "chars": a prompt is a string, one token per character.
    kind "numbers": a prompt is space-separated integers (the counting task).
    ``unk``/``boundary`` are ids of the unknown token and of the item boundary (names' ``.``), if any.
    """

    tokens: tuple[str, ...]
    kind: str = "chars"
    unk: int | None = None
    boundary: int | None = None
    _stoi: dict = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_stoi", {t: i for i, t in enumerate(self.tokens)})

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def stoi(self) -> dict[str, int]:
        return self._stoi

    # -- prompts and display -------------------------------------------------------------
    def known(self) -> str:
        """The tokens a prompt may use, for error messages."""
        if self.kind == "numbers":
            return f"whole numbers from 0 to {len(self) - 1}"
        shown = [t for i, t in enumerate(self.tokens) if i not in (self.unk, self.boundary)]
        return "".join(shown).replace("\n", "\\n")

    def encode(self, text: str) -> list[int]:
        """Ids of a prompt. Unknown characters become <unk> where the vocabulary has one."""
        if self.kind == "numbers":
            ids = []
            for word in text.split():
                if not (word.isascii() and word.isdigit()) or int(word) >= len(self):
                    raise SeqlmError(f"{word[:20]!r} is not a number the model knows; "
                                     f"use {self.known()}, separated by spaces.")
                ids.append(int(word))
            return ids
        stoi = self._stoi
        if self.unk is not None:
            return [stoi.get(ch, self.unk) for ch in text]
        unknown = sorted({ch for ch in text if ch not in stoi})
        if unknown:
            shown = "".join(unknown[:10])  # !r below escapes what cannot be shown (newlines...), once
            raise SeqlmError(f"the model does not know {shown!r}; it knows only {self.known()!r}.")
        return [stoi[ch] for ch in text]

    def decode(self, ids) -> str:
        """Text of a list of ids (numbers are joined by spaces)."""
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        if self.kind == "numbers":
            return " ".join(self.tokens[i] for i in ids)
        return "".join(self.tokens[i] for i in ids)

    # -- bulk encoding ---------------------------------------------------------------------
    def encode_tensor(self, text: str) -> torch.Tensor:
        """Encode a whole corpus with tensor ops, in chunks; returns a compact-dtype tensor."""
        if self.kind != "chars":
            raise ValueError("bulk encoding is for character vocabularies")
        top = max(ord(t) for t in self.tokens if len(t) == 1) + 1
        fill = self.unk if self.unk is not None else -1
        table = torch.full((top,), fill, dtype=torch.int32)
        for t, i in self._stoi.items():
            if len(t) == 1:
                table[ord(t)] = i
        out = torch.empty(len(text), dtype=compact_dtype(len(self)))
        step = chunk_size(len(text))
        for i in range(0, len(text), step):
            cp = codepoints(text[i:i + step])
            ids = torch.index_select(table, 0, cp.clamp(max=top - 1))
            ids[cp >= top] = fill
            if fill < 0 and bool((ids < 0).any()):
                bad = chr(int(cp[(ids < 0).nonzero()[0, 0]]))
                raise SeqlmError(f"the text has a character the vocabulary lacks: {bad!r}.")
            out[i:i + cp.numel()] = ids.to(out.dtype)
        return out

    # -- persistence -----------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"tokens": list(self.tokens), "kind": self.kind, "unk": self.unk, "boundary": self.boundary}

    @classmethod
    def from_dict(cls, d: dict) -> Vocab:
        return cls(tuple(d["tokens"]), d.get("kind", "chars"), d.get("unk"), d.get("boundary"))

    # -- constructors ----------------------------------------------------------------------
    @classmethod
    def numbers(cls, n: int) -> Vocab:
        return cls(tuple(str(i) for i in range(n)), kind="numbers")

    @classmethod
    def for_lines(cls, chars: set[str]) -> Vocab:
        """makemore's vocabulary: the boundary first (id 0), then the sorted characters.

        The boundary is shown as '.', or as a newline if the text itself uses '.'.
        """
        boundary = "\n" if "." in chars else "."
        return cls((boundary, *sorted(chars)), boundary=0)

    @classmethod
    def for_stream(cls, counts: dict[str, int]) -> Vocab:
        """d2l's vocabulary: <unk> first, then characters by decreasing frequency."""
        ordered = sorted(counts, key=lambda ch: (-counts[ch], ch))
        return cls((UNK, *ordered), unk=0)
