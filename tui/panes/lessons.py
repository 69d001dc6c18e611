"""Learn: the guided lessons. A list of the lessons and where the learner stands; a lesson's steps, each with
its goal, what to do and where, its check (live), the command line that does the same, then why, a hint on
request and the way back. The strip (tui/widgets/lesson_strip.py) keeps the goal and the check in view in
the other panes. The lessons are data (lessons/*.toml, read by core/lessons.py); the checks are core's
(core/lesson_checks.py); this pane renders them, runs the checks on the app's state and keeps the progress.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import ContentSwitcher, Input, OptionList, Static
from textual.widgets.option_list import Option

from seqlm_tui.core.equivalence import EXPERIMENTS
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.lesson_checks import CHECKS, Verdict
from seqlm_tui.core.lessons import Lesson, Progress, Step, load_all
from seqlm_tui.tui.jobs import ReportsJobs
from seqlm_tui.tui.lesson_guide import Guide
from seqlm_tui.tui.widgets.lesson_strip import LessonStrip

CHECK_EVERY_S = 0.3
INTRO = ("Lessons: the classic material, done in this app. Enter opens one (your place is kept); in a "
         "lesson, Escape comes back here.")
PANE_KEYS = {"setup": "F2", "train": "F3", "sweep": "F4", "prompt": "F5", "checkpoints": "F6", "insight": "F7",
             "learn": "F8"}


class LessonsPane(ReportsJobs, Vertical):
    DEFAULT_CSS = """
    LessonsPane #lesson-switch, LessonsPane #lesson-list-box { height: 1fr; }
    LessonsPane #lesson-intro { height: auto; margin-bottom: 1; color: $text-muted; }
    LessonsPane #lesson-list { height: 1fr; }
    LessonsPane #lesson-body { height: 1fr; }
    """
    BINDINGS = [Binding("escape", "show_list", "Lessons", show=False)]

    @dataclass
    class Loaded(Message):
        lessons: list
        progress: Progress
        problem: str = ""

    @dataclass
    class Measured(Message):
        name: str
        serial: int
        values: dict

    def __init__(self, start: str | None = None, **kw) -> None:
        """``start``: the lesson to open once they are read ("" for where the learner stands)."""
        super().__init__(**kw)
        self.start = start
        self.lessons: list[Lesson] = []
        self.progress = Progress()
        self.lesson: Lesson | None = None
        self.index = 0                     # the step shown; len(steps) once the lesson is done
        self.since = 0
        self.verdict: Verdict | None = None
        self.hint_shown = False
        self.guide: Guide | None = None
        self.problem = ""

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="lesson-list-box", id="lesson-switch"):
            with Vertical(id="lesson-list-box"):
                yield Static(Text(INTRO), id="lesson-intro")
                yield OptionList(id="lesson-list")
            with VerticalScroll(id="lesson-body"):
                yield Static("", id="lesson-text")

    def on_mount(self) -> None:
        self.guide = Guide(self.app)
        self.load_worker()
        self.set_interval(CHECK_EVERY_S, self.tick)

    def focus_target(self):
        """Where the keys go when the pane is shown (tui/focus.py)."""
        return self.query_one("#lesson-body" if self.lesson is not None and self.showing_lesson else "#lesson-list")

    @property
    def showing_lesson(self) -> bool:
        return self.query_one(ContentSwitcher).current == "lesson-body"

    @property
    def step(self) -> Step | None:
        if self.lesson is None or self.index >= len(self.lesson.steps):
            return None
        return self.lesson.steps[self.index]

    # -- reading the lessons and the progress ------------------------------------------------------
    @work(thread=True, group="lessons", exit_on_error=False)
    def load_worker(self) -> None:
        progress = Progress.load()
        try:
            self.post_message(self.Loaded(load_all(), progress))
        except SeqlmError as err:
            self.post_message(self.Loaded([], progress, str(err)))

    def on_lessons_pane_loaded(self, msg: Loaded) -> None:
        msg.stop()
        self.lessons, self.progress, self.problem = msg.lessons, msg.progress, msg.problem
        if msg.problem:
            self.query_one("#lesson-intro", Static).update(Text(f"The lessons could not be read: {msg.problem}"))
        self.fill_list()
        if self.start is not None and self.lessons:
            self.open_lesson(self.start)
            self.app.action_show("learn")

    def fill_list(self) -> None:
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        for lesson in self.lessons:
            passed, n = len(self.progress.passed_in(lesson)), len(lesson.steps)
            mark = "✓" if passed == n else "▶" if lesson.id == self.progress.current else " "
            options.add_option(Option(Text(f"{mark} {lesson.number} {lesson.title}  ({passed}/{n} steps)"),
                                      id=lesson.id))
        if self.lessons:
            options.highlighted = highlighted if highlighted is not None else 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.open_lesson(event.option.id or "")

    def save_progress(self) -> None:
        self.save_worker(Progress(self.progress.current, dict(self.progress.at),
                                  {k: list(v) for k, v in self.progress.passed.items()}, self.progress.path))

    @work(thread=True, group="lesson-save", exit_on_error=False)
    def save_worker(self, progress: Progress) -> None:
        progress.save()

    # -- moving through a lesson ---------------------------------------------------------------------
    def open_lesson(self, which: str) -> None:
        """Open a lesson by number or name ("" for the current one, else the first not finished)."""
        from seqlm_tui.core.lessons import find

        try:
            if which:
                lesson = find(self.lessons, which)
            else:
                current = [x for x in self.lessons if x.id == self.progress.current]
                lesson = (current or [x for x in self.lessons if not self.progress.done(x)] or self.lessons)[0]
        except SeqlmError as err:
            self.app.notify(str(err), severity="error")
            return
        self.lesson = lesson
        self.progress.current = lesson.id
        self.go_to(self.progress.step_of(lesson))
        self.query_one(ContentSwitcher).current = "lesson-body"
        if self.app.active_pane == "learn":
            self.app.set_focus(self.query_one("#lesson-body"))

    def next_lesson(self) -> Lesson | None:
        later = [x for x in self.lessons if self.lesson and x.number > self.lesson.number]
        return later[0] if later else None

    def go_to(self, index: int) -> None:
        self.index = index
        if self.guide is not None and self.app.panes_in:
            self.guide.poll()
        self.since = self.guide.seq + 1 if self.guide else 0
        self.verdict, self.hint_shown = None, False
        if self.lesson is not None:
            self.progress.at[self.lesson.id] = min(index, len(self.lesson.steps) - 1)
            self.save_progress()
        self.fill_list()
        self.render_lesson()
        self.tick()

    def action_show_list(self) -> None:
        self.query_one(ContentSwitcher).current = "lesson-list-box"
        options = self.query_one(OptionList)
        if self.lesson is not None:  # Enter goes back into the lesson left
            options.highlighted = self.lessons.index(self.lesson)
        self.app.set_focus(options)

    def next_step(self) -> None:
        lesson = self.lesson
        if lesson is None:
            self.open_lesson("")
            return
        if self.index >= len(lesson.steps):  # the summary: on to the next lesson
            later = self.next_lesson()
            if later:
                self.open_lesson(later.id)
            else:
                self.app.notify("that was the last lesson.")
            return
        if (self.verdict is None or not self.verdict.passed) and self.index not in self.progress.passed_in(lesson):
            said = self.verdict.said if self.verdict else "the check has not run yet"
            self.app.notify(f"not yet: {said.removeprefix('not yet: ')}")
            return
        self.progress.mark(lesson, self.index)
        self.go_to(self.index + 1)

    def prev_step(self) -> None:
        if self.lesson is not None and self.index > 0:
            self.go_to(self.index - 1)

    def show_hint(self) -> None:
        step = self.step
        if step is None:
            return
        self.hint_shown = True
        self.app.notify(step.hint or "no hint for this step: read the Learn pane (F8).")
        self.render_lesson()

    async def set_up(self, full: bool = False) -> None:
        step = self.step
        if step is None:
            self.app.notify("open a lesson first (F8, then Enter).")
            return
        if full and not step.full:
            self.app.notify("this step has no longer, original version.")
            return
        said = await self.guide.set_up(step, full)
        self.app.notify(said or f"nothing to set up here: {step.do}")

    def try_it(self) -> None:
        step, run = self.step, self.app.train.run
        if step is None or not step.experiment:
            self.app.notify("this step has nothing to run with t.")
            return
        if run is None or self.app.train.busy:
            self.app.notify("let training end (or stop it, x) first: the comparison needs weights that stand still.")
            return
        self.experiment_worker(step.experiment, run, self.app.train.serial)

    @work(thread=True, group="lesson", exit_on_error=False)
    def experiment_worker(self, name: str, run, serial: int) -> None:
        self.post_message(self.Measured(name, serial, EXPERIMENTS[name](run)))

    def on_lessons_pane_measured(self, msg: Measured) -> None:
        msg.stop()
        self.guide.add_result(msg.name, msg.serial, msg.values)
        self.app.notify(msg.values.get("said", msg.name))
        self.tick()

    def training_ended(self, **kw) -> None:
        if self.guide is not None:
            self.guide.training_ended(**kw)
            self.tick()

    # -- the check and what shows it --------------------------------------------------------------------
    def tick(self) -> None:
        step = self.step
        if step is not None and self.guide is not None and self.app.panes_in:
            verdict = CHECKS[step.check](self.guide.facts(self.since), **step.check_args())
            if verdict != self.verdict:
                self.verdict = verdict
                self.render_lesson()
        self.show_strip()

    def keys_now(self, pane: str = "") -> str:
        """What to press now, said in the strip (``pane``: the pane in view) or in the Learn pane."""
        step = self.step
        if step is None:
            return ". next lesson · F8 summary" if self.next_lesson() else "the last lesson · F8 summary"
        if self.verdict is not None and self.verdict.passed:
            return ". next step · F8 why" if self.reaches(pane, "full_stop") else "F8, then . for the next step"
        keys = [("g set up" if self.reaches(pane, "g") else "F8, then g: set up")] if step.setup else []
        if step.experiment:
            keys.append("t run it" if self.reaches(pane, "t") else "F8, then t: run it")
        return " · ".join([*keys, "h hint", "F8 more"])

    def reaches(self, pane: str, key: str) -> bool:
        """Whether ``key`` pressed now in ``pane`` does the lesson's action: a text box has it in the Prompt
        pane, a view's own key in the Insight pane (. is the next unit or head there, g the guesses)."""
        if not pane:
            return True
        if isinstance(self.app.focused, Input):
            return False
        bound = self.app.screen.active_bindings.get(key)
        return bound is None or bound.binding.action.startswith("lesson_")

    def show_strip(self) -> None:
        try:
            strip = self.app.query_one(LessonStrip)
        except Exception:
            return
        lesson = self.lesson
        strip.display = lesson is not None and self.app.active_pane != "learn"
        if lesson is None or not strip.display:
            return
        step = self.step
        where = f"Lesson {lesson.number} {min(self.index + 1, len(lesson.steps))}/{len(lesson.steps)}"
        keys = self.keys_now(self.app.active_pane)
        if step is None:
            strip.show_step(where, f"done: {lesson.title}", True, "every step passed", keys)
            return
        v = self.verdict or Verdict(False, "checking...")
        strip.show_step(where, step.goal, v.passed, v.said, keys)

    def render_lesson(self) -> None:
        lesson = self.lesson
        if lesson is None:
            return
        passed = self.progress.passed_in(lesson)
        n = len(lesson.steps)
        t = Text()
        t.append(f"Lesson {lesson.number}: {lesson.title}", style="bold")
        t.append(f"   step {min(self.index + 1, n)} of {n}\n" if self.index < n else "   done\n")
        if lesson.about and self.index == 0:
            t.append(lesson.about + "\n")
        steps = Text("\n")
        for i, s in enumerate(lesson.steps):
            mark = "▶" if i == self.index else "✓" if i in passed else "·"
            steps.append(f"{mark} {i + 1} {s.goal}\n", style="bold" if i == self.index else "")
        step = self.step
        if step is None:
            t.append("Done. ", style="bold")
            on = ". opens the next lesson" if self.next_lesson() else "That was the last lesson"
            t.append(f"{lesson.summary}\n{on}; Escape lists them all.\n")
            self.query_one("#lesson-text", Static).update(t + steps)
            return
        v = self.verdict or Verdict(False, "checking...")
        rows = Table.grid(padding=(0, 1))
        rows.add_column(style="bold", no_wrap=True)
        rows.add_column()

        def row(label: str, text: str, style: str = "") -> None:
            rows.add_row(label, Text(text, style=style))

        row("Goal", step.goal)
        row("Do", f"{step.do} ({step.pane.capitalize()} pane, {PANE_KEYS[step.pane]})")
        row("Check", ("✓ passed: " if v.passed else "✗ ") + v.said, "bold" if v.passed else "")
        shell = step.command_line()
        if shell:
            row("Shell", shell, "italic")
        if step.full:
            row("Long", f"{step.full.get('note', 'the original length')}; G sets that up instead of g.")
        row("Keys", self.keys_now().replace(" · F8 more", "").replace(" · F8 why", "")
            + (" · , back" if self.index else "") + " · c copies the command · Escape: all lessons")
        if v.passed and step.why:
            row("Why", step.why)
        if self.hint_shown and step.hint:
            row("Hint", step.hint)
        if step.back:
            row("Stuck", step.back)
        self.query_one("#lesson-text", Static).update(Group(t, rows, steps))  # the step first: it is read first

    def step_command(self) -> str:
        step = self.step
        return step.command_line() if step is not None else ""
