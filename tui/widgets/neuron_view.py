"""Insight / Neurons: a text run through the current model, each character coloured by one hidden unit
(Elman, RNN, LSTM h and cell, GRU, the MLP's hidden layer), and ways to choose the unit: step through them,
"find" the units that follow a feature of the text, or select a span and rank the units by it.

It follows the run: the text is read again at each evaluation while the model trains (and when a checkpoint
is loaded), with the chosen unit kept, and every unit's feature scores are kept at each one, so that a
unit's line over training shows it becoming a detector. The numbers are core's (core.neurons,
core.features); this view only draws them and keeps what is chosen.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import WorkerState

from seqlm_tui.core import features
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.neurons import GLYPHS, STRONG, WEAK, has_units, no_units, pick_group, read_neurons
from seqlm_tui.tui.jobs import ReportsJobs
from seqlm_tui.tui.messages import NeuronsRead
from seqlm_tui.tui.widgets.looking import SOURCE_NAMES, SOURCES, LookKeys, conversation, still_model, text_for
from seqlm_tui.tui.widgets.neuron_text import LEVEL_STYLES, NeuronText

INTRO = ("The hidden units of the current model over a text appear here (recurrent models and the MLP), "
         "read again at each evaluation while it trains.")
DEV_LENGTH = 500   # characters of the dev split read by default
ENDED = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)


class NeuronView(LookKeys, ReportsJobs, Vertical):
    KEYS = ("unit", "find", "feature", "cell", "layer", "guesses", "text")
    DEFAULT_CSS = """
    NeuronView { height: 1fr; }
    #neuron-status, #neuron-legend { height: auto; color: $text-muted; }
    #neuron-pick { height: 1; }
    #neuron-input { width: 1fr; }
    #neuron-body { height: 1fr; }
    #neuron-scroll { width: 1fr; height: 1fr; }
    #neuron-side { width: 24; padding-left: 1; }
    #neuron-rank { height: 1fr; min-height: 3; }
    #neuron-history { height: auto; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.run = None
        self.reading = self.table = self.step = self.text_key = None
        self.kind: tuple[str, int] | None = None   # the group shown, as (kind, layer): kept across readings
        self.unit = 0                              # the pinned unit
        self.feature = "word-end"
        self.feature_chosen = False   # t was pressed: keep the feature; else the text's strongest is shown
        self.source = "dev"
        self.guesses = False
        self.ranking: list[tuple[int, float]] | None = None
        self.rank_by: tuple[str, object] | None = None   # ("feature", name) or ("span", (start, end))
        self.history = features.ScoreHistory()
        self.pending = False
        self.reads = 0           # readings shown (tests wait for them)
        self.problem = ""        # why the last reading failed, shown in the status

    def compose(self) -> ComposeResult:
        yield Static(Text(INTRO), id="neuron-status")
        with Horizontal(id="neuron-pick"):
            yield Label("text ")
            yield Input("", id="neuron-input", compact=True, placeholder="type a text, Enter reads it (e: next text)")
        with Horizontal(id="neuron-body"):
            with VerticalScroll(id="neuron-scroll"):
                yield NeuronText(id="neuron-text")
            with Vertical(id="neuron-side"):
                yield Static("", id="neuron-rank-title")
                yield OptionList(id="neuron-rank", compact=True)
                yield Static("", id="neuron-history")
        yield Static("", id="neuron-legend")

    @property
    def group(self) -> int:
        """The index of the group shown in the reading (the top layer's h unless chosen otherwise)."""
        r = self.reading
        if r is None:
            return 0
        for i, g in enumerate(r.groups):
            if (g.kind, g.layer) == self.kind:
                return i
        return pick_group(r)

    # -- following the run ---------------------------------------------------------------------------
    def follow(self, run) -> None:
        """``run`` is now the current one: read it (its history starts afresh)."""
        self.run = run
        self.reading = self.table = self.ranking = self.rank_by = self.kind = None
        self.problem = ""
        self.redraw()
        self.request()
        self.app.refresh_bindings()

    def evaluated(self, step: int, model=None) -> None:
        """The run was evaluated at ``step``: read ``model``, a copy of the weights evaluated (or the run's
        own, between two steps, when there is none)."""
        self.request((model, step) if model is not None else None)

    def reading_now(self) -> bool:
        return any(w.node is self and w.group == "neurons" and w.state not in ENDED for w in self.app.workers)

    def request(self, weights=None) -> None:
        """Read the text with ``weights`` (a model copy and its step), else a copy of the run's model."""
        if self.run is None:
            return
        if not has_units(self.run.model):
            self.problem = no_units(self.run.model)
            self.redraw()
            return
        if self.reading_now():
            self.pending = weights or True  # one more reading once this one is in (the latest weights)
            return
        self.read_worker(self.run, self.source, self.query_one("#neuron-input", Input).value, conversation(self.app),
                         weights)

    @work(thread=True, group="neurons", exit_on_error=False)
    def read_worker(self, run, source: str, typed: str, talk: str, weights=None) -> None:
        try:
            text = text_for(source, run, typed, talk, DEV_LENGTH)
            model, step = weights or still_model(self.app, run)
            reading = read_neurons(model, run.vocab, text)
            table = features.score_table(reading)
        except SeqlmError as err:
            self.post_message(NeuronsRead(run, run.step, None, error=str(err)))
            return
        self.post_message(NeuronsRead(run, step, (id(run), source, text), reading, table))

    def on_worker_state_changed(self, event) -> None:
        if event.worker.group == "neurons" and event.state in ENDED and self.pending:
            weights, self.pending = self.pending, False
            self.request(weights if weights is not True else None)

    def on_neurons_read(self, msg: NeuronsRead) -> None:
        msg.stop()
        if msg.run is not self.run:
            return  # from a run replaced since
        if msg.error:
            self.problem = msg.error
            self.redraw()
            return
        first = self.reading is None
        self.problem = ""
        self.reading, self.table, self.step, self.text_key = msg.reading, msg.table, msg.step, msg.key
        self.history.add(msg.key, msg.step, msg.table)
        g = self.reading.group(self.group)
        self.kind = (g.kind, g.layer)
        if first and not self.feature_chosen or not features.usable(self.feature, self.reading.chars):
            self.take_strongest_feature()
        self.unit = min(self.unit, g.size - 1)
        self._rerank()
        self.reads += 1
        self.redraw()
        if first:
            self.app.refresh_bindings()

    # -- choosing --------------------------------------------------------------------------------------
    def ready_for(self, what: str) -> bool:
        r = self.reading
        if what == "text":
            return self.run is not None and has_units(self.run.model)
        if r is None:
            return False
        if what == "cell":
            return any(g.kind == "c" for g in r.groups)
        if what == "layer":
            return r.groups[0].layers > 1
        return True

    def key_unit(self, delta: int) -> None:
        self.pin((self.unit + delta) % self.reading.group(self.group).size)

    def pin(self, unit: int) -> None:
        self.unit = unit
        self.redraw(ranking=False)

    def take_strongest_feature(self) -> None:
        best = features.strongest(self.table, self.group)
        self.feature = best[0] if best else self.feature

    def key_find(self) -> None:
        """f: rank the units by the feature; until one is chosen (t), by the feature some unit follows best."""
        if not self.feature_chosen:
            self.take_strongest_feature()
        try:
            self.ranking = features.rank(self.reading, self.group, self.feature, self.table)
        except SeqlmError as err:
            self.app.notify(str(err), severity="warning")
            return
        self.rank_by = ("feature", self.feature)
        self.unit = self.ranking[0][0]
        self.redraw()

    def key_feature(self) -> None:
        names = list(features.FEATURES)
        self.feature = names[(names.index(self.feature) + 1) % len(names)]
        self.feature_chosen = True
        if self.rank_by and self.rank_by[0] == "feature":
            self._rerank(feature=self.feature)
        self.redraw()

    def key_cell(self) -> None:
        g = self.reading.group(self.group)
        self.kind = ("h" if g.kind == "c" else "c", g.layer)
        self._rerank()
        self.redraw()

    def key_layer(self) -> None:
        g = self.reading.group(self.group)
        self.kind = (g.kind, (g.layer + 1) % g.layers)
        self._rerank()
        self.redraw()

    def key_guesses(self) -> None:
        self.guesses = not self.guesses
        self.redraw(ranking=False)

    def key_text(self) -> None:
        self.source = SOURCES[(SOURCES.index(self.source) + 1) % len(SOURCES)]
        if self.source == "typed" and not self.query_one("#neuron-input", Input).value.strip():
            self.query_one("#neuron-input", Input).focus()
        self.request()
        self.redraw(ranking=False)

    def _rerank(self, feature: str | None = None) -> None:
        """The ranking shown, for the reading and group now shown (the pinned unit stays pinned)."""
        if self.rank_by is None or self.reading is None:
            return
        kind, what = self.rank_by
        try:
            if kind == "feature":
                self.rank_by = ("feature", feature or what)
                self.ranking = features.rank(self.reading, self.group, feature or what, self.table)
            else:
                self.ranking = features.span_rank(self.reading, self.group, *what)
        except SeqlmError as err:
            self.ranking, self.rank_by = None, None
            self.problem = str(err)

    def on_neuron_text_span_chosen(self, msg: NeuronText.SpanChosen) -> None:
        msg.stop()
        try:
            self.ranking = features.span_rank(self.reading, self.group, msg.start, msg.end)
        except SeqlmError as err:
            self.app.notify(str(err), severity="warning")
            return
        self.rank_by = ("span", (msg.start, msg.end))
        self.unit = self.ranking[0][0]
        self.redraw()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "neuron-rank":
            event.stop()
            self.pin(int(event.option.id))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "neuron-input":
            event.stop()
            self.source = "typed"
            self.request()
            self.redraw(ranking=False)

    # -- drawing ---------------------------------------------------------------------------------------
    def redraw(self, ranking: bool = True) -> None:
        if not self.is_mounted:
            return
        r = self.reading
        status = self.query_one("#neuron-status", Static)
        self.query_one("#neuron-body").display = r is not None
        self.query_one(NeuronText).show(r, self.group, self.unit, self.guesses, self.app.no_color)
        if r is None:
            status.update(Text(self.problem or INTRO))
            self.query_one("#neuron-legend", Static).update("")
            return
        g = r.group(self.group)
        status.update(Text(self.status_text(g) + (f"\n{self.problem}" if self.problem else "")))
        if ranking:
            self.draw_ranking()
        self.draw_history()
        self.query_one("#neuron-legend", Static).update(self.legend(g))

    def status_text(self, g) -> str:
        r = self.reading
        source = SOURCE_NAMES[self.source]
        head = f"{r.title} {g.name}, unit {self.unit}/{g.size} · step {self.step:,} · {source}, {len(r):,} chars"
        scores = features.unit_scores(r, self.group, self.unit, self.table)
        mine = dict(scores).get(self.feature)
        chosen = f"'{self.feature}' r {mine:+.2f}" if mine is not None else f"'{self.feature}' not in this text"
        also = ", ".join(f"{name} {v:+.2f}" for name, v in scores[:2] if name != self.feature)
        return f"{head}\n{chosen}" + (f" · also {also}" if also else "")

    def draw_ranking(self) -> None:
        title = self.query_one("#neuron-rank-title", Static)
        rank = self.query_one("#neuron-rank", OptionList)
        rank.clear_options()
        if self.ranking is None:
            title.update(Text("f finds the units that follow the feature; select a span and press Enter"))
            return
        kind, what = self.rank_by
        title.update(Text(f"'{what}', r:" if kind == "feature" else f"span {what[0]}-{what[1] - 1}, d:"))
        rank.add_options([Option(f"unit {u:<4} {v:+.2f}", id=str(u)) for u, v in self.ranking[:200]])
        if self.ranking[0][0] == self.unit:
            rank.highlighted = 0

    def draw_history(self) -> None:
        line = self.history.of(self.feature, self.group, self.unit)
        box = self.query_one("#neuron-history", Static)
        if len(line) < 2:
            box.update(Text(f"'{self.feature}' over training: (none yet)" if not line else
                            f"'{self.feature}' over training: r {line[-1][1]:+.2f} at step {line[-1][0]:,}"))
            return
        spark = features.sparkline([v for _, v in line], 22, ascii_only=False)
        box.update(Text(f"'{self.feature}' over training:\n{spark}\n{line[0][1]:+.2f} → {line[-1][1]:+.2f}, "
                        f"steps {line[0][0]:,}-{line[-1][0]:,}"))

    def legend(self, g) -> Text:
        scale = "1 (tanh)" if g.bounded else f"{g.bound(self.unit):.2g} (this cell's peak)"
        out = Text()
        if self.app.no_color:
            out.append(f"{GLYPHS[0]} {GLYPHS[1]} below -{STRONG:g} / -{WEAK:g}, {GLYPHS[3]} {GLYPHS[4]} above "
                       f"+{WEAK:g} / +{STRONG:g}")
        else:
            for level, word in ((0, "−−"), (1, "−"), (3, "+"), (4, "++")):
                out.append(f" {word} ", LEVEL_STYLES[level])
        out.append(f" of {scale} · a span: shift+arrows, Enter")
        return out

    # -- for tests and lessons ---------------------------------------------------------------------------
    def choose(self, unit: int | None = None, feature: str | None = None) -> None:
        """Pin ``unit`` and/or follow ``feature`` (a name of core.features.FEATURES), as the keys would."""
        if feature is not None:
            self.feature = features.get(feature).name
            self.feature_chosen = True
            self._rerank(feature=self.feature)
        if unit is not None:
            self.unit = unit
        self.redraw()

    @property
    def text_widget(self) -> NeuronText:
        return self.query_one(NeuronText)

    def score(self) -> float | None:
        """The pinned unit's score for the chosen feature on the text shown (None: not in this text)."""
        if self.reading is None:
            return None
        return dict(features.unit_scores(self.reading, self.group, self.unit, self.table)).get(self.feature)
