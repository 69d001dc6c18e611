"""One attention matrix as a character grid: rows are queries (the character read), columns the keys it
may look at; a cell outside the causal window is blank. In colour each text row holds two query rows
(an upper half block in the upper row's colour on the lower row's), so a window of 32 fits in 16 lines;
with NO_COLOR each query has its row and the shades are glyphs."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from seqlm_tui.core.attention import COLOURS, MASKED, SHADES
from seqlm_tui.core.fmt import cell_width, fit


class AttentionGrid(Widget):
    DEFAULT_CSS = """
    AttentionGrid {
        width: auto;
        height: auto;
        padding-right: 2;
    }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.levels: list[list[int]] = []
        self.labels: list[str] = []
        self.title = ""
        self.halves = True

    def show(self, levels: list[list[int]], labels: list[str], title: str, halves: bool) -> None:
        self.levels, self.labels, self.title, self.halves = levels, labels, title, halves
        self.refresh(layout=True)

    @property
    def cell(self) -> int:
        return max(1, max((cell_width(lab) for lab in self.labels), default=1))

    @property
    def label_width(self) -> int:
        return self.cell * (2 if self.halves else 1)

    def get_content_width(self, container, viewport) -> int:
        return max(cell_width(self.title), self.label_width + 1 + len(self.labels) * self.cell)

    def get_content_height(self, container, viewport, width: int) -> int:
        n = len(self.labels)
        return 2 + ((n + 1) // 2 if self.halves else n)

    def render(self) -> Text:
        out = Text(no_wrap=True, overflow="crop")
        out.append(self.title + "\n", style="bold")
        cw, lw = self.cell, self.label_width
        out.append(" " * (lw + 1) + "".join(fit(lab, cw) for lab in self.labels), style="bold")
        n = len(self.labels)
        for r in range(0, n, 2 if self.halves else 1):
            out.append("\n")
            if self.halves:
                out.append(fit("".join(fit(lab, cw) for lab in self.labels[r:r + 2]), lw, ">") + " ", style="bold")
                lower = self.levels[r + 1] if r + 1 < n else [MASKED] * n
                for upper, low in zip(self.levels[r], lower):
                    out.append(*_half(upper, low))
                    out.append(" " * (cw - 1))
            else:
                out.append(fit(self.labels[r], lw, ">") + " ", style="bold")
                out.append("".join((" " if v == MASKED else SHADES[v]) * cw for v in self.levels[r]))
        return out

    @property
    def plain(self) -> str:
        return self.render().plain


def _half(upper: int, lower: int) -> tuple[str, Style | None]:
    if upper == MASKED and lower == MASKED:
        return " ", None
    if upper == MASKED:
        return "▄", Style(color=COLOURS[lower])
    return "▀", Style(color=COLOURS[upper], bgcolor=None if lower == MASKED else COLOURS[lower])
