"""Setup: dataset, model and hyperparameters, with per-field validation and a live summary.

The fields shown are the ones the chosen setup uses (``core.rules``, the same rules that make the command
line refuse a flag that would do nothing). The summary (dataset sizes, parameter count) is worked out by a
worker: loading a dataset may download it, and no file is read on the interface's thread.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.lazy import Lazy
from textual.message import Message
from textual.widgets import Label, Static

from seqlm_tui.core import datacache, datafiles
from seqlm_tui.core.config import ModelConfig, RunConfig, field_spec, label
from seqlm_tui.core.errors import FieldError, SeqlmError
from seqlm_tui.core.models import registry
from seqlm_tui.core.rules import check_fits, used, validate
from seqlm_tui.tui.jobs import ReportsJobs
from seqlm_tui.tui.messages import SummaryReady
from seqlm_tui.tui.widgets.config_form import ConfigForm, FieldRow

MODEL_NAMES = tuple(registry.MODELS)
SUMMARY_DELAY_S = 0.05


class SetupPane(ReportsJobs, VerticalScroll, can_focus=False):
    """The scroll area is no Tab stop of its own (an invisible one before the first field); the keys that
    scroll it (PageUp/PageDown, Home/End) reach it from any field, and the view follows the focus."""

    class Changed(Message):
        """The configuration in the form changed (valid or not)."""

    def __init__(self, cfg: RunConfig, **kw) -> None:
        super().__init__(**kw)
        self.cfg = cfg.copy()
        self.summary_text = ""
        self.problem: str | None = None
        self.summary_request = 0
        self.summary_timer = None
        self.rule: FieldError | None = None  # a rule of core.rules the form breaks, at the field that fixes it
        self.fit: tuple[RunConfig, FieldError] | None = None  # the same, for rules that need the data

    def compose(self) -> ComposeResult:
        yield Static("", id="setup-summary")
        yield Label("", id="setup-problem", markup=False)
        # The focused field's help in full (beside the field it is cut to the room left: 11 columns at 60x20).
        yield Static("", id="setup-help", markup=False)
        # The form (a hundred widgets) is mounted just after the first frame: the app opens on Train.
        yield Lazy(Vertical(
            Label("Data", classes="section-title"),
            ConfigForm("data", self.cfg.data, id="form-data"),
            Label("Model", classes="section-title"),
            ConfigForm("model", self.cfg.model, only=("model",), choices={"model": MODEL_NAMES},
                       id="form-model-name"),
            self._model_form(self.cfg),
            Label("Training", classes="section-title"),
            ConfigForm("train", self.cfg.train, id="form-train"),
            id="setup-form"))

    def _model_form(self, cfg: RunConfig) -> ConfigForm:
        spec = registry.get(cfg.model.model)
        return ConfigForm("model", cfg.model, only=spec.fields, id="form-model")

    def on_mount(self) -> None:
        self.query_one("#setup-problem", Label).display = False
        self.query_one("#setup-help", Static).display = False
        self._form_lock = asyncio.Lock()
        self._load_lock = asyncio.Lock()  # presets chosen in quick succession load one after the other
        self.summarise()

    async def _show_model_form(self, model: ModelConfig, force: bool = False) -> None:
        """Swap in the hyperparameter form of ``model`` (once: a preset load and the model Select's
        change event both ask for it, in either order)."""
        async with self._form_lock:
            found = self.query("#form-model")
            current = found.first(ConfigForm) if found else None  # None if a swap was cut short
            if current is not None and not force and current.values.model == model.model:
                return
            if current is not None:
                await current.remove()
            cfg = self.cfg.copy()
            cfg.model = model
            await self.query_one("#setup-form").mount(self._model_form(cfg), after=self.query_one("#form-model-name"))

    @property
    def ready(self) -> bool:
        """True once the lazily mounted form is in, every field's control included."""
        form = self._form()
        return form is not None and form.is_mounted

    def _form(self):
        # Direct children only: a query of the whole pane walks every Input's parts, and the form asks on
        # each of the thirty edits a preset makes (a tenth of the app's start-up).
        found = self.query_children("#setup-form")
        return found.first() if found else None

    def _forms(self) -> list[ConfigForm]:
        form = self._form()
        return list(form.query_children(ConfigForm)) if form is not None else []

    def _values(self) -> RunConfig | None:
        """The form's values as a config (each field's last valid value), valid as a whole or not."""
        forms = {f.id: f for f in self._forms()}
        if not {"form-data", "form-model-name", "form-model", "form-train"} <= forms.keys():
            return None  # the model form is being swapped; the swap syncs again
        name = forms["form-model-name"].collect()["model"]
        return RunConfig(replace(self.cfg.data, **forms["form-data"].collect()),
                         replace(registry.defaults_for(name), **forms["form-model"].collect()),
                         replace(self.cfg.train, **forms["form-train"].collect()))

    def _sync_visibility(self) -> None:
        """Show only the fields the values chosen use; a hidden field keeps its last valid value and does
        not block the start."""
        if not self.ready:
            return
        cfg = self._values()
        if cfg is None:
            return
        for form in self._forms():
            for row in form.rows():
                row.display = row.f.name == "model" or used(cfg, row.key)

    async def on_config_form_edited(self, event: ConfigForm.Edited) -> None:
        if event.form.id == "form-model-name" and event.row.f.name == "model" and not event.row.error:
            found = self.query("#form-model")
            old = found.first(ConfigForm) if found else None
            new = registry.defaults_for(event.row.value)
            await self._show_model_form(new)
            if old is not None and old.values.model != new.model:
                self._say_reset(old.collect(), new)
        self._sync_visibility()
        self.check_rules()
        self.post_message(self.Changed())
        self.summarise()

    def _say_reset(self, before: dict, new: ModelConfig) -> None:
        """Another model brings its own defaults: say which of the values the user saw change."""
        spec = registry.get(new.model)
        changed = [f"{label(field_spec('model', k))} {getattr(new, k)} (was {v})" for k, v in before.items()
                   if k in spec.fields and getattr(new, k) != v]
        if changed:
            self.app.notify(f"{spec.title} takes its own defaults: {', '.join(changed)}.")

    def on_descendant_focus(self, event) -> None:
        row = next((w for w in event.widget.ancestors_with_self if isinstance(w, FieldRow)), None)
        help_line = self.query_one("#setup-help", Static)
        if row is not None:
            help_line.update(Text.assemble((label(row.f), "bold"), ": " + row.f.metadata.get("help", "")))
            help_line.display = True  # from the first field focused on; no empty line before
            # The line can grow (one line to three): the field stays in view above it.
            self.call_after_refresh(self.scroll_to_widget, event.widget, animate=False)

    # -- the rules between fields, at the field that can fix them ----------------------------------------
    def check_rules(self) -> None:
        """The rules of ``core.rules`` (the command line's own), checked as the user types."""
        cfg = self._values() if self.ready else None
        if cfg is None:
            return
        try:
            validate(cfg)
            self.rule = None
        except FieldError as err:
            self.rule = err
        except SeqlmError:
            self.rule = None  # a problem of no one field: the line at the top says it
        self._paint_rules(cfg)

    def _paint_rules(self, cfg: RunConfig | None = None) -> None:
        cfg = cfg or self._values()
        fit = self.fit[1] if self.fit is not None and self.fit[0] == cfg else None
        for form in self._forms():
            for row in form.rows():
                said = [str(e) for e in (self.rule, fit) if e is not None and e.key == row.key]
                row.show_rule(said[0] if said else None)

    # -- reading and writing the whole form ------------------------------------------------------
    def field_errors(self) -> list[str]:
        return [r.error for form in self._forms() for r in form.rows() if r.error and r.display]

    def read(self) -> tuple[RunConfig | None, str | None]:
        """(config, None) when everything is valid, else (None, the first problem)."""
        if not self.ready:
            return self.cfg.copy(), None  # the form is not mounted yet: it shows exactly this config
        errors = self.field_errors()
        if errors:
            return None, errors[0]
        cfg = self._values()
        if cfg is None:
            return None, "the model's fields are being shown; try again."
        try:
            validate(cfg)
        except SeqlmError as err:
            return None, str(err)
        if self.fit is not None and self.fit[0] == cfg:
            return None, str(self.fit[1])
        return cfg, None

    async def load_config(self, cfg: RunConfig) -> None:
        """Show ``cfg`` in the form (after loading a checkpoint, or a preset)."""
        async with self._load_lock:
            self.cfg = cfg.copy()
            if not self.ready:
                await self.wait_ready()
            self.query_one("#form-data", ConfigForm).set_values(cfg.data)
            await self._show_model_form(cfg.model, force=True)
            self.query_one("#form-model-name", ConfigForm).set_values(cfg.model)
            self.query_one("#form-train", ConfigForm).set_values(cfg.train)
            self._sync_visibility()
            self.check_rules()
            self.post_message(self.Changed())
            self.summarise()

    async def wait_ready(self) -> None:
        for _ in range(1000):  # at most 10 s (a busy machine); callers then meet the form as it is
            if self.ready:
                return
            await asyncio.sleep(0.01)

    def set_lr(self, lr: float) -> None:
        for row in self.query_one("#form-train", ConfigForm).rows():
            if row.f.name == "lr":
                row.set_value(float(f"{lr:.3g}"))
        self.check_rules()
        self.post_message(self.Changed())
        self.summarise()

    # -- the summary -------------------------------------------------------------------------------
    def summarise(self) -> None:
        """Ask for the summary of the form as it stands; a burst of edits (a preset fills thirty fields)
        makes one request, a moment later."""
        if self.summary_timer is None:
            self.summary_timer = self.set_timer(SUMMARY_DELAY_S, self._summarise_now)

    def _summarise_now(self) -> None:
        self.summary_timer = None
        cfg, problem = self.read()
        if cfg is None:
            self.show_summary("", problem)
            return
        if cfg.data.dataset in ("names", "timemachine") and not datafiles.is_available(cfg.data.dataset):
            self.show_summary(f"downloading {cfg.data.dataset} (first use)...")
        elif datacache.CACHE.peek(cfg.data) is None:
            self.show_summary(f"loading {cfg.data.dataset}...")
        self.summary_request += 1
        self.summary_worker(cfg, self.summary_request)

    @work(thread=True, exclusive=True, group="summary", exit_on_error=False)
    def summary_worker(self, cfg: RunConfig, request: int) -> None:
        try:
            ds = datacache.load(cfg.data)
        except SeqlmError as err:
            self.post_message(SummaryReady(request, f"{cfg.data.dataset}: could not be loaded", str(err)))
            return
        spec = registry.get(cfg.model.model)
        try:
            check_fits(cfg, ds)
        except FieldError as err:
            self.post_message(SummaryReady(request, ds.summary(), fit=(cfg, err)))
            return
        try:
            params = spec.count_params(cfg.model, len(ds.vocab), ds.pad)
        except SeqlmError as err:
            self.post_message(SummaryReady(request, ds.summary(), str(err)))
            return
        big = params > registry.MAX_PARAMS
        self.post_message(SummaryReady(request, f"{ds.summary()}\n{spec.title}: {params:,} parameters",
                                       f"that is over the limit of {registry.MAX_PARAMS:,} parameters; make it "
                                       "smaller." if big else None))

    def on_summary_ready(self, msg: SummaryReady) -> None:
        msg.stop()
        if msg.request == self.summary_request:
            self.fit = msg.fit
            self._paint_rules()
            self.show_summary(msg.text, msg.problem or (str(msg.fit[1]) if msg.fit else None))

    def show_summary(self, text: str, problem: str | None = None) -> None:
        """The summary, and the problem on the line above the form unless a field shows it (the top of a
        long form is out of view while its lower fields are edited)."""
        self.summary_text, self.problem = text, problem
        self.query_one("#setup-summary", Static).update(Text(text))
        at_field = problem is not None and any(
            r.display and r.error == problem for form in self._forms() for r in form.rows())
        p = self.query_one("#setup-problem", Label)
        p.update(problem or "")
        p.display = bool(problem) and not at_field
