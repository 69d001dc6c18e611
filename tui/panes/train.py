"""Train: the current run, its training job, the live loss chart, progress, stats and samples.

The pane owns the run and the worker that trains it. Everything slow happens in workers: building the
model (a too-big one is refused there in one sentence), loading the data, training, saving. The screen
shows the newest step a few times a second and the chart once a second while the run trains.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Label, ProgressBar, Static, Switch
from textual.worker import WorkerState, get_current_worker

from seqlm_tui.core import datacache, memory
from seqlm_tui.core import events as ev
from seqlm_tui.core.config import RunConfig
from seqlm_tui.core.fmt import fmt_time
from seqlm_tui.core.novelty import NEW, Novelty
from seqlm_tui.core.run import Run, new_run
from seqlm_tui.core.textsafe import printable
from seqlm_tui.core.train import Trainer
from seqlm_tui.tui.jobs import ReportsJobs
from seqlm_tui.tui.messages import (
    RunAdopted,
    TrainEval,
    TrainFailed,
    TrainFinished,
    TrainHealth,
    TrainPaused,
    TrainResumed,
    TrainSamples,
    TrainStep,
)
from seqlm_tui.tui.panes.prompt import Source
from seqlm_tui.tui.panes.run_saving import SavesTheRun
from seqlm_tui.tui.readings import has_reading, looked_into, reading
from seqlm_tui.tui.widgets.loss_chart import LossChart

REDRAW_S = 0.4              # numbers on screen at most 2.5 times a second
CHART_WHILE_TRAINING_S = 1.0  # a plotext frame holds the interpreter ~30 ms the training thread wants
READING_EVERY_S = 0.5       # the embedding map and bigram table follow training at most this often


def _f(v, spec=".4f") -> str:
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, spec)


def pack(pieces: list[str], width: int) -> str:
    """Pieces joined by two spaces, broken into lines between pieces only (never "lr" / "0.01")."""
    lines, line = [], ""
    for p in pieces:
        if line and len(line) + 2 + len(p) > width:
            lines.append(line)
            line = p
        else:
            line = f"{line}  {p}" if line else p
    return "\n".join([*lines, line])


class TrainPane(SavesTheRun, ReportsJobs, Vertical):
    state = reactive("idle", bindings=True)  # idle, starting, running, paused

    @dataclass
    class Built(Message):
        """A run built in a worker, to become the pane's run on the interface's thread."""
        run: Run
        label: str
        note: str = ""
        ask: int = 0  # which request built it: one overtaken by a later request is dropped

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.run: Run | None = None
        self.trainer: Trainer | None = None
        self.serial = 0          # tells runs apart (ids of freed objects come back)
        # The latest request for a run (a build, a training start, an adoption). A build that arrives after a
        # later request is dropped: s pressed while the first model was still being built (a busy machine)
        # trained one run while the late build replaced it on screen, and a save took the untrained one.
        self.asked = 0
        self.build_asked = -1    # the request of the latest build: while it is the latest request, s trains a
                                 # fresh model (the one asked for is not in yet), not the old run
        self.label = ""
        self.best_dev = math.inf
        self.last_dev: float | None = None
        self.pending: tuple[ev.Step, bool] | None = None
        self.chart_at = 0.0
        self.autosave_wanted = False
        self.new_shares: list[tuple[int, float]] = []
        self.ended = 0  # training jobs that have ended (finished, stopped or failed)
        self.pause_at: int | None = None  # the next training pauses itself at this step (a lesson's stop)
        self.saved_step = 0  # the current run's latest step that a file holds (a loaded run: its own)

    def compose(self) -> ComposeResult:
        yield LossChart(id="loss-chart")
        with Horizontal(id="train-progress-row"):
            yield ProgressBar(total=100, show_eta=False, id="train-progress")
            yield Label("", id="train-eta")
            yield Label("autosave best", id="autosave-label")
            yield Switch(value=False, id="autosave")
            yield Label("off", id="autosave-word")  # the state in words, not only in colour
        yield Static("", id="train-stats")
        yield Static("", id="train-samples")

    def on_mount(self) -> None:
        self.chart = self.query_one(LossChart)
        self.bar = self.query_one(ProgressBar)
        self.eta = self.query_one("#train-eta", Label)
        self.stats = self.query_one("#train-stats", Static)
        self.samples = self.query_one("#train-samples", Static)
        self.switch = self.query_one("#autosave", Switch)
        self.stats.update(Text("Press s to start training."))
        self.set_interval(REDRAW_S, self.tick)

    # -- what the app asks -------------------------------------------------------------------------
    @property
    def autosave(self) -> bool:
        return self.switch.value

    @property
    def busy(self) -> bool:
        return self.state != "idle"

    def start_pause(self, cfg: RunConfig) -> None:
        if self.state == "running" and self.trainer is not None:
            self.trainer.pause()
        elif self.state == "paused" and self.trainer is not None:
            self.trainer.resume()
        elif self.state == "idle":
            self.state = "starting"
            self.set_status("starting: loading the data and building the model...")
            fresh = self.build_asked == self.asked
            self.asked += 1
            self.train_worker(cfg, self.asked, fresh)

    def stop(self) -> bool:
        """Stop the training job at its next step; False if there was none."""
        workers = [w for w in self.workers_of("train")]
        for w in workers:
            w.cancel()
        return bool(workers)

    def workers_of(self, group: str):
        return [w for w in self.app.workers if w.group == group and w.node is self
                and w.state in (WorkerState.PENDING, WorkerState.RUNNING)]

    def new_run(self, cfg: RunConfig, note: str = "a fresh model from Setup; press s to train it.") -> None:
        self.set_status("building a fresh model from Setup...")
        self.asked += 1
        self.build_asked = self.asked
        self.build_worker(cfg, note, self.asked)

    def adopt(self, run: Run, label: str) -> None:
        """Make ``run`` the current one: the chart, the stats and (through the app) the other panes follow."""
        self.serial += 1
        self.asked += 1  # a build still under way was asked for before this: it no longer replaces it
        self.run, self.label = run, label
        self.saved_step = run.step  # a fresh run has nothing to lose; a loaded one is in its file
        self.best_dev = min(run.history.dev.values) if len(run.history.dev) else math.inf
        self.last_dev = run.history.dev.values[-1] if len(run.history.dev) else None
        self.new_shares = []
        title = f"{run.cfg.model.model} on {run.cfg.data.dataset}"
        self.chart.show(run.history, title)
        self.pending = None
        total = run.cfg.train.steps
        self.bar.update(total=max(total, 1), progress=min(run.step, total))
        self.eta.update("")
        self.samples.update("")
        self.set_status(f"{title}: {run.model.num_params():,} parameters, step {run.step:,}. Press s to start "
                        "training" + (" (it continues from here)." if run.step else "."))
        self.post_message(RunAdopted(run, self.serial, label))

    def source(self) -> Source:
        """The model the prompt talks to (see ``Source``): the current run, at its current step."""
        run = self.run
        if run is None:
            return Source()
        trainer = self.trainer
        snapshot = trainer.snapshot if trainer is not None and trainer.run is run else run.snapshot_model

        def novelty() -> Novelty | None:
            return Novelty.for_run(run) if run.vocab.boundary is not None else None

        return Source((self.serial, run.step), run.vocab, snapshot, novelty,
                      f"{run.cfg.model.model} on {run.cfg.data.dataset}")

    def toggle_log(self) -> None:
        self.chart.toggle_log()

    # -- jobs --------------------------------------------------------------------------------------
    def _prepare(self, cfg: RunConfig, ask: int, fresh: bool) -> Run:
        """The run ``s`` trains: the current one if Setup still describes its model and vocabulary (it goes
        on, on the data and settings now in Setup), else a fresh one (always when a fresh one was asked for
        and is not in yet). In the worker thread."""
        ds = datacache.load(cfg.data)
        run = self.run
        if not fresh and run is not None and run.cfg.model == cfg.model and run.vocab.tokens == ds.vocab.tokens:
            run.cfg.data, run.cfg.train = replace(cfg.data), replace(cfg.train)
            run.dataset = None
            run.ensure_dataset()  # checks the data is what the model was trained on, as a resume does
            if run.step:
                run.cfg.train.steps = run.step + cfg.train.steps  # continue: that many more steps
            return run
        return self._build(cfg, "", ask)

    @work(thread=True, group="build", exclusive=True, exit_on_error=False)
    def build_worker(self, cfg: RunConfig, note: str, ask: int) -> None:
        self._build(cfg, note, ask)

    def _build(self, cfg: RunConfig, note: str, ask: int) -> Run:
        """A fresh run from ``cfg``, sent to the interface's thread to be adopted (in a worker thread)."""
        run = new_run(cfg)
        self.post_message(self.Built(run, f"{cfg.model.model} on {cfg.data.dataset}, lr {cfg.train.lr:g}", note, ask))
        return run

    @work(thread=True, group="train", exit_on_error=False)
    def train_worker(self, cfg: RunConfig, ask: int, fresh: bool) -> None:
        worker = get_current_worker()
        run = self._prepare(cfg, ask, fresh)
        trainer = Trainer(run, stop=worker.cancelled_event)
        trainer.pause_at, self.pause_at = self.pause_at, None
        self.trainer = trainer
        watch, last, looked = has_reading(run), 0.0, looked_into(run)
        # A sample's mark: for the memory task whether it recalls (its sequences are noise: "new" would
        # only say the answer was wrong), else where it comes from (makemore's new / in train / in dev/test).
        is_memory = run.cfg.data.dataset == "memory"
        novelty = Novelty.for_run(run) if run.vocab.boundary is not None and not is_memory else None
        post = self.post_message
        for e in trainer.events():
            if isinstance(e, ev.Step):
                post(TrainStep(e, trainer.paused))
            elif isinstance(e, ev.Eval):  # the trainer waits here: the copy is of the weights evaluated
                post(TrainEval(e, run.snapshot_model() if looked else None))
            elif isinstance(e, ev.Health):
                post(TrainHealth(e.health))
            elif isinstance(e, ev.Sample):
                if is_memory:
                    marks = [memory.recall(t) for t in e.texts]
                    post(TrainSamples(e.step, e.texts, marks, recalled=marks.count("recalled")))
                else:
                    marks = [novelty.where(t) for t in e.texts] if novelty else []
                    post(TrainSamples(e.step, e.texts, marks, novelty.share_new(e.texts) if novelty else None))
            elif isinstance(e, ev.Paused):
                post(TrainPaused(e.step))
            elif isinstance(e, ev.Resumed):
                post(TrainResumed(e.step))
            elif isinstance(e, ev.Finished):
                post(TrainFinished(e.step, e.stopped, e.result))
            elif isinstance(e, ev.Error):
                post(TrainFailed(e.step, e.message, e.diverged))
            # The trainer waits at its yield, so the weights stand still while they are read here.
            if watch and (isinstance(e, ev.Finished | ev.Error) or
                          isinstance(e, ev.Eval) and time.monotonic() - last >= READING_EVERY_S):
                last = time.monotonic()
                post(reading(run))

    def on_worker_state_changed(self, event) -> None:
        """The pane's own bookkeeping; the app reports any failure (the event goes on to it)."""
        w = event.worker
        if w.node is not self:
            return
        if w.group == "train" and event.state == WorkerState.RUNNING:
            self.state = "running"
        elif w.group == "train" and event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self.state, self.trainer = "idle", None
            self.ended += 1
            if event.state == WorkerState.ERROR:
                self.set_status("could not train: " + str(w.error))
            self.chart.mark_dirty()
        elif w.name == "autosave_worker" and event.state == WorkerState.ERROR:
            self.switch.value = False
            self.set_status(f"autosave is off: {w.error}")
        elif w.group == "build" and event.state == WorkerState.ERROR:
            self.build_asked = -1  # nothing is coming: s goes on with the current run
            self.set_status("no new run: " + str(w.error))

    # -- what the jobs report ----------------------------------------------------------------------
    def on_train_pane_built(self, msg: TrainPane.Built) -> None:
        msg.stop()
        if msg.ask == self.asked:  # else overtaken (see ``asked``)
            self.adopt(msg.run, msg.label)
            if msg.note:
                self.app.notify(msg.note)

    def on_train_step(self, msg: TrainStep) -> None:
        msg.stop()
        self.pending = (msg.step, msg.paused)
        self.chart.mark_dirty()

    def on_train_eval(self, msg: TrainEval) -> None:
        self.last_dev = msg.eval.dev_loss
        self.chart.mark_dirty()
        self.keep_if_best(msg.eval.dev_loss)

    def on_train_samples(self, msg: TrainSamples) -> None:
        msg.stop()
        head = Text(f"samples at step {msg.step:,}", style="bold")
        if msg.new_share is not None:
            self.new_shares = (self.new_shares + [(msg.step, msg.new_share)])[-6:]
            head.append(f" ({msg.new_share:.0%} new; " + " → ".join(f"{s:.0%}" for _, s in self.new_shares) + ")")
        if msg.recalled is not None:
            head.append(f" ({msg.recalled} of {len(msg.texts)} recalled)")
        head.append(":")
        for i, t in enumerate(msg.texts):
            # one line per sample: a newline in stream text is shown, not taken
            head.append("\n" + printable(t).replace("\n", "⏎"))
            mark = msg.sources[i] if i < len(msg.sources) else None
            if mark:
                head.append(f"  {mark}", style="italic" if mark == NEW or mark.startswith("wrong") else "dim")
        self.samples.update(head)

    def on_train_paused(self, msg: TrainPaused) -> None:
        msg.stop()
        self.state = "paused"
        self.set_status(f"paused at step {msg.step:,}: s resumes, x stops")
        self.eta.update("")

    def on_train_resumed(self, msg: TrainResumed) -> None:
        msg.stop()
        self.state = "running"

    def on_train_finished(self, msg: TrainFinished) -> None:
        r = msg.result
        dev, train = r.get("dev_loss"), r.get("train_loss")
        what = "stopped" if msg.stopped else "finished"
        self.set_status(f"{what} at step {msg.step:,}" + (f"  loss {train:.4f}" if train is not None else "")
                        + (f"  dev {dev:.4f}  ppl {math.exp(min(dev, 50)):.3f}" if dev is not None else "")
                        + "  (s trains on, n starts afresh, F5 talks to the model, ctrl+s saves)")
        self.eta.update("")
        self.chart.mark_dirty()

    def on_train_failed(self, msg: TrainFailed) -> None:
        self.set_status(msg.message)
        self.chart.mark_dirty()

    # -- drawing -----------------------------------------------------------------------------------
    def tick(self) -> None:
        if not self.is_on_screen:
            return
        self.refresh_view()
        now = time.monotonic()
        if self.state != "running" or now - self.chart_at >= CHART_WHILE_TRAINING_S:
            self.chart_at = now
            self.chart.redraw_if_dirty()

    def refresh_view(self) -> None:
        if self.pending is None:
            return
        e, paused = self.pending
        self.pending = None
        self.bar.update(total=e.total, progress=e.step)
        self.eta.update(f"ETA {fmt_time(e.eta)}")
        ppl = math.exp(min(self.last_dev, 50)) if self.last_dev is not None else None
        words = [("paused" if paused else "training"), f"step {e.step:,}/{e.total:,}", f"loss {_f(e.smooth)}",
                 f"dev {_f(self.last_dev)}", f"ppl {_f(ppl, '.3f')}", f"{e.tokens_per_s:,.0f} tok/s", f"lr {e.lr:.3g}"]
        self.stats.update(Text(pack(words, max(20, self.stats.content_size.width or 80))))

    def set_status(self, text: str) -> None:
        self.refresh_view()
        self.stats.update(Text(text))

    def on_switch_changed(self, event: Switch.Changed) -> None:
        self.query_one("#autosave-word", Label).update("on" if event.value else "off")

    # The switch alone shows its focus by a shade of grey (none with NO_COLOR): its label goes to reverse
    # video, as a Setup field's does.
    def on_descendant_focus(self) -> None:
        self.query_one("#autosave-label").set_class(self.switch.has_focus, "-focused")

    def on_descendant_blur(self) -> None:
        self.query_one("#autosave-label").set_class(self.switch.has_focus, "-focused")

