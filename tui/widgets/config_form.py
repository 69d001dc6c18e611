"""A form derived from the config dataclasses' field metadata: no field is described twice."""

from __future__ import annotations

from dataclasses import fields

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Select, Switch

from seqlm_tui.core.config import SECTIONS, check_value, field_type, label, parse_value
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.tui.widgets.ordered import OrderedInput, OrderedSelect


def _onoff(v) -> str:
    return "on" if v else "off"


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


class FieldRow(Vertical):
    """One labelled control with its error line."""

    DEFAULT_CSS = ""

    def __init__(self, section: str, f, value, choices=None) -> None:
        super().__init__(classes="field-row")
        self.section, self.f, self.value, self.choices = section, f, value, choices
        self.own_error: str | None = None   # the value typed is not a valid value of this field
        self.rule_error: str | None = None  # it is, but it does not go with the other fields

    @property
    def key(self) -> str:
        return f"{self.section}.{self.f.name}"

    # The label shows the focus through a class on the row: Textual restyles a ``:focus-within`` rule
    # only on the focused widget's ancestors, never on its siblings, so a label styled that way stayed
    # plain (seen in tmux at 80x24: the label of the focused field had no reverse video).
    # Both ask where the focus is now: the blur of one part of the row (a Select opening its menu) may
    # arrive after the focus of another.
    def on_descendant_focus(self) -> None:
        self.set_class(self.has_focus_within, "-focused")

    def on_descendant_blur(self) -> None:
        self.set_class(self.has_focus_within, "-focused")

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-line"):
            yield Label(label(self.f), classes="field-label")
            kind = field_type(self.f)
            choices = self.choices or self.f.metadata.get("choices")
            wid = "f-" + self.key.replace(".", "-")
            if choices:
                yield OrderedSelect([(c, c) for c in choices], value=self.value, allow_blank=False, id=wid,
                             classes="field-control", compact=True)
            elif kind is bool:
                # The word says the state too: a Switch alone is a colour (NO_COLOR, monochrome terminals).
                with Horizontal(classes="field-control bool-control"):
                    yield Switch(value=bool(self.value), id=wid)
                    yield Label(_onoff(self.value), classes="bool-word")
            else:
                wide = " field-text" if kind is str else ""  # a file path wants room
                yield OrderedInput(_fmt(self.value), id=wid, classes="field-control" + wide, compact=True,
                                   tooltip=self.f.metadata.get("help"))
            yield Label(self.f.metadata.get("help", ""), classes="field-help", markup=False)
        yield Label("", classes="field-error", markup=False)

    @property
    def control(self) -> Input | Select | Switch:
        for kind in (Switch, Select, Input):
            found = self.query(kind)
            if found:
                return found.first()
        raise LookupError(self.key)

    def set_value(self, value) -> None:
        self.value = value
        control = self.control
        if isinstance(control, Input):
            control.value = _fmt(value)
        elif isinstance(control, Switch):
            control.value = bool(value)
            self.query_one(".bool-word", Label).update(_onoff(value))
        else:
            control.value = value
        self.show_error(None)

    @property
    def error(self) -> str | None:
        return self.own_error or self.rule_error

    def show_error(self, message: str | None) -> None:
        self.own_error = message
        self._paint()

    def show_rule(self, message: str | None) -> None:
        """A rule of ``core.rules`` that this field can fix (None: it holds)."""
        if message != self.rule_error:
            self.rule_error = message
            self._paint()

    def _paint(self) -> None:
        message = self.error
        err = self.query_one(".field-error", Label)
        err.update(message or "")
        err.display = bool(message)
        self.set_class(bool(message), "-invalid")

    def read(self) -> None:
        """Parse and check the control's content; keep the error if it is bad."""
        control = self.control
        raw = control.value
        if isinstance(control, Switch):
            self.query_one(".bool-word", Label).update(_onoff(raw))
        try:
            value = parse_value(self.f, raw) if isinstance(control, Input) else raw
            check_value(self.f, value)
        except SeqlmError as err:
            self.show_error(str(err))
            return
        self.value = value
        self.show_error(None)


class ConfigForm(Vertical):
    """Fields of one config section (optionally only some of them)."""

    class Edited(Message):
        def __init__(self, form: ConfigForm, row: FieldRow) -> None:
            super().__init__()
            self.form, self.row = form, row

    def __init__(self, section: str, values, only: tuple[str, ...] | None = None,
                 choices: dict | None = None, **kw) -> None:
        super().__init__(**kw)
        self.section, self.values, self.only, self.choices = section, values, only, choices or {}

    def compose(self) -> ComposeResult:
        for f in fields(SECTIONS[self.section]):
            if self.only is not None and f.name not in self.only:
                continue
            yield FieldRow(self.section, f, getattr(self.values, f.name), self.choices.get(f.name))

    def rows(self) -> list[FieldRow]:
        if not getattr(self, "_rows", None):
            self._rows = list(self.query(FieldRow))  # fixed once composed; queries are not free
        return self._rows

    def errors(self) -> list[str]:
        return [r.error for r in self.rows() if r.error]

    def collect(self) -> dict:
        return {r.f.name: r.value for r in self.rows()}

    def set_values(self, values) -> None:
        for r in self.rows():
            r.set_value(getattr(values, r.f.name))

    def _row_of(self, widget) -> FieldRow | None:
        for node in widget.ancestors_with_self:
            if isinstance(node, FieldRow):
                return node
        return None

    def _edited(self, widget) -> None:
        row = self._row_of(widget)
        if row is not None:
            row.read()
            self.post_message(self.Edited(self, row))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._edited(event.input)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._edited(event.select)

    def on_switch_changed(self, event: Switch.Changed) -> None:
        event.stop()
        self._edited(event.switch)
