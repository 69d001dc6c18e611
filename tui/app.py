"""The seqlm-tui app: Setup, Train, Sweep, Prompt and Checkpoints panes over core's engine."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.lazy import Lazy
from textual.widgets import Footer, Header, TabbedContent, TabPane, Tabs

from core import checkpoint, compare, datasets, insight, memory
from core import events as ev
from core.config import RunConfig
from core.errors import SeqlmError
from core.models import registry
from core.presets import config_for
from core.run import Run, new_run
from core.sweep import Sweep, SweepConfig
from core.train import Trainer
from tui.commands import SeqlmCommands
from tui.messages import DatasetLoaded, EngineEvent, JobDone, ModelInsight
from tui.screens.help import HelpScreen
from tui.screens.save import SaveScreen
from tui.widgets.checkpoints_pane import CheckpointsPane
from tui.widgets.compare_view import CompareView
from tui.widgets.insight_pane import InsightPane
from tui.widgets.memory_view import MemoryView
from tui.widgets.prompt_pane import PromptPane
from tui.widgets.setup_pane import SetupPane
from tui.widgets.sweep_pane import SweepPane
from tui.widgets.train_pane import TrainPane

DEFAULT_PRESET = "counting-elman"
# Charts redraw at most 2.5 times a second, and only the visible one: a plotext frame costs tens of
# milliseconds of the GIL that the training thread shares (measured by `seqlm-tui bench --only app`).
REDRAW_S = 0.4
CHART_WHILE_TRAINING_S = 1.0
# The embedding map and the bigram table follow training at most this often (and at its end).
INSIGHT_EVERY_S = 0.5


def leave_a_core_to_the_ui() -> None:
    """Training gets every core but one (a run's own `threads` setting still wins).

    torch's OpenMP workers spin while they wait for each other, so a team as large as the machine
    collapses when anything else wants a core: on 2 cores with one other busy process, the counting
    model made 2.7 steps/s with 2 workers and 577 with 1. On an idle machine the app trained these
    models as fast with 1 worker as with 2 (measured 600 vs 610 and 410 vs 389 steps/s), and the
    interface thread keeps a core for itself."""
    import os

    import torch

    cores = os.cpu_count() or 1
    torch.set_num_threads(max(1, min(torch.get_num_threads(), cores - 1)))


def count_params(cfg: RunConfig, ds: datasets.Dataset) -> int:
    """The model's size without building its weights (the count follows every keystroke: typing
    hidden 8192 for an LSTM must not allocate two gigabytes on the way)."""
    return registry.get(cfg.model.model).count_params(cfg.model, len(ds.vocab), ds.pad)


def data_key(cfg: RunConfig) -> tuple:
    return (cfg.data.dataset, cfg.data.file if cfg.data.dataset == "file" else "",
            cfg.data.mode if cfg.data.dataset == "file" else "")


def model_insight(model, vocab, cfg: RunConfig) -> tuple:
    """(embedding map, why there is none, bigram table, why there is none) of a model that is not
    changing meanwhile (between two training steps, or idle)."""
    try:
        table, table_note = insight.bigram_table(model, vocab), ""
    except SeqlmError as err:
        table, table_note = None, str(err)
    spec = registry.get(cfg.model.model)
    if insight.has_embedding(model):
        return insight.embedding_map(model, vocab), "", table, table_note
    if "one_hot" in spec.fields and cfg.model.one_hot:
        note = "one-hot input has no embedding to show; set one-hot off in Setup (then n) to learn one."
    else:
        note = f"{spec.title} has no character embedding to show" + ("; its table is under Bigram." if table else ".")
    return None, note, table, table_note


class SeqlmApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "seqlm-tui"
    COMMANDS = App.COMMANDS | {SeqlmCommands}
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", key_display="f1"),
        Binding("s", "start_pause", "Start/Pause"),
        Binding("x", "stop", "Stop"),
        Binding("n", "new_run", "New run"),
        Binding("w", "sweep", "Sweep"),
        Binding("u", "use_lr", "Use LR"),
        Binding("l", "log_y", "Log y"),
        Binding("ctrl+s", "save", "Save"),
        Binding("m", "memory", "Memory"),
        Binding("r", "lr_compare", "Rates"),
        Binding("left_square_bracket", "insight_view(-1)", "Prev view", key_display="[", show=False),
        Binding("right_square_bracket", "insight_view(1)", "View", key_display="]"),
        # F-keys switch panes everywhere (the tab labels show them); digits too where no text box has the
        # focus, for terminals that keep F-keys for themselves. The help lists both.
        Binding("1,f2", "show('setup')", "Setup", show=False),
        Binding("2,f3", "show('train')", "Train", show=False),
        Binding("3,f4", "show('sweep')", "Sweep pane", show=False),
        Binding("4,f5", "show('prompt')", "Prompt", show=False),
        Binding("5,f6", "show('checkpoints')", "Checkpoints", show=False),
        Binding("6,f7", "show('insight')", "Insight", show=False),
        Binding("ctrl+q", "quit", "Quit"),
    ]
    # What the help screen says about each action (the Footer has room for a word or two).
    HELP_TEXT = {
        "help": "this help",
        "start_pause": "start training the Setup's model; pause; resume",
        "stop": "stop training (the weights so far stay) or the sweep; on the Insight pane, its comparison",
        "new_run": "a fresh model from Setup replaces the current run (save it first if you want it)",
        "sweep": "run the learning-rate range test on a fresh model from Setup",
        "use_lr": "put the sweep's suggested learning rate into Setup (Sweep pane)",
        "log_y": "log-scale loss axis on the Train chart (Train pane)",
        "save": "save a checkpoint (a name in the checkpoint folder)",
        "memory": "memory task: train Elman RNN and LSTM at several lengths, plot recall accuracy (Insight/Memory)",
        "lr_compare": "train the Setup's model at each learning rate listed and overlay the curves "
                      "(Insight/Compare)",
        "insight_view(-1)": "previous Insight view (Embeddings, Bigram, Health, Compare, Memory)",
        "insight_view(1)": "next Insight view",
        "show('setup')": "Setup pane: data, model, hyperparameters",
        "show('train')": "Train pane: loss chart, progress, samples",
        "show('sweep')": "Sweep pane: learning-rate range test",
        "show('prompt')": "Prompt pane: talk to the model",
        "show('checkpoints')": "Checkpoints pane: browse and load (Enter)",
        "show('insight')": "Insight pane: embeddings, bigram table, health, run comparison, memory task",
        "quit": "quit (stops training cleanly)",
    }

    def __init__(self, cfg: RunConfig | None = None) -> None:
        super().__init__()
        self.start_cfg = cfg or config_for(DEFAULT_PRESET)
        self.current: Run | None = None
        self.trainer: Trainer | None = None
        self._train_state = "idle"
        self.sweeper: Sweep | None = None
        self.datasets: dict[tuple, datasets.Dataset] = {}
        self._waiting: dict[tuple, list] = {}
        self._loading: set[tuple] = set()
        self._run_serial = 0  # tells runs apart for the prompt pane (ids of freed objects come back)
        self._failed: dict[tuple, str] = {}  # data that could not be loaded: retried on s / w / n only
        self.best_dev = math.inf
        self._jobs: dict[str, threading.Event] = {}  # running comparisons ("memory", "compare") -> their stop
        self._watch_insight = False  # the current model has an embedding or a bigram table to follow
        self._compare_total = self._compare_done = 0
        self._panes_in = False  # every pane is mounted and the start finished (see compose)
        self._early_actions: list[tuple] = []  # actions asked for before that
        self._chart_at = 0.0  # when the Train chart was last drawn

    @property
    def train_state(self) -> str:
        """idle, running or paused."""
        return self._train_state

    @train_state.setter
    def train_state(self, value: str) -> None:
        self._train_state = value
        self.refresh_bindings()  # x (stop) shows only while there is something to stop

    def notify(self, message: str, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = False) -> None:
        """Every message here is plain text: error sentences quote what the user typed ("[bold]" too)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    # -- layout --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        # The panes hidden at start are mounted after the first frame (Textual's Lazy): they are more than
        # half of the widgets, and composing them first made the start-up ~0.15 s slower.
        self.setup_pane = SetupPane(self.start_cfg, id="setup-pane")
        self.train_pane = TrainPane(id="train-pane")
        self.sweep_pane = SweepPane(id="sweep-pane")
        self.insight = InsightPane(id="insight-pane")
        prompt, checkpoints = PromptPane(self.model_source, id="prompt-pane"), CheckpointsPane(id="checkpoints-pane")
        self._lazy_panes = (self.sweep_pane, prompt, checkpoints, self.insight)
        with TabbedContent(initial="train", id="tabs"):
            with TabPane("Setup F2", id="setup"):
                yield self.setup_pane
            with TabPane("Train F3", id="train"):
                yield self.train_pane
            with TabPane("Sweep F4", id="sweep"):
                yield Lazy(self.sweep_pane)
            with TabPane("Prompt F5", id="prompt"):
                yield Lazy(prompt)
            with TabPane("Checkpoints F6", id="checkpoints"):
                yield Lazy(checkpoints)
            with TabPane("Insight F7", id="insight"):
                yield Lazy(self.insight)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        leave_a_core_to_the_ui()
        self.call_after_refresh(self.warm_up)
        self.run_worker(self.when_panes_are_in(), group="start")

    async def when_panes_are_in(self) -> None:
        """Finish starting once the lazily mounted panes are in (a frame or two after the first). A task of
        its own: the app's queue may be held by a key waiting for this (run_action)."""
        while not all(pane.is_mounted for pane in self._lazy_panes):
            await asyncio.sleep(0.01)
        self.set_interval(REDRAW_S, self.redraw)
        self.request_dataset(self.start_cfg, lambda ds: self.adopt(new_run(self.start_cfg)))
        self.follow_the_pane(self.query_one("#tabs", TabbedContent).active_pane)
        self._panes_in = True
        self.refresh_bindings()
        for args in self._early_actions:
            self.call_later(self.run_action, *args)
        self._early_actions.clear()

    async def run_action(self, action, default_namespace=None, namespaces=None) -> bool:
        """Keys pressed before the lazy panes are in run once they are (a fraction of a second later), in
        order; waiting here instead would hold the app's queue, which the lazy mount needs."""
        if not self._panes_in:
            self._early_actions.append((action, default_namespace, namespaces))
            return True
        return await super().run_action(action, default_namespace, namespaces)

    @work(thread=True, group="warm-up")
    def warm_up(self) -> None:
        """torch imports its compiler stack (~2 s) the first time an Adam/momentum optimizer is built;
        do it after the first frame, so pressing s does not wait for it."""
        import torch._dynamo  # noqa: F401

    def redraw(self) -> None:
        if not self.is_running:
            return
        try:
            active = self.query_one("#tabs", TabbedContent).active
            self.train_pane.refresh_view()
            now = time.monotonic()
            # While training, the numbers follow at every tick and the chart once a second: a plotext frame
            # holds the GIL for ~30 ms, and the curve over thousands of steps barely moves in 0.4 s.
            if active == "train" and (self.train_state != "running" or now - self._chart_at >= CHART_WHILE_TRAINING_S):
                self._chart_at = now
                self.train_pane.chart.redraw_if_dirty()
            elif active == "sweep":
                self.sweep_pane.redraw_if_dirty()
            elif active == "insight":
                self.insight.redraw_if_dirty()
        except NoMatches:
            pass  # the panes are being torn down (quitting)

    # -- runs and datasets ------------------------------------------------------------------------
    def adopt(self, run: Run, label: str | None = None) -> None:
        """Make ``run`` the current one: the chart, the stats, the prompt and the insight views follow it;
        the Compare view lists it (``label``, or what it is) with the session's earlier runs."""
        self.current = run
        self._run_serial += 1
        self.best_dev = min(run.history.dev.values) if len(run.history.dev) else math.inf
        title = f"{run.cfg.model.model} on {run.cfg.data.dataset}"
        info = (f"{title}: {run.model.num_params():,} parameters, step {run.step:,}. "
                "Press s to start training" + (" (it continues from here)." if run.step else "."))
        self.train_pane.reset(run.history, title, info, run.step, run.cfg.train.steps)
        self.insight.health.reset("the counting bigram learns by counting: it has no gradients to show."
                                  if run.model.trains_by_counting else "")
        self.insight.compare.add_run(run, label or f"{title}, lr {run.cfg.train.lr:g}")
        shown = self.model_insight(self._run_serial, run)
        self._watch_insight = shown.embedding is not None or shown.bigram is not None
        self.on_model_insight(shown)
        self.update_summary()
        self.refresh_bindings()

    def model_insight(self, serial: int, run: Run) -> ModelInsight:
        """The insight views' data of ``run``'s model (any thread, while the model stands still)."""
        try:
            emap, enote, table, tnote = model_insight(run.model, run.vocab, run.cfg)
        except Exception as err:  # a bug must not end the app (or the training) with a traceback
            emap, table = None, None
            enote = tnote = f"could not read the model: {type(err).__name__}: {err}"
        return ModelInsight(serial, run.step, emap, enote, table, tnote)

    def on_model_insight(self, msg: ModelInsight) -> None:
        if msg.serial != self._run_serial:
            return  # from a run that has been replaced since
        self.insight.embeddings.show_map(msg.embedding, msg.step, msg.embedding_note)
        self.insight.bigram.show_table(msg.bigram, msg.step, msg.bigram_note)

    def request_dataset(self, cfg: RunConfig, then=None) -> None:
        """Run ``then(dataset)`` once the data is loaded (in a worker: names and timemachine may download).
        Without ``then`` (the summary asking), data that failed before is not tried again."""
        key = data_key(cfg)
        if key in self.datasets:
            if then:
                then(self.datasets[key])
            return
        if then is None and key in self._failed:
            self.setup_pane.show_summary(f"{key[0]}: could not be loaded", self._failed[key] + " (s tries again)")
            return
        self._failed.pop(key, None)
        waiting = self._waiting.setdefault(key, [])
        if then:
            waiting.append(then)
        if key in self._loading:
            return  # already loading: the callback runs when it is done
        self._loading.add(key)
        if cfg.data.dataset in ("names", "timemachine") and not datasets.datafiles.is_available(cfg.data.dataset):
            self.setup_pane.show_summary(f"downloading {cfg.data.dataset} (first use)...")
        else:
            self.setup_pane.show_summary(f"loading {cfg.data.dataset}...")
        self.load_dataset(cfg, key)

    @work(thread=True, group="data")
    def load_dataset(self, cfg: RunConfig, key: tuple) -> None:
        try:
            ds = datasets.load(cfg.data)
        except SeqlmError as err:
            self.post_message(DatasetLoaded(key, error=str(err)))
            return
        except Exception as err:  # a bug must not end the app with a traceback
            self.post_message(DatasetLoaded(key, error=f"could not load {cfg.data.dataset}: {type(err).__name__}: "
                                                        f"{err}"))
            return
        self.post_message(DatasetLoaded(key, ds))

    def on_dataset_loaded(self, msg: DatasetLoaded) -> None:
        self._loading.discard(msg.key)
        callbacks = self._waiting.pop(msg.key, [])
        if msg.error:
            self._failed[msg.key] = msg.error
            self.setup_pane.show_summary(f"{msg.key[0]}: could not be loaded", msg.error)
            self.notify(msg.error, severity="error", timeout=8)
            return
        self.datasets[msg.key] = msg.dataset
        for then in callbacks:
            try:
                then(msg.dataset)
            except SeqlmError as err:
                self.notify(str(err), severity="error", timeout=8)
        self.update_summary()

    def update_summary(self) -> None:
        cfg, problem = self.setup_pane.read()
        if cfg is None:
            self.setup_pane.show_summary("", problem)
            return
        key = data_key(cfg)
        ds = self.datasets.get(key)
        if ds is None:
            self.request_dataset(cfg)
            return
        try:
            params = count_params(cfg, ds)
        except SeqlmError as err:
            self.setup_pane.show_summary(ds.summary(), str(err))
            return
        spec = registry.get(cfg.model.model)
        self.setup_pane.show_summary(Text(f"{ds.summary()}\n{spec.title}: {params:,} parameters"))

    def on_setup_pane_changed(self, _msg: SetupPane.Changed) -> None:
        try:
            self.update_summary()
        except NoMatches:
            pass  # a change that arrives while the app closes (just after a checkpoint load): nothing to show

    def apply_preset(self, name: str) -> None:
        async def go():
            await self.setup_pane.load_config(config_for(name))
            self.action_show("setup")
            self.notify(f"preset {name} in Setup; press s to train it.")
        self.call_later(go)

    # -- model for the prompt pane ---------------------------------------------------------------
    def model_source(self):
        """(tag, vocab, snapshot) of the current model: a new tag means other weights, and only then does the
        prompt pay for ``snapshot()`` (a copy, so training can go on while it talks)."""
        run = self.current
        if run is None:
            return None, None, None
        trainer = self.trainer
        snapshot = trainer.snapshot if trainer is not None else run.snapshot_model
        return (self._run_serial, run.step), run.vocab, snapshot

    # -- training --------------------------------------------------------------------------------
    def action_start_pause(self) -> None:
        if self.train_state == "running":
            self.trainer.pause()
            return
        if self.train_state == "paused":
            self.trainer.resume()
            return
        cfg = self.setup_or_complain()
        if cfg is None:
            return
        self.request_dataset(cfg, lambda ds: self.start_training(cfg, ds))

    def setup_or_complain(self) -> RunConfig | None:
        """The Setup's config, or None after saying what to fix there (and showing it)."""
        cfg, problem = self.setup_pane.read()
        if cfg is None:
            self.notify(f"fix the setup first: {problem}", severity="error", timeout=6)
            self.action_show("setup")
        return cfg

    def action_new_run(self) -> None:
        """Start afresh: a new model from Setup replaces the current run (its weights, step and chart)."""
        if self.train_state != "idle":
            self.notify("stop training (x) before starting a new run.", severity="warning")
            return
        cfg = self.setup_or_complain()
        if cfg is None:
            return

        def fresh(ds) -> None:
            self.adopt(new_run(cfg))
            self.notify("a fresh model from Setup; press s to train it.")

        self.request_dataset(cfg, fresh)

    def start_training(self, cfg: RunConfig, ds) -> None:
        if self.train_state != "idle":
            return
        run = self.current
        same_model = (run is not None and data_key(run.cfg) == data_key(cfg) and run.cfg.model == cfg.model)
        if not same_model:
            run = new_run(cfg)
            self.adopt(run)
        else:
            run.cfg.data = cfg.data
            run.cfg.train = cfg.train
            if run.step:
                run.cfg.train.steps = run.step + cfg.train.steps  # continue: that many more steps
            run.dataset = run.dataset or ds
        self.trainer = Trainer(run)
        self.train_state = "running"
        self.action_show("train")
        self.train_pane.set_status("starting...")
        self.train_worker(self.trainer)

    @work(thread=True, group="train")
    def train_worker(self, trainer: Trainer) -> None:
        serial, watch, last = self._run_serial, self._watch_insight, 0.0
        try:
            for e in trainer.events():
                self.post_message(EngineEvent(e, "train"))
                # The trainer waits at its yield, so the weights stand still while they are read here.
                if watch and (isinstance(e, ev.Finished) or
                              isinstance(e, ev.Eval) and time.monotonic() - last >= INSIGHT_EVERY_S):
                    last = time.monotonic()
                    self.post_message(self.model_insight(serial, trainer.run))
        except Exception as err:  # a bug must not end the app with a traceback
            self.post_message(EngineEvent(ev.Error(trainer.run.step, f"training failed: {type(err).__name__}: "
                                                   f"{err}"), "train"))

    def action_stop(self) -> None:
        """Stops training and the sweep; on the Insight pane (or when nothing else runs), the comparisons."""
        training = (self.trainer is not None and self.train_state != "idle") or self.sweeper is not None
        if self._jobs and (self.active_pane == "insight" or not training):
            for stop in self._jobs.values():
                stop.set()
            return
        if self.trainer is not None and self.train_state != "idle":
            self.trainer.stop()
        if self.sweeper is not None:
            self.sweeper.stop()

    def on_engine_event(self, msg: EngineEvent) -> None:
        e = msg.event
        if msg.source == "sweep":
            self.on_sweep_event(e)
            return
        if msg.source in ("memory", "compare"):
            self.on_comparison_result(msg.source, e)
            return
        pane = self.train_pane
        if isinstance(e, ev.Step):
            pane.on_step(e, "paused" if self.train_state == "paused" else "training")
        elif isinstance(e, ev.Health):
            self.insight.health.add(e.health)
        elif isinstance(e, ev.Eval):
            pane.on_eval(e)
            self.insight.compare.mark_dirty()
            if self.train_pane.autosave and e.dev_loss < self.best_dev:
                self.best_dev = e.dev_loss
                self.save_to(checkpoint.default_dir() / f"{self.current.name}-best.pt", quiet=True)
        elif isinstance(e, ev.Sample):
            pane.on_sample(e)
        elif isinstance(e, ev.Paused):
            self.train_state = "paused"
            pane.set_status(f"paused at step {e.step:,}: s resumes, x stops")
        elif isinstance(e, ev.Resumed):
            self.train_state = "running"
        elif isinstance(e, ev.Finished):
            self.train_state = "idle"
            self.trainer = None
            r = e.result
            dev, train = r.get("dev_loss"), r.get("train_loss")
            what = "stopped" if e.stopped else "finished"
            text = (f"{what} at step {e.step:,}" + (f"  loss {train:.4f}" if train is not None else "")
                    + (f"  dev {dev:.4f}  ppl {math.exp(min(dev, 50)):.3f}" if dev is not None else "")
                    + "  (s trains on, n starts afresh, F5 talks to the model, ctrl+s saves)")
            pane.set_status(text)
            self.notify(f"training {what} at step {e.step:,}" + (f", dev loss {dev:.4f}" if dev is not None else ""))
            pane.chart.mark_dirty()
        elif isinstance(e, ev.Error):
            self.train_state = "idle"
            self.trainer = None
            pane.set_status(e.message)
            self.notify(e.message, severity="error", timeout=10)
            pane.chart.mark_dirty()

    # -- sweep -------------------------------------------------------------------------------------
    def action_sweep(self) -> None:
        if self.sweeper is not None:
            self.notify("a sweep is already running (x stops it).")
            return
        cfg = self.setup_or_complain()
        if cfg is None:
            return
        try:
            scfg = self.sweep_pane.read_config()
        except SeqlmError as err:
            self.sweep_pane.set_status(str(err))
            self.notify(str(err), severity="error", timeout=6)
            self.action_show("sweep")
            return
        self.request_dataset(cfg, lambda ds: self.start_sweep(cfg, scfg, ds))

    def start_sweep(self, cfg: RunConfig, scfg: SweepConfig, ds) -> None:
        # A fresh model, as `seqlm-tui sweep` does: the rate is for training from the start, and a
        # trained model's curve (already near its floor) says little about it.
        self.sweeper = Sweep(new_run(cfg), scfg)
        self.sweep_pane.start(scfg.steps)
        self.action_show("sweep")
        self.refresh_bindings()
        self.sweep_worker(self.sweeper)

    @work(thread=True, group="sweep")
    def sweep_worker(self, sweeper: Sweep) -> None:
        try:
            for e in sweeper.events():
                self.post_message(EngineEvent(e, "sweep"))
        except Exception as err:  # a bug must not end the app with a traceback
            self.post_message(EngineEvent(ev.Error(0, f"the sweep failed: {type(err).__name__}: {err}"), "sweep"))

    def on_sweep_event(self, e) -> None:
        if isinstance(e, ev.SweepPoint):
            self.sweep_pane.on_point(e)
        elif isinstance(e, ev.SweepDone):
            self.sweeper = None
            self.refresh_bindings()
            self.sweep_pane.on_done(e)
        elif isinstance(e, ev.Error):
            self.sweeper = None
            self.refresh_bindings()
            self.sweep_pane.set_status(e.message)
            self.notify(e.message, severity="error", timeout=8)

    def action_use_lr(self) -> None:
        lr = self.sweep_pane.suggested
        if not lr:
            self.notify("no suggested learning rate yet: run the sweep first (w).")
            return
        self.setup_pane.set_lr(lr)
        self.notify(f"learning rate {lr:.3g} set in Setup.")

    # -- insight comparisons: the memory task and the learning-rate comparison ----------------------
    def action_memory(self) -> None:
        self.action_show("insight")
        self.insight.show_view("memory")
        view = self.insight.memory
        if "memory" in self._jobs:
            self.notify("the memory comparison is already running (x stops it).")
            return
        try:
            models, lengths, steps = view.read_settings()
        except SeqlmError as err:
            view.set_status(str(err))
            self.notify(str(err), severity="error", timeout=6)
            return
        stop = self._jobs["memory"] = threading.Event()
        view.start(models, lengths, steps, memory.chance())
        self.refresh_bindings()
        self.memory_worker(models, lengths, steps, stop)

    @work(thread=True, group="memory")
    def memory_worker(self, models: list[str], lengths: list[int], steps: int, stop: threading.Event) -> None:
        try:
            for result in memory.compare_memory(models, lengths, steps, stop=stop):
                self.post_message(EngineEvent(result, "memory"))
        except SeqlmError as err:
            self.post_message(JobDone("memory", error=str(err)))
            return
        except Exception as err:  # a bug must not end the app with a traceback
            self.post_message(JobDone("memory", error=f"the memory comparison failed: {type(err).__name__}: {err}"))
            return
        self.post_message(JobDone("memory", stopped=stop.is_set()))

    def action_lr_compare(self) -> None:
        self.action_show("insight")
        self.insight.show_view("compare")
        view = self.insight.compare
        if "compare" in self._jobs:
            self.notify("the learning-rate comparison is already running (x stops it).")
            return
        cfg = self.setup_or_complain()
        if cfg is None:
            return
        try:
            rates, steps = view.read_settings()
        except SeqlmError as err:
            view.set_status(str(err))
            self.notify(str(err), severity="error", timeout=6)
            return
        stop = self._jobs["compare"] = threading.Event()
        view.set_status(f"training {cfg.model.model} on {cfg.data.dataset} at {len(rates)} learning rates, "
                        f"{steps:,} steps each... (x stops)")
        self._compare_total, self._compare_done = len(rates), 0
        self.refresh_bindings()
        self.compare_worker(cfg, rates, steps, stop)

    @work(thread=True, group="compare")
    def compare_worker(self, cfg: RunConfig, rates: list[float], steps: int, stop: threading.Event) -> None:
        try:
            for curve in compare.lr_comparison(cfg, rates, steps, stop=stop):
                self.post_message(EngineEvent(curve, "compare"))
        except SeqlmError as err:
            self.post_message(JobDone("compare", error=str(err)))
            return
        except Exception as err:  # a bug must not end the app with a traceback
            self.post_message(JobDone("compare", error=f"the learning-rate comparison failed: {type(err).__name__}: "
                                                        f"{err}"))
            return
        self.post_message(JobDone("compare", stopped=stop.is_set()))

    def on_comparison_result(self, source: str, result) -> None:
        if source == "memory":
            self.insight.memory.add(result)
            return
        self.insight.compare.add_curve(result)
        self._compare_done += 1
        self.insight.compare.set_status(f"{self._compare_done} of {self._compare_total} rates done: "
                                        f"{result.label}... (x stops)")

    def on_job_done(self, msg: JobDone) -> None:
        self._jobs.pop(msg.source, None)
        self.refresh_bindings()
        if msg.source == "memory":
            self.insight.memory.finish(msg.stopped, msg.error)
        else:
            view = self.insight.compare
            view.set_status(msg.error or (f"stopped after {self._compare_done} of {self._compare_total} rates."
                                          if msg.stopped else
                                          f"done: {self._compare_done} runs added and ticked; r runs it again."))
        if msg.error:
            self.notify(msg.error, severity="error", timeout=8)

    def on_memory_view_start(self, _msg: MemoryView.Start) -> None:
        self.action_memory()

    def on_compare_view_start(self, _msg: CompareView.Start) -> None:
        self.action_lr_compare()

    # -- checkpoints ----------------------------------------------------------------------------------
    def action_save(self) -> None:
        if self.current is None:
            self.notify("nothing to save yet.")
            return
        default = f"{self.current.name}-step{self.current.step}"
        folder = checkpoint.default_dir()

        def done(name: str | None) -> None:
            if name:
                path = Path(name) if "/" in name else folder / name
                self.save_to(path)

        self.push_screen(SaveScreen(default, str(folder)), done)

    def save_to(self, path: Path, quiet: bool = False) -> None:
        try:
            if self.trainer is not None:
                with self.trainer.lock:
                    saved = checkpoint.save(self.current, path)
            else:
                saved = checkpoint.save(self.current, path)
        except SeqlmError as err:
            self.notify(str(err), severity="error", timeout=8)
            return
        if not quiet:
            self.notify(f"saved {saved}")
        self.query_one(CheckpointsPane).refresh_list()

    async def on_checkpoints_pane_load(self, msg: CheckpointsPane.Load) -> None:
        if self.train_state != "idle":
            self.notify("stop training (x) before loading a checkpoint.", severity="warning")
            return
        try:
            run = checkpoint.load(msg.path)
        except SeqlmError as err:
            self.notify(str(err), severity="error", timeout=8)
            return
        key = data_key(run.cfg)
        if key in self.datasets and self.datasets[key].vocab.tokens == run.vocab.tokens:
            run.dataset = self.datasets[key]
        await self.setup_pane.load_config(run.cfg)
        self.adopt(run, f"{msg.path.stem} (checkpoint)")
        self.action_show("train")
        self.notify(f"loaded {msg.path.name}: {run.cfg.model.model} on {run.cfg.data.dataset}, step {run.step:,}")

    # -- navigation -----------------------------------------------------------------------------------
    def action_show(self, tab: str) -> None:
        tabs = self.query_one("#tabs", TabbedContent)
        tabs.active = tab
        # Now, not when the switch is announced: a key right behind this one (F3 then s, pasted or sent
        # together) would still be typed into the text box of the pane left behind.
        self.let_go_outside(tabs.get_pane(tab))

    def action_insight_view(self, delta: int) -> None:
        self.insight.cycle(delta)

    def action_log_y(self) -> None:
        self.train_pane.chart.toggle_log()

    def action_help(self) -> None:
        names = {"question_mark": "?", "left_square_bracket": "[", "right_square_bracket": "]"}
        rows = [(" ".join(names.get(k, k) for k in b.key.split(",")), self.HELP_TEXT.get(b.action, b.description))
                for b in self.BINDINGS]
        rows += [("ctrl+p", "command palette: every action above, and the presets"),
                 ("tab", "next field or control; shift+tab goes back"),
                 ("up/down", "prompt history (in the prompt line)"),
                 ("left/right", "Insight views, when their tabs have the focus"),
                 ("space", "tick or untick a run (Insight/Compare list)"),
                 ("escape", "stop a continuation (Prompt); close a dialog")]
        self.push_screen(HelpScreen(rows))

    # -- bindings that depend on the pane and the state (the Footer shows only what works now) --------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "log_y":
            return self.active_pane == "train"
        if action == "use_lr":
            return self.active_pane == "sweep"
        if action == "stop":
            return self.train_state != "idle" or self.sweeper is not None or bool(self._jobs)
        if action == "memory":
            return self.active_pane == "insight" and self._panes_in and self.insight.view == "memory"
        if action == "lr_compare":
            return self.active_pane == "insight" and self._panes_in and self.insight.view == "compare"
        if action == "insight_view":
            return self.active_pane == "insight"
        if action == "new_run":
            return self.train_state == "idle" and self.current is not None and self.current.step > 0
        return True

    @property
    def active_pane(self) -> str:
        try:
            return self.query_one("#tabs", TabbedContent).active
        except NoMatches:
            return ""

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Whether by key or by mouse: the focus follows the pane, the footer shows its keys."""
        if event.tabbed_content.id != "tabs":  # an Insight view: its own keys, its chart
            self.call_after_refresh(self.redraw)
            self.refresh_bindings()
            return
        if self._panes_in:  # else the pane is followed once every pane is in
            self.follow_the_pane(event.pane)

    def let_go_outside(self, pane) -> None:
        """Drop the focus if it is on a widget outside ``pane``: a text box left behind in a hidden pane
        would swallow s, w, l..."""
        focused = self.focused
        if focused is not None and pane not in focused.ancestors and not isinstance(focused, Tabs):
            self.set_focus(None)

    def follow_the_pane(self, pane) -> None:
        self.let_go_outside(pane)
        if pane.id == "prompt":
            self.query_one("#prompt-input").focus()
        elif pane.id == "checkpoints":
            self.query_one(CheckpointsPane).refresh_list()
            self.query_one("#ckpt-table").focus()
        elif pane.id == "insight":
            self.query_one("#insight-tabs").query_one(Tabs).focus()  # left/right walk the views
        self.call_after_refresh(self.redraw)
        self.refresh_bindings()

    async def action_quit(self) -> None:
        """Stop every worker at its next step (training, sweep, a continuation), then leave."""
        self.action_stop()
        for stop in self._jobs.values():
            stop.set()
        try:
            self.query_one(PromptPane).action_stop_stream()
        except NoMatches:
            pass
        # The Setup form is mounted lazily after the first frame; leaving while its Selects mount makes
        # Textual's Select look for an overlay that is already gone (a traceback on exit).
        await self.setup_pane.wait_ready()
        self.exit()


def run_app() -> int:
    app = SeqlmApp()
    app.run()
    if app.trainer is not None:
        app.trainer.stop()
    return app.return_code or 0
