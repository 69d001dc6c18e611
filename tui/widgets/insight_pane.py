"""Insight: views inside the model (embeddings, bigram table, health) and across runs (compare, memory)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import TabbedContent, TabPane

from tui.widgets.bigram_view import BigramView
from tui.widgets.compare_view import CompareView
from tui.widgets.embedding_view import EmbeddingView
from tui.widgets.health_view import HealthView
from tui.widgets.memory_view import MemoryView

VIEWS = ("embeddings", "bigram", "health", "compare", "memory")


class InsightPane(Vertical):
    def compose(self) -> ComposeResult:
        with TabbedContent(initial="insight-embeddings", id="insight-tabs"):
            with TabPane("Embeddings", id="insight-embeddings"):
                yield EmbeddingView(id="embedding-view")
            with TabPane("Bigram", id="insight-bigram"):
                yield BigramView(id="bigram-view")
            with TabPane("Health", id="insight-health"):
                yield HealthView(id="health-view")
            with TabPane("Compare", id="insight-compare"):
                yield CompareView(id="compare-view")
            with TabPane("Memory", id="insight-memory"):
                yield MemoryView(id="memory-view")

    def on_mount(self) -> None:
        self.embeddings = self.query_one(EmbeddingView)
        self.bigram = self.query_one(BigramView)
        self.health = self.query_one(HealthView)
        self.compare = self.query_one(CompareView)
        self.memory = self.query_one(MemoryView)

    @property
    def view(self) -> str:
        """The sub-view shown: one of VIEWS."""
        return self.query_one("#insight-tabs", TabbedContent).active.removeprefix("insight-")

    def show_view(self, name: str) -> None:
        self.query_one("#insight-tabs", TabbedContent).active = f"insight-{name}"

    def cycle(self, delta: int) -> None:
        self.show_view(VIEWS[(VIEWS.index(self.view) + delta) % len(VIEWS)])

    def redraw_if_dirty(self) -> None:
        """Only the visible chart is drawn (a plotext frame costs the training thread GIL time)."""
        widget = {"embeddings": self.embeddings, "health": self.health, "compare": self.compare,
                  "memory": self.memory}.get(self.view)
        if widget is not None:
            widget.redraw_if_dirty()
