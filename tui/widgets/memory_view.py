"""Insight / Memory: recall accuracy against sequence length, one model per column and per line.

The memory task asks for the first symbol of a sequence after reading all of it: the plain RNN's
accuracy falls as the sequence grows, the LSTM's holds. Results arrive one (model, length) at a time."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Static
from textual_plotext import PlotextPlot

from seqlm_tui.core import memory
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.memory import MemoryResult
from seqlm_tui.core.models import registry
from seqlm_tui.tui.widgets.compare_view import parse_steps
from seqlm_tui.tui.widgets.ordered import OrderedInput

DEFAULT_MODELS = "elman lstm"
DEFAULT_LENGTHS = " ".join(str(n) for n in memory.DEFAULT_LENGTHS)
DEFAULT_STEPS = memory.DEFAULT_STEPS
DEFAULT_HIDDEN = memory.MEMORY_DEFAULTS["model"]["hidden"]
MARKERS = ("hd", "dot", "x", "+", "o", "*")
INTRO = ("m trains each model on the memory task (recall the first symbol) at each length, same seed and "
         "steps, and plots the test accuracy against the length; x stops.")


def parse_models(text: str) -> list[str]:
    names = text.replace(",", " ").split()
    if not names:
        raise SeqlmError("type at least one model, e.g. elman lstm.")
    for name in names:
        registry.get(name)  # one sentence naming the models there are
    if len(names) > 6:
        raise SeqlmError(f"at most 6 models at a time, not {len(names)}.")
    return list(dict.fromkeys(names))


def parse_lengths(text: str) -> list[int]:
    words = text.replace(",", " ").split()
    if not words:
        raise SeqlmError("type at least one sequence length, e.g. 5 10 20 40.")
    if len(words) > 12:
        raise SeqlmError(f"at most 12 lengths at a time, not {len(words)}.")
    return sorted({parse_steps(w, 1, 512, "memory lengths") for w in words})


NARROW = 78  # columns below which the settings take two lines


class MemoryView(Vertical):
    class Start(Message):
        """Enter in one of the settings boxes: run the comparison (as m does)."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.models: list[str] = []
        self.lengths: list[int] = []
        self.results: list[MemoryResult] = []  # in the order they arrived
        self.chance: float | None = None
        self.dirty = True

    def compose(self) -> ComposeResult:
        with Horizontal(id="memory-settings"):
            yield Label("models ")
            yield OrderedInput(DEFAULT_MODELS, id="memory-models", compact=True, tooltip="models to compare")
            yield Label(" lengths ")
            yield OrderedInput(DEFAULT_LENGTHS, id="memory-lengths", compact=True, tooltip="sequence lengths (1-512)")
            yield Label(" steps ")
            yield OrderedInput(str(DEFAULT_STEPS), id="memory-steps", compact=True,
                               tooltip="training steps per model and length")
            yield Label(" hidden ")
            yield OrderedInput(str(DEFAULT_HIDDEN), id="memory-hidden", compact=True,
                               tooltip="hidden size of every model")
        yield Static(Text(INTRO), id="memory-status")
        with Horizontal(id="memory-body"):
            yield DataTable(id="memory-table", cursor_type="none", zebra_stripes=True)
            yield PlotextPlot(id="memory-chart")

    def read_settings(self) -> tuple[list[str], list[int], int, int]:
        models = parse_models(self.query_one("#memory-models", Input).value)
        lengths = parse_lengths(self.query_one("#memory-lengths", Input).value)
        steps = parse_steps(self.query_one("#memory-steps", Input).value, 1, 1_000_000, "steps")
        hidden = parse_steps(self.query_one("#memory-hidden", Input).value, 1, 8192, "hidden size")
        return models, lengths, steps, hidden

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Start())

    def on_resize(self) -> None:
        # The four settings need 80 columns on one line; narrower, they take two lines rather than cut a
        # value ("steps 100" for 1000 at 60x20).
        self.set_class(self.size.width < NARROW, "-narrow")

    def on_mount(self) -> None:
        try:
            self._empty_table(*self.read_settings()[:2], "·")  # what m will fill in
        except SeqlmError:
            pass

    def _empty_table(self, models: list[str], lengths: list[int], cell: str) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_column("length", key="length")
        for m in models:
            table.add_column(m, key=m)
        for n in lengths:
            table.add_row(str(n), *[cell] * len(models), key=str(n))

    def start(self, models: list[str], lengths: list[int], steps: int, chance: float | None = None) -> None:
        self.models, self.lengths, self.results, self.chance = models, lengths, [], chance
        self._empty_table(models, lengths, "…")
        total = len(models) * len(lengths)
        self.set_status(f"training {total} models of {steps:,} steps each... (x stops)")
        self.dirty = True

    def add(self, result: MemoryResult) -> None:
        self.results.append(result)
        table = self.query_one(DataTable)
        if result.model in self.models and result.length in self.lengths:
            table.update_cell(str(result.length), result.model, f"{result.accuracy:.1%}", update_width=True)
        done, total = len(self.results), len(self.models) * len(self.lengths)
        self.set_status(f"{done} of {total} done: {result.model} at length {result.length} recalls "
                        f"{result.accuracy:.1%} ({result.seconds:.1f} s)... (x stops)")
        self.dirty = True

    def finish(self, stopped: bool = False, error: str | None = None) -> None:
        if error:
            self.set_status(error)
        elif stopped:
            self.set_status(f"stopped after {len(self.results)} results. m runs it again.")
        else:
            self.set_status(self.verdict())
        self.dirty = True

    def verdict(self) -> str:
        """One line on what the table shows, from the longest length measured."""
        if not self.results:
            return "no results."
        longest = max(r.length for r in self.results)
        at = {r.model: r.accuracy for r in self.results if r.length == longest}
        ranked = " > ".join(f"{m} {a:.0%}" for m, a in sorted(at.items(), key=lambda kv: -kv[1]))
        chance = f"; a guess gets {self.chance:.1%}" if self.chance else ""
        return f"done. At length {longest}: {ranked}{chance}. m runs it again."

    def accuracy(self) -> dict[str, dict[int, float]]:
        """model -> length -> accuracy, as far as measured (tests, the chart)."""
        out: dict[str, dict[int, float]] = {}
        for r in self.results:
            out.setdefault(r.model, {})[r.length] = r.accuracy
        return out

    def table_rows(self) -> list[list[str]]:
        """The table as shown (tests)."""
        table = self.query_one(DataTable)
        return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]

    def set_status(self, text: str) -> None:
        self.query_one("#memory-status", Static).update(Text(text))

    def redraw_if_dirty(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        chart = self.query_one("#memory-chart", PlotextPlot)
        plt = chart.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("recall accuracy (%) against sequence length")
        plt.xlabel("length")
        acc = self.accuracy()
        for i, (model, points) in enumerate(acc.items()):
            xs = sorted(points)
            plt.plot(xs, [100 * points[x] for x in xs], label=model, marker=MARKERS[i % len(MARKERS)])
        if acc:
            if self.chance:
                plt.hline(100 * self.chance, "gray")
            plt.ylim(0, 100)
            if self.lengths:
                plt.xticks(self.lengths, [str(n) for n in self.lengths])
        chart.refresh()
