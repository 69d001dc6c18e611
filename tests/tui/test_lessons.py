"""The guided lessons in the app: every lesson walked from its first step to its last at 80x24, each check
false before the learner's action and true after it, the strip showing the goal throughout; the progress
kept across a restart; the command line of the Setup's run.

The walk uses ``SEQLM_LESSONS_QUICK=1`` (core/lessons.py): each step's ``quick`` table shortens its training
to a few steps and loosens the bounds such runs reach, so the six lessons take seconds, not minutes. The
checks, the setups, the keys and the panes are the real ones; the real bounds are walked by hand (the report
of issue 24 has the numbers).
"""

from __future__ import annotations

import os
import time

import pytest

from seqlm_tui.core.features import FEATURES
from seqlm_tui.core.lessons import Progress, load_all
from seqlm_tui.tui.app import SeqlmApp
from seqlm_tui.tui.screens.command import CommandScreen
from seqlm_tui.tui.widgets.lesson_strip import LessonStrip
from tests.tui.conftest import counting, go, press, screen_text, started, type_text, until

LESSONS = load_all()
FULL = os.environ.get("SEQLM_LESSONS_WALK_FULL", "") not in ("", "0")
WAIT = 3600 if FULL else 120  # the real trainings take minutes on a busy machine
# What the learner types beyond what g puts in the prompt box (the step asks for a number of their own).
TYPED = {("counting", 2): ["42"]}
VIEW_KEYS = {"embeddings": 0, "bigram": 1}  # ] presses from the Insight pane's first view


def strip(app) -> LessonStrip:
    return app.query_one(LessonStrip)


def verdict(app):
    app.lessons.tick()
    return app.lessons.verdict


async def goal_in_view(app, pilot, step, on_screen: bool = False) -> None:
    """Outside the Learn pane the strip shows the goal (its first words at least: it ends in … when long);
    ``on_screen``: read from the screen itself (a screenshot: slow, so once a lesson)."""
    if app.active_pane == "learn":
        return
    # The strip follows the pane on the Learn pane's next check (a third of a second): wait for it
    await until(pilot, lambda: strip(app).display and strip(app).goal == step.goal
                and strip(app).region.height == 2, "the strip with the goal, laid out")
    shown = strip(app)
    assert step.goal[:30] in str(shown.render())
    if on_screen:
        assert step.goal[:30] in screen_text(app), screen_text(app)


async def act(app, pilot, lesson, index, step) -> None:
    """The learner's action for the step: in the pane where it is done, with the keys a person would use."""
    check = step.check
    if check in ("trained", "diverged", "matches_counts", "trained_each"):
        await go(pilot, "f3")
        ended = app.train.ended
        await press(pilot, "s")
        await until(pilot, lambda: app.train.ended > ended and app.train.state == "idle", "training to end", WAIT)
    elif check in ("counts_on", "answered", "recalls"):
        await go(pilot, "f5")
        lines = [app.query_one("#prompt-input").value] if step.setup.get("prompt") else []
        lines += TYPED.get((lesson.id, index), [])
        lines += [""] * step.check_args().get("min_count", 0)  # Enter on an empty line draws a name
        for line in lines:
            answered = app.prompt.answered
            app.query_one("#prompt-input").value = ""
            await type_text(pilot, line)
            await press(pilot, "enter")
            if not line.startswith("/"):
                await until(pilot, lambda a=answered: app.prompt.answered > a and not app.prompt.busy, "the answer")
    elif check in ("view_open", "vowels_grouped"):
        view = step.check_args().get("view", "embeddings")
        await go(pilot, "f7")
        app.insight.show_view("embeddings")
        await until(pilot, lambda: app.insight.view == "embeddings")
        for _ in range(VIEW_KEYS[view]):
            await press(pilot, "]")
        await until(pilot, lambda: app.insight.view == view, f"the {view} view")
    elif check == "swept":
        await go(pilot, "f4")
        await press(pilot, "w")
        await until(pilot, lambda: app.sweep_pane.running, "the sweep to start")
        await until(pilot, lambda: not app.sweep_pane.running, "the sweep to end", WAIT)
    elif check == "memory_compared":
        await press(pilot, "m")
        await until(pilot, lambda: app.insight.comparing, "the memory task to start")
        await until(pilot, lambda: not app.insight.comparing, "the memory task to end", WAIT)
    elif check == "result":
        await press(pilot, "t")
    elif check == "unit_found":
        await look_at_units(app, pilot, step.check_args().get("feature"))
    elif check == "heads_seen":
        await look_at_heads(app, pilot, step.check_args())
    else:
        raise AssertionError(f"no action for the check {check}: teach this test how a learner passes it")




async def read_now(app, pilot, view, name: str) -> None:
    """Insight shows the view, which has read the weights the run has now (the last evaluation's)."""
    await go(pilot, "f7")
    await until(pilot, lambda: app.insight.view == name and view.reading is not None
                and view.step == app.train.run.step, f"the {name} view's reading of step {app.train.run.step}")


async def look_at_units(app, pilot, feature: str | None) -> None:
    """t until the feature is chosen (as the step says), then f."""
    view = app.insight.neurons
    await read_now(app, pilot, view, "neurons")
    for _ in range(len(FEATURES)):
        if feature is None or view.feature == feature:
            break
        before = view.feature
        await press(pilot, "t")
        await until(pilot, lambda before=before: view.feature != before, "the next feature")
    assert feature is None or view.feature == feature
    await press(pilot, "f")
    await until(pilot, lambda: view.found_by == "find", "the units ranked and the first pinned")


async def look_at_heads(app, pilot, args: dict) -> None:
    """A name typed into the view's box (Tab reaches it), or the dev excerpt (e) and four heads (. and l)."""
    view = app.insight.attention
    await read_now(app, pilot, view, "attention")
    if args.get("source") == "typed":
        await press(pilot, "tab")
        await until(pilot, lambda: app.focused is app.query_one("#attention-input"), "the text box")
        await type_text(pilot, "emma")
        await press(pilot, "enter")
        await until(pilot, lambda: view.source == "typed" and view.reading.labels == list(".emma"), "the name read")
        return
    while view.source != "dev":
        source = view.source
        await press(pilot, "e")
        await until(pilot, lambda source=source: view.source != source, "the next text")
    await until(pilot, lambda: len(view.reading) >= args.get("min_length", 1), "the dev excerpt read")
    for key in (".", ".", "l", "."):  # layer 1 heads 1-3, l keeps the head: layer 2 heads 3-4, five in all
        await press(pilot, key)


@pytest.mark.parametrize("lesson", LESSONS, ids=[x.id for x in LESSONS])
async def test_each_lesson_walked_first_step_to_last_at_80x24(lesson, monkeypatch):
    """With SEQLM_LESSONS_WALK_FULL=1 the walk takes the real trainings and bounds (minutes per lesson) and
    prints each step's time and what its check saw: run with -s, not in CI."""
    if not FULL:
        monkeypatch.setenv("SEQLM_LESSONS_QUICK", "1")
    app = SeqlmApp(counting(), lesson=str(lesson.number))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await until(pilot, lambda: app.lessons.lesson is lesson or app.lessons.lesson is not None, "the lesson")
        assert app.lessons.lesson.id == lesson.id and app.active_pane == "learn"
        app.prompt.length = 4  # continuations of a few tokens: the checks read their first ones
        t0, cpu0 = time.monotonic(), time.process_time()
        for index, step in enumerate(lesson.steps):
            began, cpu = time.monotonic(), time.process_time()
            assert app.lessons.index == index
            if step.setup:
                await press(pilot, "g")
                await until(pilot, lambda step=step: app.active_pane == step.setup.get("pane", step.pane),
                            "the setup's pane")
                if step.has_config:
                    cfg = step.config()
                    await until(pilot, lambda cfg=cfg: app.train.run is not None and app.train.run.cfg == cfg
                                and not app.train.busy, "the fresh run of the setup")
            await goal_in_view(app, pilot, step, on_screen=index == 0)
            v = verdict(app)
            assert not v.passed, f"{lesson.id} step {index + 1} passed before the learner acted: {v.said}"
            await act(app, pilot, lesson, index, step)
            await until(pilot, lambda: verdict(app).passed, f"{lesson.id} step {index + 1} to pass", WAIT)
            await goal_in_view(app, pilot, step)
            if FULL or os.environ.get("TMPTIMES"):
                wall, used = time.monotonic() - began, time.process_time() - cpu
                print(f"{lesson.number}.{index + 1} {wall:6.1f} s wall {used:6.1f} s CPU  {app.lessons.verdict.said}",
                      flush=True)
            assert "✓ passed" in str(strip(app).render()) or app.active_pane == "learn"
            if app.active_pane == "prompt" or app.active_pane == "insight" and app.insight.view in app.insight.looks:
                # "." would be typed into the prompt, or step the unit or head: the strip says F8 first
                assert "F8, then ." in str(strip(app).render())
                await go(pilot, "f8")
            await press(pilot, "full_stop")
            await until(pilot, lambda index=index: app.lessons.index == index + 1, "the next step")
        if FULL:
            print(f"lesson {lesson.number}: {time.monotonic() - t0:.0f} s wall, {time.process_time() - cpu0:.0f} s CPU",
                  flush=True)
        assert app.lessons.step is None  # the summary
        await go(pilot, "f8")
        await until(pilot, lambda: lesson.summary[:40] in " ".join(screen_text(app).split()), "the summary")
        last = lesson is LESSONS[-1]  # no "next lesson" promised after the last one
        assert ("That was the last lesson" in screen_text(app)) is last
        assert (". opens the next lesson" in screen_text(app)) is not last
    done = Progress.load()
    assert done.passed_in(lesson) == set(range(len(lesson.steps)))


async def test_next_is_refused_until_the_check_passes_and_learn_resumes_where_you_stood(monkeypatch):
    lesson = LESSONS[2]
    p = Progress(current=lesson.id, at={lesson.id: 1}, passed={lesson.id: [0]})
    p.save()
    app = SeqlmApp(counting(), lesson="")
    async with app.run_test(size=(60, 20)) as pilot:
        await started(app, pilot)
        await until(pilot, lambda: app.lessons.lesson is not None and app.active_pane == "learn", "the lesson")
        assert app.lessons.lesson.id == lesson.id and app.lessons.index == 1
        await press(pilot, "full_stop")
        await until(pilot, lambda: "not yet" in str(app.query_one("#messages").render()), "the refusal")
        assert app.lessons.index == 1
        await press(pilot, "h")
        await until(pilot, lambda: lesson.steps[1].hint[:30] in str(app.query_one("#messages").render()), "the hint")
        await go(pilot, "f3")  # at 60x20 the strip is there too, the goal's start readable
        await until(pilot, lambda: lesson.steps[1].goal[:25] in screen_text(app), "the goal on screen")
        await press(pilot, "escape")


async def test_capital_g_sets_up_the_originals_long_run():
    lesson = LESSONS[3]
    step = lesson.steps[2]
    assert step.full
    Progress(current=lesson.id, at={lesson.id: 2}).save()
    app = SeqlmApp(counting(), lesson="")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await until(pilot, lambda: app.lessons.step is not None and app.lessons.step.goal == step.goal, "the step")
        await press(pilot, "g")
        await until(pilot, lambda: app.setup.read()[0].train.steps == 30_000, "the short run in Setup")
        await press(pilot, "G")
        await until(pilot, lambda: app.setup.read()[0].train.steps == 200_000, "the original's run in Setup")
        assert app.setup.read()[0] == step.config(full=True)


async def test_the_command_line_of_the_setups_run_is_shown_and_copied(monkeypatch):
    copied = []
    app = SeqlmApp(counting(77))
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await press(pilot, "c")
        # The screen is app.screen from its push, its widgets once composed (Textual's Footer used to
        # rebuild in between, so this was never seen half-made).
        await until(pilot, lambda: isinstance(app.screen, CommandScreen) and app.screen.query("#command-text"),
                    "the command line")
        assert copied == ["seqlm-tui train --preset counting-elman --steps 77"]
        assert str(app.screen.query_one("#command-text").render()) == copied[0]
        await press(pilot, "escape")
        await until(pilot, lambda: not isinstance(app.screen, CommandScreen), "closed")
