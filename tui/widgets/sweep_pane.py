"""Sweep: the learning-rate range test, loss against log10 lr, the suggestion marked."""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, ProgressBar, Static
from textual_plotext import PlotextPlot

from core import events as ev
from core.errors import SeqlmError
from core.sweep import SweepConfig
from tui.widgets.loss_chart import log_ticks

INTRO = ("Press w to run the learning-rate range test: a fresh model from Setup takes one minibatch per rate, "
         "from the smallest to the largest; u then puts the suggested rate into Setup.")


class SweepPane(Vertical):
    def __init__(self, cfg: SweepConfig | None = None, **kw) -> None:
        super().__init__(**kw)
        self.defaults = cfg or SweepConfig()
        self.lrs: list[float] = []
        self.losses: list[float] = []
        self.smoothed: list[float] = []
        self.suggested: float | None = None
        self.dirty = False

    def compose(self) -> ComposeResult:
        yield PlotextPlot(id="sweep-chart")
        with Horizontal(id="sweep-settings"):
            d = self.defaults
            yield Label("rates from ")
            yield Input(f"{d.lr_min:g}", id="sweep-lr-min", compact=True, tooltip="smallest learning rate")
            yield Label(" to ")
            yield Input(f"{d.lr_max:g}", id="sweep-lr-max", compact=True, tooltip="largest learning rate")
            yield Label(" in ")
            yield Input(str(d.steps), id="sweep-steps", compact=True, tooltip="rates tried (one minibatch each)")
            yield Label(" steps")
        yield ProgressBar(total=100, show_eta=False, id="sweep-progress")
        yield Static(Text(INTRO), id="sweep-status")

    def read_config(self) -> SweepConfig:
        """The settings typed in the pane, checked (SeqlmError with one sentence otherwise)."""
        def num(wid: str, kind, name: str):
            raw = self.query_one(wid, Input).value.strip()
            try:
                return kind(raw)
            except ValueError:
                raise SeqlmError(f"sweep {name} must be a number, not {raw!r}.") from None

        cfg = SweepConfig(num("#sweep-lr-min", float, "lr-min"), num("#sweep-lr-max", float, "lr-max"),
                          num("#sweep-steps", int, "steps"))
        cfg.check()
        return cfg

    def start(self, total: int) -> None:
        self.lrs, self.losses, self.smoothed, self.suggested = [], [], [], None
        self.query_one(ProgressBar).update(total=total, progress=0)
        self.set_status("sweeping... (x stops)")
        self.dirty = True

    def on_point(self, e: ev.SweepPoint) -> None:
        self.lrs.append(e.lr)
        self.losses.append(e.loss)
        self.smoothed.append(e.smooth)
        self.query_one(ProgressBar).update(total=e.total, progress=e.index)
        self.dirty = True

    def on_done(self, e: ev.SweepDone) -> None:
        self.lrs, self.losses, self.smoothed, self.suggested = e.lrs, e.losses, e.smoothed, e.suggested_lr
        why = {"diverged": "stopped early: the loss diverged", "done": "tried every rate",
               "stopped": "stopped"}.get(e.reason, e.reason)
        tip = (f"suggested learning rate {e.suggested_lr:.3g} (steepest descent of the smoothed loss, the red "
               "line); press u to use it" if e.suggested_lr else "no suggestion: the curve never falls")
        self.set_status(f"{why}, {len(e.lrs)} rates. {tip}")
        self.dirty = True
        self.redraw_if_dirty()

    def set_status(self, text: str) -> None:
        self.query_one("#sweep-status", Static).update(Text(text))

    def redraw_if_dirty(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        chart = self.query_one(PlotextPlot)
        plt = chart.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("learning-rate range test")
        plt.xlabel("learning rate (log scale)")
        if self.lrs:
            xs = [math.log10(v) for v in self.lrs]
            finite = [(x, y, s) for x, y, s in zip(xs, self.losses, self.smoothed)
                      if math.isfinite(y) and math.isfinite(s)]
            if finite:
                fx, fy, fs = zip(*finite)
                plt.plot(fx, fy, label="loss", marker="dot", color="gray")
                plt.plot(fx, fs, label="smoothed", marker="braille", color="blue")
            if self.suggested:
                plt.vline(math.log10(self.suggested), "red")
            ticks, labels = log_ticks(min(xs), max(xs))
            if len(ticks) >= 2:
                plt.xticks(ticks, labels)
        chart.refresh()
