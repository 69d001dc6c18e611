"""Loss histories with bounded memory: long runs are compacted by averaging neighbours."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_POINTS = 4096


@dataclass
class Curve:
    steps: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    limit: int = MAX_POINTS
    _pending: list = field(default_factory=list, repr=False)
    _stride: int = field(default=1, repr=False)

    def add(self, step: float, value: float) -> None:
        """Record a point; once ``limit`` is reached, pairs are averaged so memory stays flat."""
        if self._stride == 1:  # the common case, kept cheap: it runs every training step
            self.steps.append(step)
            self.values.append(value)
            if len(self.steps) >= self.limit:
                self._compact()
            return
        self._pending.append((step, value))
        if len(self._pending) < self._stride:
            return
        n = len(self._pending)
        self.steps.append(sum(s for s, _ in self._pending) / n)
        self.values.append(sum(v for _, v in self._pending) / n)
        self._pending.clear()
        if len(self.steps) >= self.limit:
            self._compact()

    def _compact(self) -> None:
        self.steps = [(a + b) / 2 for a, b in zip(self.steps[::2], self.steps[1::2])]
        self.values = [(a + b) / 2 for a, b in zip(self.values[::2], self.values[1::2])]
        self._stride *= 2

    def __len__(self) -> int:
        return len(self.steps)

    def truncate(self, step: float) -> None:
        """Forget the points after ``step`` (a run resumed from an earlier step than its last)."""
        keep = sum(1 for s in self.steps if s <= step)
        del self.steps[keep:], self.values[keep:]
        self._pending.clear()

    def to_list(self) -> list[list[float]]:
        return [[s, v] for s, v in zip(self.steps, self.values)]

    @classmethod
    def from_list(cls, pairs) -> Curve:
        c = cls()
        for s, v in pairs or []:
            c.steps.append(float(s))
            c.values.append(float(v))
        return c


@dataclass
class History:
    train: Curve = field(default_factory=Curve)
    dev: Curve = field(default_factory=Curve)

    def to_dict(self) -> dict:
        return {"train": self.train.to_list(), "dev": self.dev.to_list()}

    def truncate(self, step: float) -> None:
        self.train.truncate(step)
        self.dev.truncate(step)

    @classmethod
    def from_dict(cls, d: dict | None) -> History:
        d = d or {}
        return cls(Curve.from_list(d.get("train")), Curve.from_list(d.get("dev")))


def downsample(xs: list[float], ys: list[float], width: int) -> tuple[list[float], list[float]]:
    """At most ``width`` points (bucket means), for drawing long histories in a narrow chart."""
    n = len(xs)
    if n <= width or width <= 0:
        return list(xs), list(ys)
    out_x, out_y = [], []
    for i in range(width):
        a, b = i * n // width, max((i + 1) * n // width, i * n // width + 1)
        out_x.append(sum(xs[a:b]) / (b - a))
        out_y.append(sum(ys[a:b]) / (b - a))
    return out_x, out_y
