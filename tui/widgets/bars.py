"""Horizontal bars of labelled values drawn with block characters (next-token odds, a bigram row,
gradient norms).

Text bars are cheap enough to redraw with every streamed token, readable without colour, and a bar's
length is exact to an eighth of a cell. Redraws are throttled: ``show`` may be called for every token,
the widget repaints at most ``MAX_FPS`` times a second, and the last values are always the ones shown.
"""

from __future__ import annotations

import math
import time

from rich.text import Text
from textual.timer import Timer
from textual.widget import Widget

from seqlm_tui.core.fmt import cell_width, fit, token_label

MAX_FPS = 20
EIGHTHS = "▏▎▍▌▋▊▉"


def bar(fraction: float, width: int) -> str:
    """``fraction`` (0..1) of ``width`` cells, to an eighth of a cell."""
    if not math.isfinite(fraction) or width <= 0:
        return ""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[part - 1] if part else "")


def percent(value: float) -> str:
    return f"{value:6.1%}"


def number(value: float) -> str:
    return f"{value:8.3g}"


class Bars(Widget):
    """``show(items)`` with (label, value) pairs, most important first. Probabilities by default (bars
    are a fraction of 1); ``scale=None`` makes the largest value a full bar."""

    DEFAULT_CSS = """
    Bars {
        height: 1fr;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, title: str = "", *, empty: str = "", scale: float | None = 1.0, fmt=percent,
                 **kw) -> None:
        super().__init__(**kw)
        self.title = title
        self.empty = empty
        self.scale = scale
        self.fmt = fmt
        self.items: list[tuple[str, float]] = []
        self._drawn = 0.0
        self._timer: Timer | None = None

    @property
    def rows(self) -> int:
        """How many bars fit under the title (the rest of ``items`` is not drawn)."""
        return max(1, self.content_size.height - 1)

    def show(self, items: list[tuple[str, float]], title: str | None = None) -> None:
        self.items = list(items)
        if title is not None:
            self.title = title
        wait = 1 / MAX_FPS - (time.monotonic() - self._drawn)
        if wait <= 0:
            self._draw()
        elif self._timer is None:
            self._timer = self.set_timer(wait, self._draw)

    def _draw(self) -> None:
        self._timer = None
        self._drawn = time.monotonic()
        self.refresh()

    def render(self) -> Text:
        out = Text(self.title, style="bold", no_wrap=True, overflow="ellipsis")
        if not self.items:
            if self.empty:
                out.append("\n" + self.empty, style="italic")
            return out
        items = self.items[:self.rows] if self.content_size.height else self.items
        labels = [token_label(label) for label, _ in items]
        lw = min(max(cell_width(s) for s in labels), 22)
        values = [self.fmt(v) for _, v in items]
        vw = max(len(v) for v in values)
        width = max(4, (self.content_size.width or 40) - lw - vw - 2)
        top = self.scale or max((v for _, v in items if math.isfinite(v)), default=1.0) or 1.0
        for label, value, shown in zip(labels, (v for _, v in items), values):
            out.append("\n")
            # a long name keeps its end ("…0.attn.weight"): that is where layer names differ
            shown_label = label if cell_width(label) <= lw else "…" + label[1 - lw:]
            out.append(fit(shown_label, lw, ">") + " ")
            out.append(f"{bar(value / top, width):<{width}}", style="bold")
            out.append(f" {shown}")
        return out

    @property
    def plain(self) -> str:
        """What the widget shows, as text (tests, copy)."""
        return self.render().plain
