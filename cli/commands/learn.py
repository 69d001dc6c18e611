"""``seqlm-tui learn [LESSON]``: the app, opened on the guided lessons; ``--list`` prints them and where the
learner stands (the steps are done in the app, where they are checked)."""

from __future__ import annotations

from seqlm_tui.cli.opening import OpenApp
from seqlm_tui.cli.output import out, prose
from seqlm_tui.core.lessons import Progress, find, load_all


def run(args) -> int | OpenApp:
    lessons = load_all()
    if args.lesson:
        find(lessons, args.lesson)  # an unknown lesson: one sentence, before the app opens
    if args.list:
        progress = Progress.load()
        for lesson in lessons:
            passed, n = len(progress.passed_in(lesson)), len(lesson.steps)
            mark = "done" if passed == n else "here" if lesson.id == progress.current else ""
            out(f"{lesson.number:>2}  {lesson.id:<14} {lesson.title:<46} {passed}/{n} steps  {mark}".rstrip())
        prose("seqlm-tui learn N opens the app on lesson N; each step is checked there.")
        return 0
    return OpenApp(lesson=args.lesson)
