"""The seqlm-tui app: Setup, Train, Sweep, Prompt and Checkpoints panes over core's engine."""

from __future__ import annotations

import math
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.widgets import Footer, Header, TabbedContent, TabPane

from core import checkpoint, datasets
from core import events as ev
from core.config import RunConfig
from core.errors import SeqlmError
from core.models import registry
from core.presets import config_for
from core.run import Run, new_run
from core.sweep import Sweep, SweepConfig
from core.train import Trainer
from tui.commands import SeqlmCommands
from tui.messages import DatasetLoaded, EngineEvent
from tui.screens.help import HelpScreen
from tui.screens.save import SaveScreen
from tui.widgets.checkpoints_pane import CheckpointsPane
from tui.widgets.prompt_pane import PromptPane
from tui.widgets.setup_pane import SetupPane
from tui.widgets.sweep_pane import SweepPane
from tui.widgets.train_pane import TrainPane

DEFAULT_PRESET = "counting-elman"
# Charts redraw at most 2.5 times a second, and only the visible one: a plotext frame costs tens of
# milliseconds of the GIL that the training thread shares (measured by `seqlm-tui bench --only app`).
REDRAW_S = 0.4


def data_key(cfg: RunConfig) -> tuple:
    return (cfg.data.dataset, cfg.data.file if cfg.data.dataset == "file" else "",
            cfg.data.mode if cfg.data.dataset == "file" else "")


class SeqlmApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "seqlm-tui"
    COMMANDS = App.COMMANDS | {SeqlmCommands}
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("s", "start_pause", "Start/Pause"),
        Binding("x", "stop", "Stop"),
        Binding("w", "sweep", "Sweep"),
        Binding("u", "use_lr", "Use LR"),
        Binding("l", "log_y", "Log y"),
        Binding("ctrl+s", "save", "Save"),
        Binding("f2", "show('setup')", "Setup", show=False),
        Binding("f3", "show('train')", "Train", show=False),
        Binding("f4", "show('sweep')", "Sweep pane", show=False),
        Binding("f5", "show('prompt')", "Prompt", show=False),
        Binding("f6", "show('checkpoints')", "Checkpoints", show=False),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    def __init__(self, cfg: RunConfig | None = None) -> None:
        super().__init__()
        self.start_cfg = cfg or config_for(DEFAULT_PRESET)
        self.current: Run | None = None
        self.trainer: Trainer | None = None
        self.train_state = "idle"  # idle, running, paused
        self.sweeper: Sweep | None = None
        self.sweep_steps = SweepConfig().steps
        self.datasets: dict[tuple, datasets.Dataset] = {}
        self._waiting: dict[tuple, list] = {}
        self._loading: set[tuple] = set()
        self.best_dev = math.inf

    def notify(self, message: str, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = False) -> None:
        """Every message here is plain text: error sentences quote what the user typed ("[bold]" too)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    # -- layout --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="train", id="tabs"):
            with TabPane("Setup F2", id="setup"):
                yield SetupPane(self.start_cfg, id="setup-pane")
            with TabPane("Train F3", id="train"):
                yield TrainPane(id="train-pane")
            with TabPane("Sweep F4", id="sweep"):
                yield SweepPane(id="sweep-pane")
            with TabPane("Prompt F5", id="prompt"):
                yield PromptPane(self.model_source, id="prompt-pane")
            with TabPane("Checkpoints F6", id="checkpoints"):
                yield CheckpointsPane(id="checkpoints-pane")
        yield Footer()

    def on_mount(self) -> None:
        self.setup_pane = self.query_one(SetupPane)
        self.train_pane = self.query_one(TrainPane)
        self.sweep_pane = self.query_one(SweepPane)
        self.set_interval(REDRAW_S, self.redraw)
        self.call_after_refresh(self.warm_up)
        self.request_dataset(self.start_cfg, lambda ds: self.adopt(new_run(self.start_cfg, ds)))

    @work(thread=True, group="warm-up")
    def warm_up(self) -> None:
        """torch imports its compiler stack (~2 s) the first time an Adam/momentum optimizer is built;
        do it after the first frame, so pressing s does not wait for it."""
        import torch._dynamo  # noqa: F401

    def redraw(self) -> None:
        if not self.is_running:
            return
        try:
            active = self.query_one(TabbedContent).active
            self.train_pane.refresh_view()
            if active == "train":
                self.train_pane.chart.redraw_if_dirty()
            elif active == "sweep":
                self.sweep_pane.redraw_if_dirty()
        except NoMatches:
            pass  # the panes are being torn down (quitting)

    # -- runs and datasets ------------------------------------------------------------------------
    def adopt(self, run: Run) -> None:
        """Make ``run`` the current one: the chart, the stats and the prompt follow it."""
        self.current = run
        self.best_dev = min(run.history.dev.values) if len(run.history.dev) else math.inf
        title = f"{run.cfg.model.model} on {run.cfg.data.dataset}"
        info = (f"{title}: {run.model.num_params():,} parameters, step {run.step:,}. "
                "Press s to start training" + (" (it continues from here)." if run.step else "."))
        self.train_pane.reset(run.history, title, info, run.step, run.cfg.train.steps)
        self.update_summary()

    def request_dataset(self, cfg: RunConfig, then=None) -> None:
        key = data_key(cfg)
        if key in self.datasets:
            if then:
                then(self.datasets[key])
            return
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
        self.post_message(DatasetLoaded(key, ds))

    def on_dataset_loaded(self, msg: DatasetLoaded) -> None:
        self._loading.discard(msg.key)
        callbacks = self._waiting.pop(msg.key, [])
        if msg.error:
            self.setup_pane.show_summary("", msg.error)
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
            params = registry.build(cfg.model, len(ds.vocab), ds.pad).num_params()
        except SeqlmError as err:
            self.setup_pane.show_summary(ds.summary(), str(err))
            return
        spec = registry.get(cfg.model.model)
        self.setup_pane.show_summary(Text(f"{ds.summary()}\n{spec.title}: {params:,} parameters"))

    def on_setup_pane_changed(self, _msg: SetupPane.Changed) -> None:
        self.update_summary()

    def apply_preset(self, name: str) -> None:
        async def go():
            await self.setup_pane.load_config(config_for(name))
            self.action_show("setup")
            self.notify(f"preset {name} in Setup; press s to train it.")
        self.call_later(go)

    # -- model for the prompt pane ---------------------------------------------------------------
    def model_source(self):
        run = self.current
        if run is None:
            return None, None, None
        model = self.trainer.snapshot() if self.trainer is not None else run.snapshot_model()
        return model, run.vocab, (id(run), run.step)

    # -- training --------------------------------------------------------------------------------
    def action_start_pause(self) -> None:
        if self.train_state == "running":
            self.trainer.pause()
            return
        if self.train_state == "paused":
            self.trainer.resume()
            return
        cfg, problem = self.setup_pane.read()
        if cfg is None:
            self.notify(f"fix the setup first: {problem}", severity="error", timeout=6)
            self.action_show("setup")
            return
        self.request_dataset(cfg, lambda ds: self.start_training(cfg, ds))

    def start_training(self, cfg: RunConfig, ds) -> None:
        if self.train_state != "idle":
            return
        run = self.current
        same_model = (run is not None and data_key(run.cfg) == data_key(cfg) and run.cfg.model == cfg.model)
        if not same_model:
            run = new_run(cfg, ds)
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
        for e in trainer.events():
            self.post_message(EngineEvent(e, "train"))

    def action_stop(self) -> None:
        if self.trainer is not None and self.train_state != "idle":
            self.trainer.stop()
        if self.sweeper is not None:
            self.sweeper.stop()

    def on_engine_event(self, msg: EngineEvent) -> None:
        e = msg.event
        if msg.source == "sweep":
            self.on_sweep_event(e)
            return
        pane = self.train_pane
        if isinstance(e, ev.Step):
            pane.on_step(e, "paused" if self.train_state == "paused" else "training")
        elif isinstance(e, ev.Eval):
            pane.on_eval(e)
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
                    + "  (s trains on, F5 talks to the model, ctrl+s saves)")
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
        cfg, problem = self.setup_pane.read()
        if cfg is None:
            self.notify(f"fix the setup first: {problem}", severity="error", timeout=6)
            return
        self.request_dataset(cfg, lambda ds: self.start_sweep(cfg, ds))

    def start_sweep(self, cfg: RunConfig, ds) -> None:
        run = self.current
        if run is None or data_key(run.cfg) != data_key(cfg) or run.cfg.model != cfg.model:
            run = new_run(cfg, ds)
        run = Run(cfg, run.vocab, self.trainer.snapshot() if self.trainer else run.model, dataset=ds)
        self.sweeper = Sweep(run, SweepConfig(steps=self.sweep_steps))
        self.sweep_pane.start(self.sweep_steps)
        self.action_show("sweep")
        self.sweep_worker(self.sweeper)

    @work(thread=True, group="sweep")
    def sweep_worker(self, sweeper: Sweep) -> None:
        for e in sweeper.events():
            self.post_message(EngineEvent(e, "sweep"))

    def on_sweep_event(self, e) -> None:
        if isinstance(e, ev.SweepPoint):
            self.sweep_pane.on_point(e)
        elif isinstance(e, ev.SweepDone):
            self.sweeper = None
            self.sweep_pane.on_done(e)
        elif isinstance(e, ev.Error):
            self.sweeper = None
            self.sweep_pane.set_status(e.message)
            self.notify(e.message, severity="error", timeout=8)

    def action_use_lr(self) -> None:
        lr = self.sweep_pane.suggested
        if not lr:
            self.notify("no suggested learning rate yet: run the sweep first (w).")
            return
        self.setup_pane.set_lr(lr)
        self.notify(f"learning rate {lr:.3g} set in Setup.")

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
        self.adopt(run)
        self.action_show("train")
        self.notify(f"loaded {msg.path.name}: {run.cfg.model.model} on {run.cfg.data.dataset}, step {run.step:,}")

    # -- navigation -----------------------------------------------------------------------------------
    def action_show(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.call_after_refresh(self.redraw)
        if tab == "prompt":
            self.query_one("#prompt-input").focus()
        if tab == "checkpoints":
            self.query_one(CheckpointsPane).refresh_list()

    def action_log_y(self) -> None:
        self.train_pane.chart.toggle_log()

    def action_help(self) -> None:
        rows = [(b.key, b.description) for b in self.BINDINGS]
        rows += [("ctrl+p", "command palette"), ("up/down", "prompt history (in the prompt line)")]
        self.push_screen(HelpScreen(rows))

    async def action_quit(self) -> None:
        self.action_stop()
        self.exit()


def run_app() -> int:
    app = SeqlmApp()
    app.run()
    if app.trainer is not None:
        app.trainer.stop()
    return app.return_code or 0
