"""Simple features of a text, and how strongly each hidden unit follows them: the "find" of the neuron
view (a unit that tracks quotes, one that counts the position in the line), the ranking of units by a
span of the text (LSTMVis), and a unit's score over training.

A feature gives one number per position, for the state after reading that position's character; NaN
where it is undefined (what comes next, at the last position). A unit's score for a feature is Pearson's
r between its activation and the feature over the text: +1 it rises with the feature, -1 it falls with
it, 0 it ignores it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.neurons import NeuronReading

VOWELS = set("aeiouAEIOU")
OPEN_QUOTES, CLOSE_QUOTES = "“‘«", "”’»"
OPEN_PARENS, CLOSE_PARENS = "([{", ")]}"
SPARKS = "▁▂▃▄▅▆▇█"
ASCII_SPARKS = "_.-=*#"
HISTORY_POINTS = 120  # evaluations kept per run; beyond, every other one is dropped (the span is kept)


def _is_letter(ch: str) -> bool:
    return len(ch) == 1 and ch.isalpha()


def _quotes(chars: list[str]) -> list[float]:
    inside, out = False, []
    for ch in chars:
        if ch == '"':
            inside = not inside
        elif ch in OPEN_QUOTES:
            inside = True
        elif ch in CLOSE_QUOTES and ch != "’":  # ’ is far more often an apostrophe than a closing quote
            inside = False
        out.append(float(inside))
    return out


def _parens(chars: list[str]) -> list[float]:
    depth, out = 0, []
    for ch in chars:
        if ch in OPEN_PARENS:
            depth += 1
        elif ch in CLOSE_PARENS:
            depth = max(0, depth - 1)
        out.append(float(depth > 0))
    return out


def _line_position(chars: list[str]) -> list[float]:
    pos, out = 0, []
    for ch in chars:
        pos = 0 if ch == "\n" else pos + 1
        out.append(float(pos))
    return out


def _word_position(chars: list[str]) -> list[float]:
    pos, out = 0, []
    for ch in chars:
        pos = pos + 1 if _is_letter(ch) else 0
        out.append(float(pos))
    return out


def _after_space(chars: list[str]) -> list[float]:
    return [float(ch == " ") for ch in chars]


def _vowel_next(chars: list[str]) -> list[float]:
    return [float(nxt in VOWELS) for nxt in chars[1:]] + [math.nan]


def _word_end(chars: list[str]) -> list[float]:
    return [float(_is_letter(ch) and not _is_letter(nxt)) for ch, nxt in zip(chars, chars[1:])] + [math.nan]


@dataclass(frozen=True)
class Feature:
    name: str
    about: str                                   # what it is, for lists and help
    fn: Callable[[list[str]], list[float]] = field(repr=False)


FEATURES: dict[str, Feature] = {f.name: f for f in (
    Feature("quotes", "inside double quotes", _quotes),
    Feature("parens", "inside parentheses or brackets", _parens),
    Feature("line-position", "characters since the start of the line (of the name)", _line_position),
    Feature("word-position", "letters since the start of the word", _word_position),
    Feature("after-space", "the character just read is a space", _after_space),
    Feature("vowel-next", "the next character is a vowel", _vowel_next),
    Feature("word-end", "the next character ends the word", _word_end),
)}


def get(name: str) -> Feature:
    try:
        return FEATURES[name]
    except KeyError:
        raise SeqlmError(f"unknown feature {name!r}; choose one of {', '.join(FEATURES)}.") from None


def values(feature: str, chars: list[str]) -> torch.Tensor:
    """The feature at each position (float64, NaN where undefined)."""
    return torch.tensor(get(feature).fn(chars), dtype=torch.float64)


def usable(feature: str, chars: list[str]) -> bool:
    """Whether the feature varies over the text (a text without quotes says nothing about them)."""
    v = values(feature, chars)
    v = v[~torch.isnan(v)]
    return v.numel() > 1 and bool((v != v[0]).any())


def unusable(feature: str) -> str:
    f = get(feature)
    return (f"'{f.name}' ({f.about}) is the same at every position of this text, so no unit can follow it; "
            "pick another feature or another text.")


def correlations(acts: torch.Tensor, feature: torch.Tensor) -> torch.Tensor:
    """Pearson's r of each column of ``acts`` (positions, units) with ``feature`` (positions), over the
    positions where the feature is defined; 0 for a unit that does not vary."""
    keep = ~torch.isnan(feature)
    a = acts.to(torch.float64)[keep]
    f = feature[keep]
    a = a - a.mean(0, keepdim=True)
    f = f - f.mean()
    den = (a.square().sum(0) * f.square().sum()).sqrt()
    num = (a * f.unsqueeze(1)).sum(0)
    return torch.where(den > 1e-12, num / den.clamp(min=1e-300), torch.zeros_like(num))


def score_table(reading: NeuronReading) -> dict[str, list[torch.Tensor | None]]:
    """{feature: [r of every unit, per group]} for every feature the text lets vary (None for the others)."""
    out: dict[str, list[torch.Tensor | None]] = {}
    for name in FEATURES:
        if not usable(name, reading.chars):
            out[name] = [None] * len(reading.groups)
            continue
        v = values(name, reading.chars)
        out[name] = [correlations(g.values, v).to(torch.float32) for g in reading.groups]
    return out


def rank(reading: NeuronReading, group: int, feature: str, table=None) -> list[tuple[int, float]]:
    """(unit, r) of the group's units, the strongest followers of the feature first (by |r|)."""
    if not usable(feature, reading.chars):
        raise SeqlmError(unusable(feature))
    r = (table or score_table(reading))[feature][group % len(reading.groups)]
    order = torch.argsort(r.abs(), descending=True, stable=True).tolist()
    return [(u, float(r[u])) for u in order]


def unit_scores(reading: NeuronReading, group: int, unit: int, table=None) -> list[tuple[str, float]]:
    """(feature, r) of one unit for every usable feature, the strongest first."""
    table = table or score_table(reading)
    rows = [(name, float(rs[group % len(rs)][unit])) for name, rs in table.items() if rs[0] is not None]
    return sorted(rows, key=lambda kv: -abs(kv[1]))


def strongest(table: dict, group: int) -> tuple[str, int, float] | None:
    """(feature, unit, r): of all the group's units and the features the text lets vary, the unit that follows
    one most strongly; None when no feature varies."""
    best = None
    for name, rs in table.items():
        r = rs[group]
        if r is not None:
            u = int(r.abs().argmax())
            if best is None or abs(float(r[u])) > abs(best[2]):
                best = (name, u, float(r[u]))
    return best


def span_rank(reading: NeuronReading, group: int, start: int, end: int) -> list[tuple[int, float]]:
    """(unit, d) of the group's units ranked by how much more (or less) active they are inside positions
    ``start..end-1`` than outside: d = (mean inside - mean outside) / the unit's spread over the text,
    largest |d| first."""
    acts = reading.group(group).values.to(torch.float64)
    n = acts.shape[0]
    start, end = max(0, start), min(n, end)
    if not 0 < end - start < n:
        raise SeqlmError("select part of the text (not all of it) to rank the units by it.")
    inside = torch.zeros(n, dtype=torch.bool)
    inside[start:end] = True
    d = acts[inside].mean(0) - acts[~inside].mean(0)
    spread = acts.std(0)
    d = torch.where(spread > 1e-9, d / spread.clamp(min=1e-9), torch.zeros_like(d))
    order = torch.argsort(d.abs(), descending=True, stable=True).tolist()
    return [(u, float(d[u])) for u in order]


class ScoreHistory:
    """Every unit's score for every feature at each evaluation of one run, on one text: a unit's line over
    training shows it becoming (or not) a detector, whichever unit is picked later."""

    def __init__(self) -> None:
        self.key: object = None
        self.points: list[tuple[int, dict]] = []

    def add(self, key: object, step: int, table: dict) -> None:
        """Scores of the evaluation at ``step``; another ``key`` (run, text) starts a new history."""
        if key != self.key:
            self.key, self.points = key, []
        if self.points and self.points[-1][0] == step:
            self.points[-1] = (step, table)
            return
        self.points.append((step, table))
        if len(self.points) > HISTORY_POINTS:
            self.points = self.points[:-1:2] + self.points[-1:]

    def of(self, feature: str, group: int, unit: int) -> list[tuple[int, float]]:
        out = []
        for step, table in self.points:
            rs = table.get(feature)
            if rs is not None and rs[group % len(rs)] is not None and unit < rs[group % len(rs)].numel():
                out.append((step, float(rs[group % len(rs)][unit])))
        return out


def sparkline(scores: list[float], width: int, ascii_only: bool = False) -> str:
    """|r| of each point (0..1) as a bar; the last ``width`` points."""
    marks = ASCII_SPARKS if ascii_only else SPARKS
    top = len(marks) - 1
    return "".join(marks[min(top, max(0, round(abs(s) * top)))] for s in scores[-width:])
