"""The guided lessons: read from their data files (lessons/*.toml, installed as ``seqlm_tui.lessons``), checked
as they are read, and the learner's progress, kept per user in the platform's state folder.

A lesson is a list of steps. A step has a one-line goal, what to do and where (the pane), a check (a name in
core/lesson_checks.py and its arguments), a setup that one key applies (a preset and settings, a prompt to
put in the Prompt pane, the sweep's or the memory task's settings), the command line that does the same,
a short why with the reference numbers, a hint, and the way back when something goes wrong. The file format
is described in lessons/README.md.

``SEQLM_LESSONS_QUICK=1`` is for the test that walks every lesson: each step's ``quick`` table replaces parts
of its setup (a few training steps) and of its check's arguments (bounds such short runs reach).
"""

from __future__ import annotations

import inspect
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from seqlm_tui.core import cmdline, presets, savetemp
from seqlm_tui.core.config import RunConfig
from seqlm_tui.core.equivalence import EXPERIMENTS
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.lesson_checks import CHECKS
from seqlm_tui.core.rules import validate

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PANES = ("setup", "train", "sweep", "prompt", "checkpoints", "insight", "learn")
SETUP_KEYS = {"preset", "data", "model", "train", "fresh", "prompt", "view", "sweep", "memory", "pane"}
STEP_KEYS = {"goal", "pane", "do", "check", "args", "setup", "full", "quick", "command", "experiment", "why",
             "hint", "back"}


def quick() -> bool:
    return os.environ.get("SEQLM_LESSONS_QUICK", "") not in ("", "0")


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@dataclass
class Step:
    goal: str
    pane: str
    do: str
    check: str
    args: dict = field(default_factory=dict)
    setup: dict = field(default_factory=dict)
    full: dict = field(default_factory=dict)     # the original's length, where the setup is a short version
    quick: dict = field(default_factory=dict)    # test-only: {"setup": {...}, "args": {...}}
    command: str = ""
    experiment: str = ""
    why: str = ""
    hint: str = ""
    back: str = ""

    def _setup(self, full: bool = False, short: bool | None = None) -> dict:
        s = self.setup
        if full and self.full:
            s = _merge(s, {k: v for k, v in self.full.items() if k != "note"})
        if (quick() if short is None else short) and not full:
            s = _merge(s, self.quick.get("setup", {}))
        return s

    @property
    def has_config(self) -> bool:
        return bool({"preset", "data", "model", "train"} & self.setup.keys())

    def config(self, full: bool = False, short: bool | None = None) -> RunConfig | None:
        """The run this step sets up (None if it sets up no run)."""
        if not self.has_config:
            return None
        s = self._setup(full, short)
        model = s.get("model", {}).get("model")
        cfg = presets.config_for(s.get("preset"), model)
        return validate(presets.apply(cfg, {k: s[k] for k in ("data", "model", "train") if k in s}))

    def extras(self, full: bool = False) -> dict:
        """What the setup key does besides the run: prompt, view, sweep, memory, pane, fresh."""
        s = self._setup(full)
        return {k: s[k] for k in ("prompt", "view", "sweep", "memory", "pane", "fresh") if k in s}

    def check_args(self) -> dict:
        return _merge(self.args, self.quick.get("args", {})) if quick() else dict(self.args)

    def command_line(self, full: bool = False) -> str:
        if self.command.startswith("seqlm-tui"):
            return self.command
        cfg = self.config(full, short=False)
        if cfg is None:
            return ""
        word, _, extra = (self.command or "train").partition(" ")  # "train --save counting.pt"
        if word == "sweep":
            extra = " ".join([*(f"--{k.replace('_', '-')} {v:g}" for k, v in self.setup.get("sweep", {}).items()),
                              extra]).strip()
        return cmdline.command_line(cfg, word, self.setup.get("preset"), extra.strip())


@dataclass
class Lesson:
    id: str
    number: int
    title: str
    about: str
    summary: str
    steps: list[Step]

    @property
    def name(self) -> str:
        return f"{self.number} {self.title}"


def _step(where: str, d: dict) -> Step:
    unknown = set(d) - STEP_KEYS
    if unknown:
        raise SeqlmError(f"{where}: unknown key {sorted(unknown)[0]!r}.")
    for key in ("goal", "pane", "do", "check"):
        if not isinstance(d.get(key), str) or not d[key].strip():
            raise SeqlmError(f"{where} has no {key}.")
    step = Step(**{k: (v.strip() if isinstance(v, str) else v) for k, v in d.items()})
    if step.pane not in PANES:
        raise SeqlmError(f"{where}: pane {step.pane!r} is not one of {', '.join(PANES)}.")
    if set(step.setup) - SETUP_KEYS:
        raise SeqlmError(f"{where}: unknown setup key {sorted(set(step.setup) - SETUP_KEYS)[0]!r}.")
    fn = CHECKS.get(step.check)
    if fn is None:
        raise SeqlmError(f"{where}: unknown check {step.check!r}; the checks are {', '.join(sorted(CHECKS))}.")
    if step.experiment and step.experiment not in EXPERIMENTS:
        raise SeqlmError(f"{where}: unknown experiment {step.experiment!r}.")
    for args in (step.args, _merge(step.args, step.quick.get("args", {}))):
        try:
            inspect.signature(fn).bind(None, **args)
        except TypeError as err:
            raise SeqlmError(f"{where}: the arguments of check {step.check} do not fit it ({err}).") from None
    for full in (False, True):
        for short in (False, True):
            try:
                step.config(full, short)
            except SeqlmError as err:  # an unknown preset or a bad value
                raise SeqlmError(f"{where}: {err}") from None
    return step


def parse(text: str, name: str) -> Lesson:
    """A lesson from the text of its file ``name`` (``NN-id.toml``); SeqlmError with one sentence if wrong."""
    stem = name.removesuffix(".toml")
    number, _, ident = stem.partition("-")
    if not number.isdigit() or not ident:
        raise SeqlmError(f"lesson file {name}: its name must be NN-name.toml.")
    try:
        d = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SeqlmError(f"lesson file {name} is not valid TOML ({err}).") from None
    steps = d.get("step")
    if not isinstance(d.get("title"), str) or not isinstance(steps, list) or not steps:
        raise SeqlmError(f"lesson file {name} needs a title and at least one [[step]].")
    return Lesson(ident, int(number), d["title"], d.get("about", "").strip(), d.get("summary", "").strip(),
                  [_step(f"lesson {name}, step {i + 1}", s) for i, s in enumerate(steps)])


def load_all() -> list[Lesson]:
    """Every lesson shipped with the package, in order of their numbers."""
    folder = resources.files("seqlm_tui.lessons")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)
    return [parse(f.read_text(encoding="utf-8"), f.name) for f in files]


def find(lessons: list[Lesson], which: str) -> Lesson:
    """A lesson by number or name; one sentence listing them if there is none such."""
    for lesson in lessons:
        if which.strip().lower() in (str(lesson.number), lesson.id, f"{lesson.number:02d}-{lesson.id}"):
            return lesson
    names = ", ".join(f"{x.number} ({x.id})" for x in lessons)
    raise SeqlmError(f"there is no lesson {which!r}; the lessons are {names}.")


# -- progress ----------------------------------------------------------------------------------------
def state_file() -> Path:
    from platformdirs import user_state_path

    return user_state_path("seqlm-tui") / "lessons.json"


@dataclass
class Progress:
    """Where the learner stands: the lesson open, the step of each lesson, the steps passed."""
    current: str | None = None
    at: dict[str, int] = field(default_factory=dict)
    passed: dict[str, list[int]] = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def load(cls, path: Path | None = None) -> Progress:
        """The saved progress; a missing or unreadable file is a fresh start (it is only a bookmark)."""
        path = path or state_file()
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            at = {str(k): int(v) for k, v in d.get("at", {}).items()}
            passed = {str(k): sorted({int(i) for i in v}) for k, v in d.get("passed", {}).items()}
            current = d.get("current")
            return cls(str(current) if current is not None else None, at, passed, path)
        except (OSError, ValueError, TypeError, AttributeError):
            return cls(path=path)

    def save(self) -> None:
        """Atomically (a temp file renamed into place); a folder that cannot be written is a SeqlmError."""
        path = self.path or state_file()
        data = json.dumps({"current": self.current, "at": self.at, "passed": self.passed}, indent=1)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = savetemp.create(path)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(data)
            os.replace(tmp, path)
        except OSError as err:
            raise SeqlmError(f"the lesson progress could not be saved in {path.parent} ({err.strerror}).") from None

    def step_of(self, lesson: Lesson) -> int:
        return min(max(self.at.get(lesson.id, 0), 0), len(lesson.steps) - 1)

    def passed_in(self, lesson: Lesson) -> set[int]:
        return {i for i in self.passed.get(lesson.id, []) if 0 <= i < len(lesson.steps)}

    def mark(self, lesson: Lesson, step: int) -> None:
        self.passed[lesson.id] = sorted(self.passed_in(lesson) | {step})

    def done(self, lesson: Lesson) -> bool:
        return len(self.passed_in(lesson)) == len(lesson.steps)
