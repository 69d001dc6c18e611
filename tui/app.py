"""The seqlm-tui app: the panes side by side in tabs, wired together.

Each pane owns its state and its jobs (Textual workers); the app routes what one pane reports to the panes
that follow it, turns keys into the panes' actions, and reports every job that fails, once, here.
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.css.query import NoMatches
from textual.filter import NoColor
from textual.lazy import Lazy
from textual.widgets import Header, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from seqlm_tui.core import checkpoint
from seqlm_tui.core.config import RunConfig
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.presets import config_for
from seqlm_tui.tui import actions, collector, focus, jobs, quitting, session, sizes, terminal
from seqlm_tui.tui.commands import SeqlmCommands
from seqlm_tui.tui.lesson_hooks import LessonActions
from seqlm_tui.tui.lifeline import Lifeline
from seqlm_tui.tui.messages import (
    CheckpointLoaded,
    CheckpointSaved,
    JobState,
    ModelReading,
    RunAdopted,
    TrainEval,
    TrainFailed,
    TrainFinished,
    TrainHealth,
)
from seqlm_tui.tui.panes.checkpoints import CheckpointsPane
from seqlm_tui.tui.panes.insight import InsightPane
from seqlm_tui.tui.panes.lessons import LessonsPane
from seqlm_tui.tui.panes.prompt import PromptPane
from seqlm_tui.tui.panes.setup import SetupPane
from seqlm_tui.tui.panes.sweep import SweepPane
from seqlm_tui.tui.panes.train import TrainPane
from seqlm_tui.tui.screens.help import HelpScreen
from seqlm_tui.tui.screens.save import SaveScreen
from seqlm_tui.tui.threads import leave_a_core_to_the_ui
from seqlm_tui.tui.widgets.key_footer import KeyFooter
from seqlm_tui.tui.widgets.lesson_strip import LessonStrip
from seqlm_tui.tui.widgets.message_bar import MessageBar
from seqlm_tui.tui.widgets.pane_tabs import PaneTabs

DEFAULT_PRESET = "counting-watch"  # no download, and seconds of visible progress
PANES = (("setup", "Setup", "F2"), ("train", "Train", "F3"), ("sweep", "Sweep", "F4"), ("prompt", "Prompt", "F5"),
         ("checkpoints", "Checkpoints", "F6"), ("insight", "Insight", "F7"), ("learn", "Learn", "F8"))


class SeqlmApp(LessonActions, App):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # also for a subclass defined elsewhere
    TITLE = "seqlm-tui"
    COMMANDS = App.COMMANDS | {SeqlmCommands}
    BINDINGS = actions.bindings()

    def __init__(self, cfg: RunConfig | None = None, lesson: str | None = None) -> None:
        """``lesson``: open the Learn pane on it once the lessons are read ("": where the learner stands)."""
        super().__init__()
        # TERM=dumb, LANG=C: ASCII only, and no colour for a dumb terminal (tui.terminal decides).
        self.terminal = terminal.detect()
        self._own_filters = ([] if self.terminal.colour else [NoColor()]) + (
            [terminal.AsciiFilter()] if self.terminal.ascii else [])
        self.start_cfg = cfg or config_for(DEFAULT_PRESET)
        self.start_lesson = lesson
        self.panes_in = False  # every pane is mounted (see compose)
        self.early_actions: list[tuple] = []  # keys pressed before that, run once it is so
        self.quit_after_save = False
        self.leaving = False  # quitting: the jobs are being stopped, the screen says so (tui.quitting)
        self.messages: MessageBar | None = None
        self.message_seconds: float | None = None  # how long a notification stays (None: by its severity)

    # -- layout --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="too-small", markup=False)  # shown instead of the panes below 60x20 (tui.sizes)
        yield Header()
        # The panes hidden at start are mounted after the first frame (Textual's Lazy): they are more than
        # half of the widgets, and composing them first made the start-up ~0.15 s slower.
        self.setup = SetupPane(self.start_cfg, id="setup-pane")
        self.train = TrainPane(id="train-pane")
        self.sweep_pane = SweepPane(id="sweep-pane")
        self.prompt = PromptPane(self.train.source, id="prompt-pane")
        self.checkpoints = CheckpointsPane(id="checkpoints-pane")
        self.insight = InsightPane(id="insight-pane")
        self.lessons = LessonsPane(self.start_lesson, id="lessons-pane")
        self._lazy = (self.sweep_pane, self.prompt, self.checkpoints, self.insight, self.lessons)
        panes = {"setup": self.setup, "train": self.train, "sweep": Lazy(self.sweep_pane),
                 "prompt": Lazy(self.prompt), "checkpoints": Lazy(self.checkpoints), "insight": Lazy(self.insight),
                 "learn": Lazy(self.lessons)}
        with PaneTabs(initial="train", id="tabs"):
            for pid, name, key in PANES:
                with TabPane(f"{name} {key}", id=pid):
                    yield panes[pid]
        yield LessonStrip(id="lesson-strip")  # the lesson's goal and check, seen from every pane
        self.messages = MessageBar(id="messages")  # kept: a dialog on top must not make it unreachable
        yield self.messages
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_class(not self.terminal.colour, "-mono")  # the active tab in reverse video (app.tcss)
        leave_a_core_to_the_ui()  # (a closed terminal or a kill: see tui.lifeline)
        self.call_after_refresh(self.warm_up)
        self.panes_timer = self.set_interval(0.02, self.when_panes_are_in)

    def on_unmount(self) -> None:
        collector.give_back()

    def get_line_filters(self):
        return [*super().get_line_filters(), *self._own_filters]

    def on_resize(self, event) -> None:
        sizes.fit(self, event.size, PANES)

    def when_panes_are_in(self) -> None:
        """Finish starting once the lazily mounted panes are in (a frame or two after the first)."""
        if self.panes_in or not all(w.is_mounted for p in self._lazy for w in p.walk_children(with_self=True)):
            return  # every widget of every pane: a pane is mounted before its views have composed theirs
        self.panes_in = True
        self.panes_timer.stop()  # 50 wake-ups a second for the app's whole life were one more thing a key waited on
        collector.take_over(self)  # what lives from here on is frozen; full passes from a timer (tui.collector)
        if not session.start(self):  # a room's session that comes back gets its last run instead
            self.train.new_run(self.start_cfg, note="")
        focus.follow(self, self.query_one("#tabs", TabbedContent).active_pane)
        for args in self.early_actions:
            self.call_later(self.run_action, *args)
        self.early_actions.clear()

    async def run_action(self, action, default_namespace=None, namespaces=None) -> bool:
        """Keys pressed before the lazy panes are in run once they are (a fraction of a second later), in
        order; waiting here instead would hold the app's queue, which the lazy mount needs."""
        if not self.panes_in:
            self.early_actions.append((action, default_namespace, namespaces))
            return True
        return await super().run_action(action, default_namespace, namespaces)

    @work(thread=True, group="warm-up", exit_on_error=False)
    def warm_up(self) -> None:
        """torch imports its compiler stack (~2 s) the first time an Adam/momentum optimizer is built;
        do it after the first frame, so pressing s does not wait for it."""
        import torch._dynamo  # noqa: F401

    # -- messages to the user ----------------------------------------------------------------------
    def notify(self, message: str, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = False) -> None:
        """On the message line above the footer (never over the work); plain text unless asked for markup
        (Textual's own hints use it), since error sentences quote what the user typed ("[bold]" too)."""
        text = f"{title}: {message}" if title else message
        wait = self.message_seconds or timeout or (10.0 if severity == "error" else 6.0)
        if self.messages is not None and not self.leaving and self.messages.is_mounted:
            self.messages.show(text, severity, wait, markup)

    def action_help_quit(self) -> None:
        """Ctrl+C: Textual's hint, in plain words (its own writes the key in markup)."""
        key = next((k for k, b in self.active_bindings.items() if b.binding.action in ("quit", "app.quit")), "ctrl+q")
        self.notify(f"Press {key} to quit the app.", title="Do you want to quit?")

    def on_job_state(self, event: JobState) -> None:
        """Every job that fails is reported here, once: one sentence; the app goes on."""
        if event.state == WorkerState.ERROR:
            self.notify(jobs.failure_text(event.worker), severity="error")
        if self.screen_stack:  # not while the app is being torn down
            self.refresh_bindings()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.on_job_state(JobState(event.worker, event.state))  # the app's own workers (warm-up)

    # -- wiring: what one pane reports, the others follow ---------------------------------------------
    # Each handler below reaches into a pane. A job's message can still be in the queue when the app
    # closes (Textual drains it after it has started taking the panes down): then it is dropped.
    @jobs.while_running
    def on_run_adopted(self, msg: RunAdopted) -> None:
        self.prompt.forget_model()
        self.insight.follow(msg.run, msg.label, training=self.train.busy)
        self.refresh_bindings()

    @jobs.while_running
    def on_model_reading(self, msg: ModelReading) -> None:
        self.insight.show_reading(msg)

    @jobs.while_running
    def on_train_health(self, msg: TrainHealth) -> None:
        self.insight.health.add(msg.health)

    @jobs.while_running
    def on_train_eval(self, msg: TrainEval) -> None:
        self.insight.compare.mark_dirty()
        for view in self.insight.looks.values():  # the neuron and attention views read the weights evaluated
            view.evaluated(msg.eval.step, msg.model)

    def on_train_finished(self, msg: TrainFinished) -> None:
        dev = msg.result.get("dev_loss")
        self.notify(f"training {'stopped' if msg.stopped else 'finished'} at step {msg.step:,}"
                    + (f", dev loss {dev:.4f}" if dev is not None else ""))

    def on_train_failed(self, msg: TrainFailed) -> None:
        self.notify(msg.message, severity="error")

    @jobs.while_running
    async def on_checkpoint_saved(self, msg: CheckpointSaved) -> None:
        self.checkpoints.saved(msg.path)
        if self.quit_after_save:
            await quitting.leave(self)

    @jobs.while_running
    async def on_checkpoint_loaded(self, msg: CheckpointLoaded) -> None:
        run = msg.run
        if self.train.busy:  # a room's last run, come in after s was pressed: the run being trained stays
            self.notify(f"{msg.path.name} was not loaded: a run is training.", severity="warning")
            return
        await self.setup.load_config(run.cfg)
        self.train.adopt(run, f"{msg.path.stem} (checkpoint)")
        self.action_show("train")
        self.notify(f"loaded {msg.path.name}: {run.cfg.model.model} on {run.cfg.data.dataset}, step {run.step:,}")

    @jobs.while_running
    def on_checkpoints_pane_load(self, msg: CheckpointsPane.Load) -> None:
        if self.train.busy:
            self.notify("stop training (x) before loading a checkpoint.", severity="warning")
            return
        self.checkpoints.load(msg.path)

    def on_memory_view_start(self, _msg) -> None:
        self.action_memory()

    def on_compare_view_start(self, _msg) -> None:
        self.action_lr_compare()

    def apply_preset(self, name: str) -> None:
        async def go():
            await self.setup.load_config(config_for(name))
            self.action_show("setup")
            self.notify(f"preset {name} in Setup; press s to train it.")
        self.call_later(go)

    # -- actions (keys, footer, help and palette come from tui.actions) -----------------------------
    def setup_or_complain(self) -> RunConfig | None:
        """The Setup's config, or None after saying what to fix there (and showing it)."""
        cfg, problem = self.setup.read()
        if cfg is None:
            self.notify(f"fix the setup first: {problem}", severity="error")
            self.action_show("setup")
        return cfg

    def action_start_pause(self) -> None:
        if self.train.state in ("running", "paused"):
            self.train.start_pause(self.setup.cfg)
            return
        cfg = self.setup_or_complain()
        if cfg is not None:
            self.action_show("train")
            self.train.start_pause(cfg)

    def action_new_run(self) -> None:
        if self.train.busy:
            self.notify("stop training (x) before starting a new run.", severity="warning")
            return
        cfg = self.setup_or_complain()
        if cfg is not None:
            self.train.new_run(cfg)

    def action_stop(self) -> None:
        """Stops training and the sweep; on the Insight pane (or when nothing else runs), the comparisons."""
        training = self.train.busy or self.sweep_pane.running
        if self.insight.comparing and (self.active_pane == "insight" or not training):
            self.insight.stop()
            return
        self.train.stop()
        self.sweep_pane.stop()

    def action_sweep(self) -> None:
        if self.sweep_pane.running:
            self.notify("a sweep is already running (x stops it).")
            return
        cfg = self.setup_or_complain()
        if cfg is None:
            return
        self.action_show("sweep")
        try:
            self.sweep_pane.start(cfg)
        except SeqlmError as err:
            self.sweep_pane.set_status(str(err))
            self.notify(str(err), severity="error")

    def action_use_lr(self) -> None:
        lr = self.sweep_pane.suggested
        if not lr:
            self.notify("no suggested learning rate yet: run the sweep first (w).")
            return
        self.setup.set_lr(lr)
        self.notify(f"learning rate {lr:.3g} set in Setup.")

    def action_memory(self) -> None:
        self.action_show("insight")
        try:
            self.insight.start_memory()
        except SeqlmError as err:
            self.insight.memory.set_status(str(err))
            self.notify(str(err), severity="error")

    def action_lr_compare(self) -> None:
        self.action_show("insight")
        self.insight.show_view("compare")
        cfg = self.setup_or_complain()
        if cfg is None:
            return
        try:
            self.insight.start_rates(cfg)
        except SeqlmError as err:
            self.insight.compare.set_status(str(err))
            self.notify(str(err), severity="error")

    def action_save(self) -> None:
        if self.train.run is None:
            self.notify("nothing to save yet.")
            return
        run = self.train.run
        folder = checkpoint.default_dir()

        def done(name: str | None) -> None:
            if name:
                try:
                    self.train.save(session.save_target(name, folder))
                except SeqlmError as err:
                    self.notify(str(err), severity="error")

        self.push_screen(SaveScreen(f"{run.name}-step{run.step}", str(folder)), done)

    def action_show(self, tab: str) -> None:
        tabs = self.query_one("#tabs", TabbedContent)
        tabs.active = tab
        # Now, not when the switch is announced: a key right behind this one (F3 then s, or F5 then a
        # prompt, pasted or sent together) is already in the queue, ahead of that announcement; it would
        # go to the text box of the pane left behind, or nowhere.
        focus.focus_pane(self, tabs.get_pane(tab))

    def action_insight_view(self, delta: int) -> None:
        self.insight.cycle(delta)

    def action_look(self, what: str, *args) -> None:
        """A key of the Insight view in sight (neurons, attention): the view knows what it does."""
        if self.check_action("look", (what,)):
            self.insight.looks[self.insight.view].key(what, *args)

    def action_log_y(self) -> None:
        self.train.toggle_log()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(actions.help_rows()))

    async def action_quit(self) -> None:
        await quitting.quit_or_ask(self)

    # -- bindings that depend on the pane and the state (the Footer shows only what works now) --------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return actions.available(self, action, parameters)

    @property
    def active_pane(self) -> str:
        try:
            return self.query_one("#tabs", TabbedContent).active
        except NoMatches:
            return ""

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Whether by key or by mouse: the focus follows the pane, the footer shows its keys. The news of a
        switch comes a turn of the queue late: a pane already left again (two pane keys in one burst) is
        not followed, or its focus would bring it back."""
        if event.tabbed_content.id == "tabs" and self.panes_in and event.pane.id == self.active_pane:
            focus.follow(self, event.pane)


def run_app(cfg: RunConfig | None = None, lesson: str | None = None) -> int:
    session.watch_parent()
    app = SeqlmApp(cfg, lesson=lesson)
    lifeline = Lifeline(app)
    lifeline.install()
    app.run()
    session.keep_last_run(app)
    return lifeline.finish(app.return_code)
