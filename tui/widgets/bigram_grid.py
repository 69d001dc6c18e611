"""The bigram table as a shaded grid: row = current character, column = next character.

The shade (five levels, the same with or without colour) is core's (``core.fmt.shade_level``, as the
command line draws it). Two cells of text per entry when the pane is wide enough, one when it is not
(27 characters in 29 columns), so that a names table is whole at 80 columns."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from seqlm_tui.core.fmt import SHADES, cell_width, fit, shade_level


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

    def cell_for(self, room: int) -> int:
        """Cells per entry in ``room`` columns: 3 for the counting task's numbers up to 127, else 2, or 1
        when 2 would not fit."""
        if any(cell_width(label) >= 3 and not label.startswith("<") for label in self.labels):
            return 3
        return 1 if room and 1 + (1 + len(self.labels)) * 2 > room else 2

    @property
    def cell(self) -> int:
        return self.cell_for(self.size.width)

    def _short(self, label: str) -> str:
        return fit(label, self.cell) if cell_width(label) > self.cell else label  # "<unk>" keeps its "<"

    def get_content_width(self, container, viewport) -> int:
        return 1 + (1 + len(self.labels)) * self.cell_for(container.width) if self.labels else 1

    def get_content_height(self, container, viewport, width: int) -> int:
        return 1 + len(self.labels) if self.labels else 1

    def render(self) -> Text:
        if not self.labels:
            return Text("")
        top = max((max(row) for row in self.probs), default=0.0)
        w = self.cell
        out = Text(" " * (w + 1), no_wrap=True)
        for label in self.labels:
            out.append(fit(self._short(label), w), style="bold")
        for i, (label, row) in enumerate(zip(self.labels, self.probs)):
            mark = "reverse bold" if i == self.selected else "bold"
            out.append("\n")
            out.append(fit(self._short(label), w, ">"), style=mark)
            out.append("▸" if i == self.selected else " ", style="bold")
            out.append("".join(SHADES[shade_level(p, top)] * w for p in row))
        return out

    @property
    def plain(self) -> str:
        return self.render().plain
