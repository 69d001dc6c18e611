"""What the lessons see of the app and do to it: the facts their checks read, gathered from the panes, and
the one-key setup of a step. The Learn pane owns one ``Guide``.

The facts are read from the panes' own state a few times a second (the Train pane's run, the Prompt pane's
exchanges, the sweep, the memory task's results, the Insight view shown); what only passes by as a message
(a training that ended, with its speed) the app hands on (tui/lesson_hooks.py). Each new record is numbered
in the order it was seen, so that a step's check can ask for what happened since the step began.
"""

from __future__ import annotations

import asyncio

from textual.css.query import NoMatches
from textual.widgets import Input

from seqlm_tui.core.lesson_facts import Exchange, Facts, Look, MemoryRow, Result, SweepResult, Training
from seqlm_tui.core.lessons import Step
from seqlm_tui.tui.jobs import is_running


class Guide:
    def __init__(self, app) -> None:
        self.app = app
        self.seq = 0
        self.trainings: list[Training] = []
        self.sweeps: list[SweepResult] = []
        self.memory: list[MemoryRow] = []
        self.results: list[Result] = []
        self._seen_memory: set[int] = set()
        self._seen_sweep: int | None = None
        self._exchanges: list[Exchange] = []
        self.looks: list[Look] = []

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    # -- what passes by as messages ------------------------------------------------------------------
    def training_ended(self, step: int, stopped: bool = False, result: dict | None = None,
                       error: str | None = None, diverged: bool = False) -> None:
        train = self.app.train
        run = train.run
        if run is None:
            return
        result = result or {}
        values = run.history.train.values
        self.trainings.append(Training(
            run.cfg.copy(), train.serial, run.step, run.metrics.get("first_loss"), values[-1] if values else None,
            run.metrics.get("train_loss"), run.metrics.get("dev_loss"), result.get("tokens_per_s"),
            result.get("elapsed_s"), stopped, diverged, error, self.next_seq()))
        del self.trainings[:-50]

    def add_result(self, name: str, serial: int, values: dict) -> None:
        self.results = [*self.results[-20:], Result(name, serial, values, self.next_seq())]

    # -- what is read from the panes ------------------------------------------------------------------
    def facts(self, since: int) -> Facts:
        app = self.app
        self.poll()
        insight = app.insight
        view, view_facts = "", {}
        if insight.is_mounted:
            try:
                view = insight.view
                widget = insight.query_one(f"#insight-{view}")
                reporter = next((c for c in widget.children if hasattr(c, "lesson_facts")), None)
                view_facts = dict(reporter.lesson_facts()) if reporter is not None else {}
            except NoMatches:
                pass
        return Facts(pane=app.active_pane, run=app.train.run, serial=app.train.serial, training=app.train.busy,
                     view=view, view_facts=view_facts, since=since, trainings=list(self.trainings),
                     exchanges=list(self._exchanges), sweeps=list(self.sweeps), memory=list(self.memory),
                     results=list(self.results), looks=list(self.looks))

    def poll(self) -> None:
        """Number what is new in the panes (the Learn pane also calls it just before a step begins, so that
        what happened before is not counted as the new step's)."""
        app = self.app
        exchanges = getattr(app.prompt, "exchanges", [])
        for e in exchanges:
            if not e.seq:
                e.seq = self.next_seq()
        self._exchanges = exchanges
        pane = app.sweep_pane
        if not pane.running and pane.lrs and id(pane.lrs) != self._seen_sweep and pane.swept is not None:
            self._seen_sweep = id(pane.lrs)
            self.sweeps = [*self.sweeps[-20:], SweepResult(pane.swept, pane.suggested, len(pane.lrs),
                                                           self.next_seq())]
        if app.insight.is_mounted:
            for r in app.insight.memory.results:
                if id(r) not in self._seen_memory:
                    self._seen_memory.add(id(r))
                    self.memory.append(MemoryRow(r.model, r.length, r.accuracy, self.next_seq()))
            del self.memory[:-100]
            for view in getattr(app.insight, "looks", {}).values():  # each change of the neuron/attention views
                for look in view.looked:
                    if not look.seq:
                        look.seq = self.next_seq()
                        self.looks.append(look)
            del self.looks[:-200]

    # -- the setup key --------------------------------------------------------------------------------
    async def set_up(self, step: Step, full: bool = False) -> str:
        """Do what the step's setup says; returns what was done, in words (or why nothing was)."""
        app = self.app
        cfg = step.config(full)
        extras = step.extras(full)
        done = []
        if cfg is not None:
            if app.train.busy:
                return "stop training (x) first: setting up replaces the current run."
            await app.setup.load_config(cfg)
            if extras.get("fresh", True):
                serial = app.train.serial
                app.train.new_run(cfg, note="")
                # Until it is in, so that the fresh model the step reports is on screen when it says so (an s
                # pressed meanwhile trains a fresh model as well: TrainPane.build_asked).
                for _ in range(1500):
                    if app.train.serial > serial or not is_running(app, "build"):
                        break
                    await asyncio.sleep(0.02)
            done.append(f"{cfg.model.model} on {cfg.data.dataset} in Setup"
                        + (", a fresh model in Train" if extras.get("fresh", True) else ""))
        for box, value in _fields(extras).items():
            try:
                app.query_one(box, Input).value = value
            except NoMatches:
                pass
        if "sweep" in extras:
            done.append("the sweep's rates and steps set")
        if "memory" in extras:
            done.append("the memory task's settings set")
        if "prompt" in extras:
            done.append("the prompt typed for you: Enter sends it")
        if "view" in extras:
            app.insight.show_view(extras["view"])
        app.action_show(extras.get("pane", step.pane))
        return "set up: " + "; ".join(done) if done else ""


def _fields(extras: dict) -> dict[str, str]:
    """Text boxes of other panes the setup fills in, by id."""
    out = {}
    for k, v in extras.get("sweep", {}).items():
        out[f"#sweep-{k.replace('_', '-')}"] = f"{v:g}" if isinstance(v, float) else str(v)
    for k, v in extras.get("memory", {}).items():
        out[f"#memory-{k}"] = ",".join(map(str, v)) if isinstance(v, list) else str(v)
    if "prompt" in extras:
        out["#prompt-input"] = extras["prompt"]
    return out
