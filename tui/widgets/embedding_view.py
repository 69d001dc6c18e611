"""Insight / Embeddings: the character embedding as a scatter, each point labelled by its character."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from core.insight import EmbeddingMap

INTRO = "The embedding of the current model appears here (after each evaluation while it trains)."


class EmbeddingView(Vertical):
    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.map: EmbeddingMap | None = None  # None with ``message`` saying why
        self.message = INTRO
        self.step: int | None = None
        self.dirty = True

    def compose(self) -> ComposeResult:
        yield PlotextPlot(id="embedding-chart")
        yield Static(Text(INTRO), id="embedding-status")

    def show_map(self, emap: EmbeddingMap | None, step: int | None = None, message: str = "") -> None:
        """The map of the current model, or ``None`` with ``message`` when it has no embedding."""
        self.map, self.step = emap, step
        self.message = message
        if emap is not None:
            at = f" at step {step:,}" if step is not None else ""
            self.message = (f"{len(emap.labels)} characters{at}; {emap.method}. Characters the model treats "
                            "alike end up close together.")
        self.query_one("#embedding-status", Static).update(Text(self.message))
        self.dirty = True

    def points(self) -> list[tuple[str, float, float]]:
        """What is drawn (tests)."""
        if self.map is None:
            return []
        return list(zip(self.map.labels, self.map.x, self.map.y))

    def redraw_if_dirty(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        chart = self.query_one(PlotextPlot)
        plt = chart.plt
        plt.clear_data()
        plt.clear_figure()
        m = self.map
        chart.display = m is not None
        if m is not None:
            plt.title(f"character embedding ({m.method})")
            plt.scatter(m.x, m.y, marker="dot", color="gray")
            # the label is the point: plotext writes it over the marker at (x, y)
            for label, x, y in zip(m.labels, m.x, m.y):
                plt.text(label, x, y, color="blue", alignment="left")
        chart.refresh()
