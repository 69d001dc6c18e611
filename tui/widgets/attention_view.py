"""Insight / Attention: the Transformer's attention over a text, one layer and head as a grid (rows: the
character read, columns: the characters it looks at), the average of the layer's heads beside it (below
it when the pane is too narrow for both), the rolling window showing as the band the queries may see.

The weights come from the model's own explicit attention path (core.attention), read again at each
evaluation while it trains and when a checkpoint is loaded.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label, Static
from textual.worker import WorkerState

from seqlm_tui.core.attention import COLOURS, SHADES, has_attention, no_attention, read_attention
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.fmt import cell_width, shade_edges
from seqlm_tui.tui.jobs import ReportsJobs
from seqlm_tui.tui.messages import AttentionRead
from seqlm_tui.tui.widgets.attention_grid import AttentionGrid
from seqlm_tui.tui.widgets.looking import SOURCE_NAMES, SOURCES, LookKeys, conversation, still_model, text_for

INTRO = "The attention of a Transformer over a text appears here (set the model to transformer in Setup)."
DEV_LENGTH = 48    # characters of the dev split: more than the default window of 32, so its edge shows
ENDED = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)


class AttentionView(LookKeys, ReportsJobs, Vertical):
    KEYS = ("head", "layer", "text")
    DEFAULT_CSS = """
    AttentionView { height: 1fr; }
    #attention-status, #attention-legend { height: auto; color: $text-muted; }
    #attention-pick { height: 1; }
    #attention-input { width: 1fr; }
    #attention-scroll { height: 1fr; }
    #attention-grids { height: auto; width: auto; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.run = None
        self.reading = None
        self.step = 0
        self.chosen_layer = self.chosen_head = 0
        self.source = "dev"
        self.pending = False
        self.reads = 0
        self.problem = ""
        self.side_by_side = True
        self.shown = 0     # positions drawn (the last ones of the text)

    def compose(self) -> ComposeResult:
        yield Static(Text(INTRO), id="attention-status")
        with Horizontal(id="attention-pick"):
            yield Label("text ")
            yield Input("", id="attention-input", compact=True,
                        placeholder="type a text, Enter reads it (e: next text)")
        with VerticalScroll(id="attention-scroll"):
            with Container(id="attention-grids"):
                yield AttentionGrid(id="attention-head")
                yield AttentionGrid(id="attention-average")
        yield Static("", id="attention-legend")

    # -- following the run ---------------------------------------------------------------------------
    def follow(self, run) -> None:
        self.run, self.reading, self.problem = run, None, ""
        self.redraw()
        self.request()
        self.app.refresh_bindings()

    def evaluated(self, step: int, model=None) -> None:
        """As the neuron view's (``NeuronView.evaluated``)."""
        self.request((model, step) if model is not None else None)

    def reading_now(self) -> bool:
        return any(w.node is self and w.group == "attention" and w.state not in ENDED for w in self.app.workers)

    def request(self, weights=None) -> None:
        """Read the text with ``weights`` (a model copy and its step), else a copy of the run's model."""
        if self.run is None:
            return
        if not has_attention(self.run.model):
            self.problem = no_attention(self.run.model)
            self.redraw()
            return
        if self.reading_now():
            self.pending = weights or True
            return
        self.read_worker(self.run, self.source, self.query_one("#attention-input", Input).value,
                         conversation(self.app), weights)

    @work(thread=True, group="attention", exit_on_error=False)
    def read_worker(self, run, source: str, typed: str, talk: str, weights=None) -> None:
        try:
            text = text_for(source, run, typed, talk, DEV_LENGTH)
            model, step = weights or still_model(self.app, run)
            reading = read_attention(model, run.vocab, text[-1000:] if source == "prompt" else text)
        except SeqlmError as err:
            self.post_message(AttentionRead(run, run.step, error=str(err)))
            return
        self.post_message(AttentionRead(run, step, reading))

    def on_worker_state_changed(self, event) -> None:
        if event.worker.group == "attention" and event.state in ENDED and self.pending:
            weights, self.pending = self.pending, False
            self.request(weights if weights is not True else None)

    def on_attention_read(self, msg: AttentionRead) -> None:
        msg.stop()
        if msg.run is not self.run:
            return
        if msg.error:
            self.problem = msg.error
            self.redraw()
            return
        first = self.reading is None
        self.reading, self.step, self.problem = msg.reading, msg.step, ""
        self.chosen_layer %= self.reading.layers
        self.chosen_head %= self.reading.heads
        self.reads += 1
        self.redraw()
        if first:
            self.app.refresh_bindings()

    # -- keys ------------------------------------------------------------------------------------------
    def ready_for(self, what: str) -> bool:
        if what == "text":
            return self.run is not None and has_attention(self.run.model)
        return self.reading is not None

    def key_head(self, delta: int) -> None:
        self.chosen_head = (self.chosen_head + delta) % self.reading.heads
        self.redraw()

    def key_layer(self) -> None:
        self.chosen_layer = (self.chosen_layer + 1) % self.reading.layers
        self.redraw()

    def key_text(self) -> None:
        self.source = SOURCES[(SOURCES.index(self.source) + 1) % len(SOURCES)]
        if self.source == "typed" and not self.query_one("#attention-input", Input).value.strip():
            self.query_one("#attention-input", Input).focus()
        self.request()
        self.redraw()

    def choose(self, layer: int | None = None, head: int | None = None) -> None:
        """Show ``layer`` and/or ``head`` (0-based), as the keys would (lessons)."""
        self.chosen_layer = self.chosen_layer if layer is None else layer
        self.chosen_head = self.chosen_head if head is None else head
        self.redraw()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "attention-input":
            event.stop()
            self.source = "typed"
            self.request()

    def on_resize(self) -> None:
        self.call_after_refresh(self.redraw)

    # -- drawing ---------------------------------------------------------------------------------------
    def layout_for(self, width: int) -> tuple[int, bool]:
        """(positions drawn, side by side) in ``width`` cells: both grids side by side when the whole text
        fits so, else one above the other, each showing the last positions that fit."""
        r = self.reading
        cw = max(1, max(cell_width(lab) for lab in r.labels))
        lw = cw * (1 if self.app.no_color else 2)
        per = lw + 1 + 2  # label, space, the grid's right padding
        if 2 * (per + len(r) * cw) <= width:
            return len(r), True
        return max(1, min(len(r), (width - per) // cw)), False

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        r = self.reading
        status = self.query_one("#attention-status", Static)
        self.query_one("#attention-scroll").display = r is not None
        if r is None:
            status.update(Text(self.problem or INTRO))
            self.query_one("#attention-legend", Static).update("")
            return
        width = self.query_one("#attention-scroll").size.width or self.size.width or 80
        self.shown, self.side_by_side = self.layout_for(width - 1)
        start = len(r) - self.shown
        labels = ["␣" if lab == " " else lab for lab in r.labels[start:]]
        halves = not self.app.no_color
        self.query_one("#attention-grids").styles.layout = "horizontal" if self.side_by_side else "vertical"
        layer, head = self.chosen_layer, self.chosen_head
        self.query_one("#attention-head", AttentionGrid).show(
            r.grid(layer, head, start, len(r)), labels, f"layer {layer + 1} head {head + 1}", halves)
        self.query_one("#attention-average", AttentionGrid).show(
            r.grid(layer, None, start, len(r)), labels, f"layer {layer + 1}, average of {r.heads} heads", halves)
        reach = " ".join(f"[{r.reach(layer, h):.1f}]" if h == head else f"{r.reach(layer, h):.1f}"
                         for h in range(r.heads))
        cut = f", the last {self.shown} drawn" if self.shown < len(r) else ""
        status.update(Text(
            f"{r.title} · layer {layer + 1}/{r.layers}, head {head + 1}/{r.heads} · step {self.step:,} · "
            f"{SOURCE_NAMES[self.source]}, {len(r)} chars{cut} · window {r.window}\n"
            f"each head looks back (chars): {reach}" + (f"\n{self.problem}" if self.problem else "")))
        self.query_one("#attention-legend", Static).update(self.legend())

    def legend(self) -> Text:
        e = shade_edges(1.0)
        out = Text("weight ")
        for level, edge in enumerate(("<.01", f"<{e[1]:.2f}", f"<{e[2]:.2f}", f"<{e[3]:.2f}", "more")):
            if self.app.no_color:
                out.append(SHADES[level])
            else:
                out.append("█", COLOURS[level])
            out.append(f"{edge} ")
        out.append("· blank: outside the causal window")
        return out
