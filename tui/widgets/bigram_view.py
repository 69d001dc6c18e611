"""Insight / Bigram: the bigram model's table as a grid, and one row's next-character odds as bars."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.insight import BigramTable
from seqlm_tui.tui.widgets.bars import Bars
from seqlm_tui.tui.widgets.bigram_grid import BigramGrid
from seqlm_tui.tui.widgets.ordered import OrderedInput

INTRO = "The table of a bigram model (bigram counts or bigram neural in Setup) appears here."


class BigramView(Vertical):
    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.table: BigramTable | None = None
        self.row_index: int | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(INTRO), id="bigram-status")
        with Horizontal(id="bigram-body"):
            yield BigramGrid(id="bigram-grid")
            with Vertical(id="bigram-side"):
                with Horizontal(id="bigram-pick"):
                    yield Label("row ")
                    yield OrderedInput("", id="bigram-row", compact=True, max_length=8,
                                       tooltip="a character of the vocabulary: its row is drawn below")
                yield Bars("", id="bigram-bars", empty="type a character above")

    def on_mount(self) -> None:
        self.query_one("#bigram-body").display = False

    def show_table(self, table: BigramTable | None, step: int | None = None, message: str = "") -> None:
        """The current model's table, or ``None`` with ``message`` when it is not a bigram model."""
        self.table = table
        body = self.query_one("#bigram-body")
        body.display = table is not None
        if table is None:
            self.query_one("#bigram-status", Static).update(Text(message or INTRO))
            return
        kind = "counts" if table.counts is not None else "softmax of the learned logits"
        at = f" at step {step:,}" if step is not None else ""
        self.query_one("#bigram-status", Static).update(Text(
            f"P(next | current){at}, from the {kind}: row = current character, column = next; darker = more "
            f"likely. Type a character in the box for its row."))
        grid = self.query_one(BigramGrid)
        grid.show(list(table.labels), table.probs.tolist(), self.row_index)
        box = self.query_one("#bigram-row", Input)
        if self.row_index is None or self.row_index >= len(table.labels):
            self.row_index = None
            if not box.value:
                box.value = table.labels[1 if len(table.labels) > 1 else 0]  # names: "a" rather than "."
        self.pick(box.value)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "bigram-row":
            event.stop()
            self.pick(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "bigram-row":
            event.stop()

    def pick(self, text: str) -> None:
        bars = self.query_one(Bars)
        if self.table is None:
            return
        try:
            i = self.table.index(text) if text else None
        except SeqlmError as err:
            i, bars.empty = None, str(err)
        if i is None:
            self.row_index = None
            self.query_one(BigramGrid).select(None)
            if not text:
                bars.empty = "type a character above"
            bars.show([], "")
            return
        self.row_index = i
        self.query_one(BigramGrid).select(i)
        label = self.table.labels[i]
        counts = self.table.counts
        total = f", {int(counts[i].sum()):,} pairs counted" if counts is not None else ""
        bars.show(self.table.row(label), f"after {label!r}{total}")

    def row_items(self) -> list[tuple[str, float]]:
        """The bars drawn for the chosen row (tests)."""
        return list(self.query_one(Bars).items)
