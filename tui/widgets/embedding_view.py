"""Insight / Embeddings: the character embedding as a scatter, each point drawn as its own label.

The layout is core's (the command line draws the same picture): labels placed by display width and never
over one another, so the view shows every character the model has, or says which ones found no room."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from seqlm_tui.core.insight import EmbeddingMap
from seqlm_tui.core.textplot import framed

INTRO = "The embedding of the current model appears here (after each evaluation while it trains)."


class EmbeddingView(Vertical):
    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.map: EmbeddingMap | None = None  # None with ``message`` saying why
        self.message = INTRO
        self.step: int | None = None
        self.dirty = True
        self.placed: list[str] = []    # the labels drawn, and those that found no room (tests, the status)
        self.unplaced: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="embedding-chart")
        yield Static(Text(INTRO), id="embedding-status")

    def show_map(self, emap: EmbeddingMap | None, step: int | None = None, message: str = "") -> None:
        """The map of the current model, or ``None`` with ``message`` when it has no embedding."""
        self.map, self.step = emap, step
        self.message = message
        self.dirty = True
        self.update_status()

    def update_status(self) -> None:
        m = self.map
        if m is not None:
            at = f" at step {self.step:,}" if self.step is not None else ""
            shown = len(m.labels) - len(self.unplaced)
            self.message = (f"{len(m.labels)} characters{at}, {shown} drawn; {m.method}. Characters the model "
                            "treats alike end up close together.")
        self.query_one("#embedding-status", Static).update(Text(self.message))

    def points(self) -> list[tuple[str, float, float]]:
        """What is drawn (tests)."""
        if self.map is None:
            return []
        return list(zip(self.map.labels, self.map.x, self.map.y))

    def on_resize(self) -> None:
        self.dirty = True

    def redraw_if_dirty(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        chart = self.query_one("#embedding-chart", Static)
        m = self.map
        chart.display = m is not None
        if m is None:
            return
        size = chart.content_size
        lines, plot = framed(m.labels, m.x, m.y, max(20, size.width or 60), max(6, size.height or 12))
        self.placed = [p.label for p in plot.placed]
        self.unplaced = list(plot.unplaced)
        out = Text(no_wrap=True)
        for i, line in enumerate(lines):
            if i:
                out.append("\n")
            inside = "│" in line and line.count("│") >= 2
            if inside:
                left, _, rest = line.partition("│")
                body, _, right = rest.rpartition("│")
                out.append(left + "│", style="dim")
                out.append(body, style="bold")
                out.append("│" + right, style="dim")
            else:
                out.append(line, style="dim")
        chart.update(out)
        self.update_status()
