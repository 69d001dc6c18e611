"""Insight / Health: per-layer gradient norms and the fraction of saturated tanh units at each evaluation.

The history shows the two numbers the seed's follow-ups watch when training goes wrong: gradients that
vanish or explode (the whole model's norm, left axis) and tanh units stuck at +-1 (right axis)."""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from seqlm_tui.core.insight import Health
from seqlm_tui.tui.widgets.bars import Bars, number

INTRO = ("Gradient norms and saturated tanh units appear here at each evaluation while a model trains "
         "(Train pane, s).")
KEEP = 500  # evaluations kept in the history (older ones are thinned out)


def total_norm(grad_norms: list[tuple[str, float]]) -> float:
    """The norm over all parameters, as clipping measures it."""
    return math.sqrt(sum(n * n for _, n in grad_norms if math.isfinite(n)))


class HealthView(Vertical):
    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.latest: Health | None = None
        self.steps: list[float] = []
        self.norms: list[float] = []
        self.saturated: list[float | None] = []
        self.note = INTRO
        self.dirty = True

    def compose(self) -> ComposeResult:
        yield Static(Text(INTRO), id="health-status")
        with Horizontal(id="health-body"):
            yield Bars("gradient norm per layer", id="health-bars", scale=None, fmt=number,
                       empty="no gradients yet")
            yield PlotextPlot(id="health-chart")

    def reset(self, note: str = "") -> None:
        """A new run: its health starts afresh (``note`` says why there will be none)."""
        self.latest = None
        self.steps, self.norms, self.saturated = [], [], []
        self.note = note or INTRO
        self.dirty = True
        self._draw_text()

    def on_mount(self) -> None:
        self._draw_text()

    def _draw_text(self) -> None:
        """The bars and the status line, once they are composed (a run can be adopted a moment before:
        its state is kept and drawn here on mount)."""
        bars, status = self.query(Bars), self.query("#health-status")
        if not bars or not status:
            return
        h = self.latest
        bars.first().show(list(h.grad_norms) if h is not None else [])
        if h is None:
            status.first().update(Text(self.note))
            return
        sat = ("no tanh units in this model" if h.saturated is None else
               f"saturated tanh units (|h| > 0.97 on a dev batch) {h.saturated:.1%}")
        status.first().update(Text(
            f"step {h.step:,}: gradient norm {total_norm(h.grad_norms):.3g} over {len(h.grad_norms)} parameter "
            f"tensors; {sat}."))

    def add(self, health: Health) -> None:
        """The trainer's Health event after an evaluation."""
        self.latest = health
        total = total_norm(health.grad_norms)
        self.steps.append(float(health.step))
        self.norms.append(total)
        self.saturated.append(health.saturated)
        if len(self.steps) > KEEP:
            self.steps, self.norms, self.saturated = self.steps[::2], self.norms[::2], self.saturated[::2]
        self.dirty = True
        self._draw_text()

    def series(self) -> dict[str, tuple[list[float], list[float]]]:
        """What the history chart draws (tests)."""
        out = {"gradient norm": (list(self.steps), list(self.norms))}
        sat = [(s, v) for s, v in zip(self.steps, self.saturated) if v is not None]
        if sat:
            out["saturated %"] = ([s for s, _ in sat], [100 * v for _, v in sat])
        return out

    def redraw_if_dirty(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        chart = self.query_one("#health-chart", PlotextPlot)
        plt = chart.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("over evaluations")
        plt.xlabel("step")
        if self.steps:
            data = self.series()
            xs, ys = data["gradient norm"]
            plt.plot(xs, ys, label="grad norm", marker="hd", color="blue")
            if "saturated %" in data:
                plt.plot(*data["saturated %"], label="saturated %", marker="dot", color="red", yside="right")
                plt.ylim(0, 100, yside="right")  # a share: plotext's own margin ran the axis to 117%
                plt.yticks([0, 25, 50, 75, 100], ["0", "25", "50", "75", "100"], yside="right")
        chart.refresh()
