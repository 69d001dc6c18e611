"""The bigram table as a shaded grid: row = current character, column = next character.

Two cells of text per entry keep 27 characters within 60 columns; the shade (five levels, the same with
or without colour) grows with the square root of the probability, so that rare pairs still show, while
the pairs that smoothing alone makes possible stay blank."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

SHADES = " ░▒▓█"


def shade(p: float, top: float, width: int = 2) -> str:
    if p <= 0 or top <= 0:
        return " " * width
    level = min(len(SHADES) - 1, round((p / top) ** 0.5 * (len(SHADES) - 1)))
    if level == 0 and p / top >= 0.01:
        level = 1  # rare but real; what smoothing alone gives (a few in 10,000) stays blank
    return SHADES[level] * width


class BigramGrid(Widget):
    DEFAULT_CSS = """
    BigramGrid {
        width: auto;
        height: auto;
    }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.labels: list[str] = []
        self.probs: list[list[float]] = []
        self.selected: int | None = None

    def show(self, labels: list[str], probs: list[list[float]], selected: int | None = None) -> None:
        self.labels, self.probs, self.selected = labels, probs, selected
        self.refresh(layout=True)

    def select(self, row: int | None) -> None:
        self.selected = row
        self.refresh()

    @property
    def cell(self) -> int:
        """Characters per entry: 2, or 3 for the counting task's numbers up to 127."""
        return 3 if any(len(label) == 3 for label in self.labels) else 2

    def _short(self, label: str) -> str:
        return label[:self.cell]  # "<unk>" keeps its "<u"

    def get_content_width(self, container, viewport) -> int:
        return 1 + (1 + len(self.labels)) * self.cell if self.labels else 1

    def get_content_height(self, container, viewport, width: int) -> int:
        return 1 + len(self.labels) if self.labels else 1

    def render(self) -> Text:
        if not self.labels:
            return Text("")
        top = max((max(row) for row in self.probs), default=0.0)
        w = self.cell
        out = Text(" " * (w + 1), no_wrap=True)
        for label in self.labels:
            out.append(f"{self._short(label):<{w}}", style="bold")
        for i, (label, row) in enumerate(zip(self.labels, self.probs)):
            mark = "reverse bold" if i == self.selected else "bold"
            out.append("\n")
            out.append(f"{self._short(label):>{w}}", style=mark)
            out.append("▸" if i == self.selected else " ", style="bold")
            out.append("".join(shade(p, top, w) for p in row))
        return out

    @property
    def plain(self) -> str:
        return self.render().plain
