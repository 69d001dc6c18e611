"""The neuron view's text: each character coloured by one unit's activation (red below zero, blue above,
on a background when strong: 16 colours are enough), a glyph row under it with NO_COLOR, and optionally
the model's five likeliest next characters under each one, shaded by probability.

It takes the focus, for a cursor and a selection made with the keys (shift+arrows) or the mouse (drag):
Enter ranks the units by the selected span (LSTMVis's idea), Escape drops the selection."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region
from textual.message import Message
from textual.widget import Widget

from seqlm_tui.core.fmt import cell_width, fit
from seqlm_tui.core.neurons import GLYPHS, LEVEL_COLOURS, NeuronReading, coloured_label, guess_style, wrap

LEVEL_STYLES = [Style(color=fg, bgcolor=bg) for fg, bg in LEVEL_COLOURS]


class NeuronText(Widget, can_focus=True):
    DEFAULT_CSS = """
    NeuronText {
        width: 1fr;
        height: auto;
    }
    NeuronText:focus {
        background: $boost;
    }
    """
    BINDINGS = [
        Binding("left", "move(-1)", "Left", show=False), Binding("right", "move(1)", "Right", show=False),
        Binding("shift+left", "move(-1, True)", "Select", show=False),
        Binding("shift+right", "move(1, True)", "Select", show=False),
        Binding("up", "line(-1)", "Up", show=False), Binding("down", "line(1)", "Down", show=False),
        Binding("shift+up", "line(-1, True)", "Select", show=False),
        Binding("shift+down", "line(1, True)", "Select", show=False),
        Binding("home", "edge(0)", "Start", show=False), Binding("end", "edge(1)", "End", show=False),
        Binding("enter", "rank", "Rank by span", show=False),
        Binding("escape", "clear", "Clear selection", show=False),
    ]

    @dataclass
    class SpanChosen(Message):
        """Enter on a selection: rank the units by positions ``start`` .. ``end`` - 1."""
        text: NeuronText
        start: int
        end: int

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.reading: NeuronReading | None = None
        self.group = self.unit = 0
        self.guesses = False
        self.glyphs = False      # the sign/strength row (NO_COLOR)
        self.cursor = 0
        self.mark: int | None = None   # the other end of the selection, when there is one
        self._lines: list[list[int]] = []
        self._width = 0
        self._dragging = False

    # -- what is shown -------------------------------------------------------------------------------
    def show(self, reading: NeuronReading | None, group: int, unit: int, guesses: bool, glyphs: bool) -> None:
        if reading is not self.reading and reading is not None and self.cursor >= len(reading):
            self.cursor, self.mark = 0, None
        self.reading, self.group, self.unit, self.guesses, self.glyphs = reading, group, unit, guesses, glyphs
        self._width = 0
        self.refresh(layout=True)

    @property
    def selection(self) -> tuple[int, int] | None:
        if self.mark is None or self.mark == self.cursor:
            return None
        return min(self.mark, self.cursor), max(self.mark, self.cursor) + 1

    def rows_per_line(self) -> int:
        return 1 + int(self.glyphs) + (len(self.reading.guesses[0]) if self.guesses and self.reading else 0)

    def lines(self, width: int) -> list[list[int]]:
        if self.reading is None:
            return []
        if width != self._width:
            self._lines = wrap(self.reading.labels, max(4, width), 1 if self.reading.numbers else 0)
            self._width = width
        return self._lines

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, len(self.lines(width)) * self.rows_per_line())

    def render(self) -> Text:
        r = self.reading
        if r is None:
            return Text("")
        lines = self.lines(self.size.width)
        levels = r.levels(self.group, self.unit)
        sep = " " if r.numbers else ""
        span = self.selection
        out = Text(no_wrap=True, overflow="crop")
        for n, line in enumerate(lines):
            if n:
                out.append("\n")
            for i in line:
                style = LEVEL_STYLES[levels[i] + 2]
                if span and span[0] <= i < span[1]:
                    style += Style(underline=True)
                if i == self.cursor and self.has_focus:
                    style += Style(reverse=True)
                label = r.labels[i] if self.glyphs else coloured_label(r.labels[i], levels[i])
                out.append(fit(label, self._cell(i)), style)
                out.append(sep)
            if self.glyphs:
                out.append("\n" + "".join(GLYPHS[levels[i] + 2] * self._cell(i) + sep for i in line).rstrip())
            if self.guesses:
                for rank in range(len(r.guesses[0])):
                    out.append("\n")
                    for i in line:
                        label, p = r.guesses[i][rank]
                        out.append(fit(label, self._cell(i)), guess_style(p) or None)
                        out.append(sep)
        return out

    def _cell(self, i: int) -> int:
        return max(1, cell_width(self.reading.labels[i]))

    @property
    def plain(self) -> str:
        return self.render().plain

    # -- the cursor and the selection ------------------------------------------------------------------
    def _place(self, pos: int, extend: bool) -> None:
        if self.reading is None:
            return
        if extend and self.mark is None:
            self.mark = self.cursor
        elif not extend:
            self.mark = None
        self.cursor = max(0, min(len(self.reading) - 1, pos))
        self.refresh()
        self._keep_in_view()

    def _line_of(self, pos: int) -> int:
        return next((n for n, line in enumerate(self._lines) if pos in line), 0)

    def _keep_in_view(self) -> None:
        rows = self.rows_per_line()
        y = self._line_of(self.cursor) * rows
        if self.parent is not None:
            self.parent.scroll_to_region(Region(0, y, 1, rows), animate=False)

    def action_move(self, delta: int, extend: bool = False) -> None:
        self._place(self.cursor + delta, extend)

    def action_line(self, delta: int, extend: bool = False) -> None:
        if not self._lines:
            return
        n = self._line_of(self.cursor)
        column = self._lines[n].index(self.cursor)
        target = self._lines[max(0, min(len(self._lines) - 1, n + delta))]
        self._place(target[min(column, len(target) - 1)], extend)

    def action_edge(self, end: int) -> None:
        if self.reading is not None:
            self._place(len(self.reading) - 1 if end else 0, False)

    def action_rank(self) -> None:
        if self.selection is not None:
            self.post_message(self.SpanChosen(self, *self.selection))

    def action_clear(self) -> None:
        self.mark = None
        self.refresh()

    def select(self, start: int, end: int) -> None:
        """Select positions ``start`` .. ``end`` - 1 (tests, lessons)."""
        self.mark, self.cursor = start, end - 1
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- the mouse -------------------------------------------------------------------------------------
    def position_at(self, x: int, y: int) -> int | None:
        n = y // self.rows_per_line()
        if self.reading is None or not 0 <= n < len(self._lines) or y % self.rows_per_line():
            return None
        col, sep = 0, 1 if self.reading.numbers else 0
        for i in self._lines[n]:
            col += self._cell(i) + sep
            if x < col:
                return i
        return None

    def on_mouse_down(self, event) -> None:
        pos = self.position_at(event.x, event.y)
        if pos is not None:
            self.focus()
            self._place(pos, bool(event.shift))
            self.mark = self.mark if event.shift else pos
            self._dragging = True
            self.capture_mouse()

    def on_mouse_move(self, event) -> None:
        if self._dragging:
            pos = self.position_at(event.x, event.y)
            if pos is not None:
                self.cursor = pos
                self.refresh()

    def on_mouse_up(self, event) -> None:
        if self._dragging:
            self._dragging = False
            self.release_mouse()
