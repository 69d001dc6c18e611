"""Train: live loss chart, progress, stats and samples."""

from __future__ import annotations

import math

from core.fmt import fmt_time
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, ProgressBar, Static, Switch

from core import events as ev
from core.textsafe import printable
from tui.widgets.loss_chart import LossChart


def _f(v, spec=".4f") -> str:
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, spec)


class TrainPane(Vertical):
    def compose(self) -> ComposeResult:
        yield LossChart(id="loss-chart")
        with Horizontal(id="train-progress-row"):
            yield ProgressBar(total=100, show_eta=False, id="train-progress")
            yield Label("", id="train-eta")
            yield Label("autosave best dev", id="autosave-label")
            yield Switch(value=False, id="autosave")
            yield Label("off", id="autosave-word")  # the state in words, not only in colour
        yield Static("", id="train-stats")
        yield Static("", id="train-samples")

    def on_mount(self) -> None:
        # Widgets are looked up once: step updates come many times a second.
        self.chart = self.query_one(LossChart)
        self.bar = self.query_one(ProgressBar)
        self.eta = self.query_one("#train-eta", Label)
        self.stats = self.query_one("#train-stats", Static)
        self.samples = self.query_one("#train-samples", Static)
        self.switch = self.query_one("#autosave", Switch)
        self.stats.update(Text("Press s to start training."))
        self.last_dev: float | None = None
        self.pending: tuple[ev.Step, str] | None = None

    def reset(self, history, title: str, info: str, step: int = 0, total: int = 0) -> None:
        self.chart.show(history, title)
        self.last_dev = history.dev.values[-1] if len(history.dev) else None
        self.pending = None
        self.bar.update(total=max(total, 1), progress=min(step, total) if total else 0)
        self.eta.update("")
        self.stats.update(Text(info))
        self.samples.update("")

    def on_step(self, e: ev.Step, state: str) -> None:
        """Remember the latest step; ``refresh_view`` (on the app's redraw timer) shows it."""
        self.pending = (e, state)
        self.chart.mark_dirty()

    def refresh_view(self) -> None:
        if self.pending is None:
            return
        e, state = self.pending
        self.pending = None
        self.bar.update(total=e.total, progress=e.step)
        self.eta.update(f"ETA {fmt_time(e.eta)}")
        ppl = math.exp(min(self.last_dev, 50)) if self.last_dev is not None else None
        self.stats.update(Text(
            f"{state}  step {e.step:,}/{e.total:,}  loss {_f(e.smooth)}  dev {_f(self.last_dev)}  "
            f"ppl {_f(ppl, '.3f')}  {e.tokens_per_s:,.0f} tok/s  lr {e.lr:.3g}"))

    def on_eval(self, e: ev.Eval) -> None:
        self.last_dev = e.dev_loss
        self.chart.mark_dirty()

    def on_sample(self, e: ev.Sample) -> None:
        # one line per sample: a newline in stream text is shown, not taken
        body = "\n".join(printable(s).replace("\n", "⏎") for s in e.texts)
        samples = Text(f"samples at step {e.step:,}:\n", style="bold")
        samples.append(body)
        self.samples.update(samples)

    def set_status(self, text: str) -> None:
        self.refresh_view()
        self.stats.update(Text(text))

    def on_switch_changed(self, event: Switch.Changed) -> None:
        self.query_one("#autosave-word", Label).update("on" if event.value else "off")

    @property
    def autosave(self) -> bool:
        return self.switch.value
