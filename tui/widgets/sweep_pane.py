"""Sweep: the learning-rate range test, loss against log10 lr, the suggestion marked."""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static
from textual_plotext import PlotextPlot

from core import events as ev


class SweepPane(Vertical):
    def compose(self) -> ComposeResult:
        yield PlotextPlot(id="sweep-chart")
        yield ProgressBar(total=100, show_eta=False, id="sweep-progress")
        yield Static(Text("Press w to run the learning-rate range test on the Setup's model and data "
                          "(a copy of the model; your weights stay untouched)."), id="sweep-status")

    def on_mount(self) -> None:
        self.lrs: list[float] = []
        self.losses: list[float] = []
        self.smoothed: list[float] = []
        self.suggested: float | None = None
        self.dirty = False

    def start(self, total: int) -> None:
        self.lrs, self.losses, self.smoothed, self.suggested = [], [], [], None
        self.query_one(ProgressBar).update(total=total, progress=0)
        self.query_one("#sweep-status", Static).update(Text("sweeping..."))
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
        tip = (f"suggested learning rate {e.suggested_lr:.3g} (steepest descent of the smoothed loss); "
               "press u to use it" if e.suggested_lr else "no suggestion: the curve never falls")
        self.query_one("#sweep-status", Static).update(Text(f"{why}, {len(e.lrs)} rates. {tip}"))
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
        plt.xlabel("log10 learning rate")
        if self.lrs:
            xs = [math.log10(v) for v in self.lrs]
            plt.plot(xs, self.losses, label="loss", marker="dot", color="gray")
            plt.plot(xs, self.smoothed, label="smoothed", marker="braille", color="blue")
            if self.suggested:
                plt.vline(math.log10(self.suggested), "red")
        chart.refresh()
