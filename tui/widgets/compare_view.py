"""Insight / Compare: the dev-loss curves of the session's runs overlaid, and the learning-rate comparison.

Every run the app makes or loads is listed; the current one is live (its curve grows while it trains),
earlier ones are kept as their curves only, so the list costs no model weights."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection
from textual_plotext import PlotextPlot

from seqlm_tui.core.compare import RunCurve, differences, run_curve, settings
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.run import Run
from seqlm_tui.tui.widgets.loss_chart import step_ticks
from seqlm_tui.tui.widgets.ordered import OrderedInput

DEFAULT_LRS = "0.01 0.03 0.1 0.3 1"
DEFAULT_STEPS = 300
MAX_RUNS = 50  # the oldest curves go first (a session of many runs keeps a bounded list)
# A letter per run, drawn as its curve's marker and shown in front of it in the list: the list is the
# legend (a plotext legend has no room at 80 columns), and curves stay apart without colour (NO_COLOR).
MARKERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
# The list is 38 columns wide at 80x24: the settings that tell runs apart go by short names there.
SHORT = {"learning rate": "lr", "batch size": "batch", "sequence length": "seq len", "memory length": "mem len",
         "embedding": "emb", "weight decay": "decay", "eval every": "eval"}
INTRO = ("Tick runs to overlay their dev loss. r trains the Setup's model once per rate below "
         "(same seed, same steps) and adds each as a run.")


@dataclass
class Entry:
    key: int
    label: str
    run: Run | None = None  # while it is the current run (its curve grows)
    points: list = field(default_factory=list)  # (step, dev loss) once it is not, or from a RunCurve
    diverged: bool = False
    settings: dict = field(default_factory=dict)
    marker: str = ""

    def dev(self) -> tuple[list[float], list[float]]:
        if self.run is not None:
            dev = self.run.history.dev
            return list(dev.steps), list(dev.values)
        return [p[0] for p in self.points], [p[1] for p in self.points]


def _data(entry: Entry) -> tuple:
    """What a run was trained on, as far as its losses can be compared."""
    return tuple(entry.settings.get(k) for k in ("dataset", "file path", "mode", "memory length"))


def parse_rates(text: str) -> list[float]:
    """Learning rates typed as "0.01 0.03 0.1" (commas also fine); one sentence if they are not."""
    words = text.replace(",", " ").split()
    if not words:
        raise SeqlmError("type at least one learning rate, e.g. 0.01 0.1 1.")
    rates = []
    for w in words:
        try:
            lr = float(w)
        except ValueError:
            raise SeqlmError(f"learning rates must be numbers, not {w[:20]!r}.") from None
        if not (math.isfinite(lr) and 0 < lr <= 1000):
            raise SeqlmError(f"a learning rate must be greater than 0 and at most 1000, not {w[:20]}.")
        rates.append(lr)
    if len(rates) > 12:
        raise SeqlmError(f"at most 12 learning rates at a time, not {len(rates)}.")
    return rates


def parse_steps(text: str, lo: int = 1, hi: int = 1_000_000, what: str = "steps") -> int:
    try:
        n = int(text.strip())
    except ValueError:
        raise SeqlmError(f"{what} must be a whole number, not {text.strip()[:20]!r}.") from None
    if not lo <= n <= hi:
        raise SeqlmError(f"{what} must be between {lo:,} and {hi:,}, not {n:,}.")
    return n


class CompareView(Vertical):
    class Start(Message):
        """Enter in the rates or steps box: run the rate comparison (as r does)."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.entries: dict[int, Entry] = {}
        self._next = 0
        self.dirty = True

    def compose(self) -> ComposeResult:
        with Horizontal(id="compare-body"):
            with Vertical(id="compare-side"):
                yield SelectionList[int](id="compare-runs")
                with Horizontal(classes="compare-field"):
                    yield Label("rates ")
                    yield OrderedInput(DEFAULT_LRS, id="compare-lrs", compact=True,
                                       tooltip="learning rates for r, separated by spaces")
                with Horizontal(classes="compare-field"):
                    yield Label("steps ")
                    yield OrderedInput(str(DEFAULT_STEPS), id="compare-steps", compact=True,
                                       tooltip="training steps at each rate")
                yield Static(Text(INTRO), id="compare-status")
            yield PlotextPlot(id="compare-chart")

    # -- the list ---------------------------------------------------------------------------------
    def _add(self, entry: Entry) -> Entry:
        taken = {e.marker for e in self.entries.values()}
        entry.marker = next(m for m in MARKERS if m not in taken)  # 52 letters for at most 50 runs
        self.entries[entry.key] = entry
        runs = self.query_one(SelectionList)
        # Losses on other data are not on the same scale (another vocabulary, another task): runs of
        # another dataset are unticked when this one comes in (a tick brings one back).
        for other in self.entries.values():
            if _data(other) != _data(entry):
                runs.deselect(other.key)
        runs.add_option(Selection(Text(entry.label), entry.key, True, id=f"run-{entry.key}"))
        while len(self.entries) > MAX_RUNS:
            self._remove(next(iter(self.entries)))
        self._relabel()
        self.dirty = True
        return entry

    def _remove(self, key: int) -> None:
        self.entries.pop(key, None)
        self.query_one(SelectionList).remove_option(f"run-{key}")
        self._relabel()
        self.dirty = True

    def title(self, entry: Entry, extra: str) -> str:
        """What tells the run apart comes first, then its name: the list is 38 columns wide at 80x24 and cuts the
        end of a line ("a #2 learning rate 0.03 · elman on counting, lr 0.03")."""
        number, _, name = entry.label.partition(" ")
        for long, short in SHORT.items():
            extra = extra.replace(long, short)
        if entry.diverged:
            name = name.removesuffix(" (diverged)")
            extra = f"{extra}, diverged" if extra else "diverged"
        return f"{entry.marker} {number} {extra} · {name}" if extra else f"{entry.marker} {entry.label}"

    def _relabel(self) -> None:
        """Each run's line says what sets it apart from the others listed (not only its learning rate)."""
        entries = list(self.entries.values())
        runs = self.query_one(SelectionList)
        for entry, extra in zip(entries, differences([e.settings for e in entries])):
            runs.replace_option_prompt(f"run-{entry.key}", Text(self.title(entry, extra)))

    def add_run(self, run: Run, label: str) -> None:
        """The new current run; the one before it is kept as its curve (or dropped if it has none)."""
        for entry in list(self.entries.values()):
            if entry.run is not None and entry.run is not run:
                self.freeze(entry)
        self._next += 1
        self._add(Entry(self._next, f"#{self._next} {label}", run=run, settings=settings(run.cfg)))

    def freeze(self, entry: Entry) -> None:
        run, entry.run = entry.run, None
        if not len(run.history.dev):
            self._remove(entry.key)  # never evaluated (a fresh model replaced before training)
            return
        entry.points = list(run_curve(run, entry.label).dev)

    def add_curve(self, curve: RunCurve) -> None:
        """A finished run of the rate comparison, ticked so that it shows at once."""
        self._next += 1
        self._add(Entry(self._next, f"#{self._next} {curve.label}", points=list(curve.dev),
                        diverged=getattr(curve, "status", "done") == "diverged", settings=dict(curve.settings)))

    def mark_dirty(self) -> None:
        self.dirty = True

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        event.stop()
        self.dirty = True
        self.redraw_if_dirty()

    @property
    def chosen(self) -> list[Entry]:
        picked = set(self.query_one(SelectionList).selected)
        return [e for k, e in self.entries.items() if k in picked]

    def series(self) -> dict[str, tuple[list[float], list[float]]]:
        """The curves drawn, by their runs' labels: one per chosen run that has dev points (tests)."""
        return {e.label: pts for e, pts in self.curves()}

    def curves(self) -> list[tuple[Entry, tuple[list[float], list[float]]]]:
        out = []
        for e in self.chosen:
            xs, ys = e.dev()
            if xs:
                out.append((e, (xs, ys)))
        return out

    # -- the rate comparison's settings -------------------------------------------------------------
    def read_settings(self) -> tuple[list[float], int]:
        rates = parse_rates(self.query_one("#compare-lrs", Input).value)
        steps = parse_steps(self.query_one("#compare-steps", Input).value)
        return rates, steps

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Start())

    def set_status(self, text: str) -> None:
        self.query_one("#compare-status", Static).update(Text(text))

    def y_top(self) -> float | None:
        """Where the chart's loss axis stops: a rate that blows up would flatten every other curve into the
        floor, so it ends at the worst first evaluation of the runs that did not diverge, leaving out a
        first evaluation over three times their median. A rate can ruin a run without the trainer's
        divergence rule firing: counting at lr 1 sits at a dev loss of 30 where lr 0.1 reaches 0.01."""
        sane = [ys for e in self.chosen if not e.diverged for ys in [e.dev()[1]] if ys]
        firsts = [ys[0] for ys in sane if math.isfinite(ys[0])]
        if not firsts:
            return None
        cap = 3 * statistics.median(firsts)
        return max(f for f in firsts if f <= cap)

    def redraw_if_dirty(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        chart = self.query_one("#compare-chart", PlotextPlot)
        plt = chart.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("dev loss")
        plt.xlabel("step")
        data = self.curves()
        top = self.y_top()
        above = []
        for entry, (xs, ys) in data:
            # Points off the top are left out (a diverged rate would squash the others into the floor).
            kept = [(x, y) for x, y in zip(xs, ys) if math.isfinite(y) and (top is None or y <= top)]
            if kept:
                fx, fy = zip(*kept)
                plt.plot(fx, fy, marker=entry.marker)  # the list beside it is the legend
            if len(kept) < len(xs):
                above.append(entry.marker + ("" if not kept else " partly"))
        if above:
            plt.title(f"dev loss; {', '.join(above)} off the top")
        xs = [x for _, (xs, _) in data for x in xs]
        if xs and max(xs) > min(xs):
            plt.xticks(*step_ticks(min(xs), max(xs)))
        chart.refresh()
