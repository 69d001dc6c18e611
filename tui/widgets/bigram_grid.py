"""The bigram table as a shaded grid: row = current character, column = next character.

The shade (five levels, the same with or without colour) is core's (``core.fmt.shade_level``, as the
command line draws it). Two cells of text per entry when the pane is wide enough, one when it is not
(27 characters in 29 columns), so that a names table is whole at 80 columns.

The grid scrolls itself (Textual's line API): the column labels stay on its first line and the row labels
in its first columns whatever row is chosen or how far it is scrolled, as a spreadsheet's headers do. The
chosen row is kept in view."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from seqlm_tui.core.fmt import SHADES, cell_width, fit, shade_level

BOLD, MARKED = Style(bold=True), Style(bold=True, reverse=True)


class BigramGrid(ScrollView, can_focus=False):
    DEFAULT_CSS = """
    BigramGrid {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.labels: list[str] = []
        self.probs: list[list[float]] = []
        self.selected: int | None = None

    def show(self, labels: list[str], probs: list[list[float]], selected: int | None = None) -> None:
        self.labels, self.probs, self.selected = labels, probs, selected
        self._resize()
        self.call_after_refresh(self._keep_in_view)

    def select(self, row: int | None) -> None:
        self.selected = row
        self.refresh()
        self.call_after_refresh(self._keep_in_view)

    def on_resize(self) -> None:
        self._resize()
        self.call_after_refresh(self._keep_in_view)

    def _resize(self) -> None:
        n = len(self.labels)
        self.virtual_size = Size(self.side + n * self.cell, n + 1) if n else Size(0, 0)
        self.refresh()

    def _keep_in_view(self) -> None:
        """The chosen row within the rows shown (the first line is the column labels)."""
        rows = self.scrollable_content_region.height - 1
        if self.selected is None or rows <= 0:
            return
        if not self.scroll_y <= self.selected < self.scroll_y + rows:
            self.scroll_to(y=max(0, self.selected - rows // 2), animate=False)

    def cell_for(self, room: int) -> int:
        """Cells per entry in ``room`` columns: 3 for the counting task's numbers up to 127, else 2, or 1
        when 2 would not fit."""
        if any(cell_width(label) >= 3 and not label.startswith("<") for label in self.labels):
            return 3
        return 1 if room and 1 + (1 + len(self.labels)) * 2 > room else 2

    @property
    def cell(self) -> int:
        return self.cell_for(self.scrollable_content_region.width)

    @property
    def side(self) -> int:
        """Columns of the row labels and the chosen row's mark."""
        return self.cell + 1

    def _short(self, label: str) -> str:
        return fit(label, self.cell) if cell_width(label) > self.cell else label  # "<unk>" keeps its "<"

    def _line(self, y: int) -> tuple[list[Segment], list[Segment]]:
        """Line ``y`` of the whole table as (row label part, grid part); line 0 is the column labels."""
        w = self.cell
        if y == 0:
            return [Segment(" " * (w + 1))], [Segment("".join(fit(self._short(s), w) for s in self.labels), BOLD)]
        i = y - 1
        top = max((max(row) for row in self.probs), default=0.0)
        chosen = i == self.selected
        head = [Segment(fit(self._short(self.labels[i]), w, ">"), MARKED if chosen else BOLD),
                Segment("▸" if chosen else " ", BOLD)]
        return head, [Segment("".join(SHADES[shade_level(p, top)] * w for p in self.probs[i]))]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        line = 0 if y == 0 else scroll_y + y
        if not self.labels or line > len(self.labels):
            return Strip.blank(width, self.rich_style)
        head, body = self._line(line)
        side = self.side
        grid = Strip(body).crop(scroll_x, scroll_x + max(0, width - side))
        return Strip([*head, *grid]).extend_cell_length(width).crop(0, width).apply_style(self.rich_style)

    @property
    def plain(self) -> str:
        """The whole table as text, every row (tests)."""
        if not self.labels:
            return ""
        return "\n".join(Text.assemble(*((s.text, s.style) for part in self._line(y) for s in part)).plain
                         for y in range(len(self.labels) + 1))
