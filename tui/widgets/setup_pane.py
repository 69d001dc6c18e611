"""Setup: dataset, model and hyperparameters, with per-field validation and a live summary."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.lazy import Lazy
from textual.message import Message
from textual.widgets import Label, Static

from core.config import ModelConfig, RunConfig
from core.errors import SeqlmError
from core.models import registry
from core.rules import validate
from tui.widgets.config_form import ConfigForm

MODEL_NAMES = tuple(registry.MODELS)


def _stream(v: dict) -> bool:
    d = v["data"]
    return d.get("dataset") == "timemachine" or (d.get("dataset") == "file" and d.get("mode") == "stream")


# When a field matters (the others always do); keyed "section.field", given the form's current values.
RELEVANT = {
    "data.file": lambda v: v["data"].get("dataset") == "file",
    "data.mode": lambda v: v["data"].get("dataset") == "file",
    "data.memory_length": lambda v: v["data"].get("dataset") == "memory",
    "data.num_steps": _stream,
    "data.partition": _stream,
    "model.emb": lambda v: not v["model"].get("one_hot", False),
    "train.momentum": lambda v: v["train"].get("optimizer") == "momentum",
    "train.decay_at": lambda v: v["train"].get("schedule") == "step",
    "train.warmup": lambda v: v["train"].get("schedule") == "cosine",
}


class SetupPane(VerticalScroll):
    class Changed(Message):
        """The configuration in the form changed (valid or not)."""

    def __init__(self, cfg: RunConfig, **kw) -> None:
        super().__init__(**kw)
        self.cfg = cfg.copy()

    def compose(self) -> ComposeResult:
        yield Static("", id="setup-summary")
        yield Label("", id="setup-problem", markup=False)
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
        self._form_lock = asyncio.Lock()
        self._load_lock = asyncio.Lock()  # presets chosen in quick succession load one after the other

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
        """True once the lazily mounted form is in, every field's control included: a widget counts as
        mounted only after its children are (its Form rows are in the DOM before their controls are)."""
        found = self.query("#setup-form")
        return bool(found) and found.first().is_mounted

    def _sync_visibility(self) -> None:
        """Show only the fields that matter for the values chosen (RELEVANT); a hidden field keeps its
        last valid value and does not block the start."""
        if not self.ready:
            return
        forms = {f.id: f for f in self.query(ConfigForm)}
        if not {"form-data", "form-model", "form-train"} <= forms.keys():
            return  # the model form is being swapped; the swap syncs again
        values = {"data": forms["form-data"].collect(), "train": forms["form-train"].collect(),
                  "model": forms["form-model"].collect()}
        for form in forms.values():
            for row in form.rows():
                rule = RELEVANT.get(row.key)
                row.display = rule is None or rule(values)

    async def on_config_form_edited(self, event: ConfigForm.Edited) -> None:
        if event.form.id == "form-model-name" and event.row.f.name == "model" and not event.row.error:
            await self._show_model_form(registry.defaults_for(event.row.value))
        self._sync_visibility()
        self.post_message(self.Changed())

    # -- reading and writing the whole form ------------------------------------------------------
    def field_errors(self) -> list[str]:
        return [r.error for form in self.query(ConfigForm) for r in form.rows() if r.error and r.display]

    def read(self) -> tuple[RunConfig | None, str | None]:
        """(config, None) when everything is valid, else (None, the first problem)."""
        if not self.ready:
            return self.cfg.copy(), None  # the form is not mounted yet: it shows exactly this config
        errors = self.field_errors()
        if errors:
            return None, errors[0]
        data = self.query_one("#form-data", ConfigForm).collect()
        name = self.query_one("#form-model-name", ConfigForm).collect()["model"]
        model = self.query_one("#form-model", ConfigForm).collect()
        train = self.query_one("#form-train", ConfigForm).collect()
        cfg = RunConfig(replace(self.cfg.data, **data), replace(registry.defaults_for(name), **model),
                        replace(self.cfg.train, **train))
        try:
            validate(cfg)
        except SeqlmError as err:
            return None, str(err)
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
            self.post_message(self.Changed())

    async def wait_ready(self) -> None:
        for _ in range(1000):  # at most 10 s (a busy machine); callers then meet the form as it is
            if self.ready:
                return
            await asyncio.sleep(0.01)

    def set_lr(self, lr: float) -> None:
        for row in self.query_one("#form-train", ConfigForm).rows():
            if row.f.name == "lr":
                row.set_value(float(f"{lr:.3g}"))
        self.post_message(self.Changed())

    def show_summary(self, text: str, problem: str | None = None) -> None:
        self.query_one("#setup-summary", Static).update(Text(text) if isinstance(text, str) else text)
        p = self.query_one("#setup-problem", Label)
        p.update(problem or "")
        p.display = bool(problem)
