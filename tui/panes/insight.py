"""Insight: views inside the model (embeddings, bigram table, health, neurons, attention) and across runs
(compare, memory).

The pane follows the current run (the app tells it which), and owns the two comparisons it can run:
the learning-rate comparison (r) and the memory task (m), each a worker of its own.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import TabbedContent, TabPane
from textual.worker import WorkerState, get_current_worker

from seqlm_tui.core import compare, memory
from seqlm_tui.core.config import RunConfig
from seqlm_tui.core.run import Run
from seqlm_tui.tui.jobs import ReportsJobs
from seqlm_tui.tui.messages import ComparisonEnded, MemoryResult, ModelReading, RateCurve
from seqlm_tui.tui.readings import reading
from seqlm_tui.tui.widgets.attention_view import AttentionView
from seqlm_tui.tui.widgets.bigram_view import BigramView
from seqlm_tui.tui.widgets.compare_view import CompareView
from seqlm_tui.tui.widgets.embedding_view import EmbeddingView
from seqlm_tui.tui.widgets.health_view import HealthView
from seqlm_tui.tui.widgets.memory_view import MemoryView
from seqlm_tui.tui.widgets.neuron_view import NeuronView
from seqlm_tui.tui.widgets.pane_tabs import PaneTabs

VIEWS = ("embeddings", "bigram", "health", "compare", "memory", "neurons", "attention")
REDRAW_S = 0.4
JOBS = ("compare", "memory")


class InsightPane(ReportsJobs, Vertical):
    view_shown = reactive("embeddings", bindings=True)

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.run: Run | None = None
        self.rates_total = self.rates_done = 0

    def compose(self) -> ComposeResult:
        with PaneTabs(initial="insight-embeddings", id="insight-tabs"):
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
            with TabPane("Neurons", id="insight-neurons"):
                yield NeuronView(id="neuron-view")
            with TabPane("Attention", id="insight-attention"):
                yield AttentionView(id="attention-view")

    def on_mount(self) -> None:
        self.embeddings = self.query_one(EmbeddingView)
        self.bigram = self.query_one(BigramView)
        self.health = self.query_one(HealthView)
        self.compare = self.query_one(CompareView)
        self.memory = self.query_one(MemoryView)
        self.neurons = self.query_one(NeuronView)
        self.attention = self.query_one(AttentionView)
        self.looks = {"neurons": self.neurons, "attention": self.attention}  # the views with keys of their own
        self.set_interval(REDRAW_S, self.tick)

    # -- the views -----------------------------------------------------------------------------------
    @property
    def view(self) -> str:
        """The sub-view shown: one of VIEWS."""
        return self.query_one("#insight-tabs", TabbedContent).active.removeprefix("insight-")

    def show_view(self, name: str) -> None:
        self.query_one("#insight-tabs", TabbedContent).active = f"insight-{name}"

    def cycle(self, delta: int) -> None:
        self.show_view(VIEWS[(VIEWS.index(self.view) + delta) % len(VIEWS)])

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.tabbed_content.id == "insight-tabs":
            event.stop()
            self.view_shown = self.view
            self.call_after_refresh(self.tick)

    def tick(self) -> None:
        """Only the visible chart is drawn (a plotext frame costs the training thread GIL time)."""
        if not self.is_on_screen:
            return
        widget = {"embeddings": self.embeddings, "health": self.health, "compare": self.compare,
                  "memory": self.memory}.get(self.view)
        if widget is not None:
            widget.redraw_if_dirty()

    # -- following the current run -----------------------------------------------------------------
    def views_composed(self) -> bool:
        """Each view has built its own widgets (a pane can be mounted a moment before its views are)."""
        views = (self.embeddings, self.bigram, self.health, self.compare, self.memory, self.neurons, self.attention)
        return all(v.is_mounted and v.children for v in views)

    def follow(self, run: Run, label: str, training: bool) -> None:
        """``run`` is now the current one. Its weights are read here unless it is training (the trainer
        then reports them at each evaluation, while they stand still)."""
        if not self.views_composed():
            self.call_after_refresh(self.follow, run, label, training)  # once the views are in
            return
        self.run = run
        self.health.reset("the counting bigram learns by counting: it has no gradients to show."
                          if run.model.trains_by_counting else "")
        self.compare.add_run(run, label)
        for view in self.looks.values():
            view.follow(run)
        if not training:
            self.read_worker(run)

    @work(thread=True, group="reading", exclusive=True, exit_on_error=False)
    def read_worker(self, run: Run) -> None:
        self.post_message(reading(run))

    def show_reading(self, msg: ModelReading) -> None:
        if msg.run is not self.run:
            return  # from a run that has been replaced since
        self.embeddings.show_map(msg.embedding, msg.step, msg.embedding_note)
        self.bigram.show_table(msg.bigram, msg.step, msg.bigram_note)

    def on_model_reading(self, msg: ModelReading) -> None:
        msg.stop()
        self.show_reading(msg)

    # -- the comparisons -----------------------------------------------------------------------------
    @property
    def comparing(self) -> bool:
        return bool(self.jobs())

    def jobs(self):
        return [w for w in self.app.workers if w.node is self and w.group in JOBS
                and w.state in (WorkerState.PENDING, WorkerState.RUNNING)]

    def stop(self) -> bool:
        jobs = self.jobs()
        for w in jobs:
            w.cancel()
        return bool(jobs)

    def start_memory(self) -> None:
        """m: the memory task with the view's settings (SeqlmError for bad ones: the caller shows it)."""
        self.show_view("memory")
        if any(w.group == "memory" for w in self.jobs()):
            self.app.notify("the memory comparison is already running (x stops it).")
            return
        models, lengths, steps, hidden = self.memory.read_settings()
        self.memory.start(models, lengths, steps, memory.chance())
        self.memory_worker(models, lengths, steps, hidden)

    @work(thread=True, group="memory", exit_on_error=False)
    def memory_worker(self, models: list[str], lengths: list[int], steps: int, hidden: int) -> None:
        stop = get_current_worker().cancelled_event
        for result in memory.compare_memory(models, lengths, steps, stop=stop, hidden=hidden):
            self.post_message(MemoryResult(result))
        self.post_message(ComparisonEnded("memory", stopped=stop.is_set()))

    def start_rates(self, cfg: RunConfig) -> None:
        """r: the Setup's model at each rate typed in the view."""
        self.show_view("compare")
        if any(w.group == "compare" for w in self.jobs()):
            self.app.notify("the learning-rate comparison is already running (x stops it).")
            return
        rates, steps = self.compare.read_settings()
        self.compare.set_status(f"training {cfg.model.model} on {cfg.data.dataset} at {len(rates)} learning rates, "
                                f"{steps:,} steps each... (x stops)")
        self.rates_total, self.rates_done = len(rates), 0
        self.rates_worker(cfg, rates, steps)

    @work(thread=True, group="compare", exit_on_error=False)
    def rates_worker(self, cfg: RunConfig, rates: list[float], steps: int) -> None:
        stop = get_current_worker().cancelled_event
        for curve in compare.lr_comparison(cfg, rates, steps, stop=stop):
            self.post_message(RateCurve(curve))
        self.post_message(ComparisonEnded("compare", stopped=stop.is_set()))

    def on_memory_result(self, msg: MemoryResult) -> None:
        msg.stop()
        self.memory.add(msg.result)

    def on_rate_curve(self, msg: RateCurve) -> None:
        msg.stop()
        self.compare.add_curve(msg.curve)
        self.rates_done += 1
        self.compare.set_status(f"{self.rates_done} of {self.rates_total} rates done: {msg.curve.label}... (x stops)")

    def on_comparison_ended(self, msg: ComparisonEnded) -> None:
        msg.stop()
        if msg.kind == "memory":
            self.memory.finish(msg.stopped)
        else:
            self.compare.set_status(f"stopped after {self.rates_done} of {self.rates_total} rates." if msg.stopped
                                    else f"done: {self.rates_done} runs added and ticked; r runs it again.")

    def on_worker_state_changed(self, event) -> None:
        w = event.worker
        if w.node is not self or w.group not in JOBS:
            return
        self.refresh_bindings()
        if event.state == WorkerState.ERROR:
            if w.group == "memory":
                self.memory.finish(error=str(w.error))
            else:
                self.compare.set_status(str(w.error))
