"""Sweep: the learning-rate range test, loss against log10 lr, the suggestion and its rule marked."""

from __future__ import annotations

import math

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Input, Label, ProgressBar, Static
from textual.worker import WorkerState, get_current_worker
from textual_plotext import PlotextPlot

from seqlm_tui.core import events as ev
from seqlm_tui.core.config import RunConfig
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.run import new_run
from seqlm_tui.core.sweep import RULE, Sweep, SweepConfig
from seqlm_tui.tui.jobs import ReportsJobs
from seqlm_tui.tui.messages import SweepDone, SweepFailed, SweepPoint
from seqlm_tui.tui.widgets.loss_chart import log_ticks
from seqlm_tui.tui.widgets.ordered import OrderedInput

INTRO = ("Press w to run the learning-rate range test: a fresh model from Setup takes one minibatch per rate, "
         "from the smallest to the largest; u then puts the suggested rate into Setup.")
REDRAW_S = 0.4


class SweepPane(ReportsJobs, Vertical):
    running = reactive(False, bindings=True)

    def __init__(self, cfg: SweepConfig | None = None, **kw) -> None:
        super().__init__(**kw)
        self.defaults = cfg or SweepConfig()
        self.lrs: list[float] = []
        self.losses: list[float] = []
        self.smoothed: list[float] = []
        self.suggested: float | None = None
        self.swept: RunConfig | None = None  # the setup of the latest sweep
        self.status = INTRO
        self.dirty = False

    def compose(self) -> ComposeResult:
        yield PlotextPlot(id="sweep-chart")
        with Horizontal(id="sweep-settings"):
            d = self.defaults
            yield Label("rates ")
            yield OrderedInput(f"{d.lr_min:g}", id="sweep-lr-min", compact=True, tooltip="smallest learning rate")
            yield Label(" to ")
            yield OrderedInput(f"{d.lr_max:g}", id="sweep-lr-max", compact=True, tooltip="largest learning rate")
            yield Label(" in ")
            yield OrderedInput(str(d.steps), id="sweep-steps", compact=True,
                               tooltip="rates tried (one minibatch each)")
            yield Label(" steps")
        yield ProgressBar(total=100, show_eta=False, id="sweep-progress")
        yield Static(Text(INTRO), id="sweep-status")

    def on_mount(self) -> None:
        self.set_interval(REDRAW_S, self.tick)

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

    # -- the job -------------------------------------------------------------------------------------
    def start(self, cfg: RunConfig) -> None:
        """Sweep a fresh model from ``cfg``, as ``seqlm-tui sweep`` does: the rate is for training from the
        start, and a trained model's curve (already near its floor) says little about it."""
        scfg = self.read_config()  # SeqlmError: the caller shows it
        self.lrs, self.losses, self.smoothed, self.suggested, self.swept = [], [], [], None, cfg
        self.query_one(ProgressBar).update(total=scfg.steps, progress=0)
        self.set_status("sweeping... (x stops)")
        self.running = True
        self.dirty = True
        self.sweep_worker(cfg, scfg)

    @work(thread=True, group="sweep", exit_on_error=False)
    def sweep_worker(self, cfg: RunConfig, scfg: SweepConfig) -> None:
        sweep = Sweep(new_run(cfg), scfg, stop=get_current_worker().cancelled_event)
        for e in sweep.events():
            if isinstance(e, ev.SweepPoint):
                self.post_message(SweepPoint(e))
            elif isinstance(e, ev.SweepDone):
                self.post_message(SweepDone(e))
            elif isinstance(e, ev.Error):
                self.post_message(SweepFailed(e.message))

    def stop(self) -> bool:
        workers = [w for w in self.app.workers if w.node is self and w.group == "sweep"
                   and w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        for w in workers:
            w.cancel()
        return bool(workers)

    def on_worker_state_changed(self, event) -> None:
        if event.worker.node is self and event.state in (WorkerState.SUCCESS, WorkerState.ERROR,
                                                         WorkerState.CANCELLED):
            self.running = False
            if event.state == WorkerState.ERROR:
                self.set_status(f"the sweep could not run: {event.worker.error}")

    def on_sweep_point(self, msg: SweepPoint) -> None:
        msg.stop()
        e = msg.point
        self.lrs.append(e.lr)
        self.losses.append(e.loss)
        self.smoothed.append(e.smooth)
        self.query_one(ProgressBar).update(total=e.total, progress=e.index)
        self.dirty = True

    def on_sweep_done(self, msg: SweepDone) -> None:
        msg.stop()
        e = msg.done
        self.lrs, self.losses, self.smoothed, self.suggested = e.lrs, e.losses, e.smoothed, e.suggested_lr
        why = {"diverged": "stopped early: the loss diverged", "done": "tried every rate",
               "stopped": "stopped"}.get(e.reason, e.reason)
        tip = (f"suggested learning rate {e.suggested_lr:.3g} (the vertical line; rule: {RULE}). u uses it"
               if e.suggested_lr else "no suggestion: the curve never falls")
        self.set_status(f"{why}, {len(e.lrs)} rates. {tip}")
        self.dirty = True
        self.redraw_if_dirty()

    def on_sweep_failed(self, msg: SweepFailed) -> None:
        self.set_status(msg.message)

    def set_status(self, text: str) -> None:
        self.status = text
        self.query_one("#sweep-status", Static).update(Text(text))

    def tick(self) -> None:
        if self.is_on_screen:
            self.redraw_if_dirty()

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
