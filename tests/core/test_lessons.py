"""The lessons as data: every file reads, every step's command line does what its setup does, every check
fails on a state where nothing was done and passes on one where it was, progress survives a restart."""

from __future__ import annotations

import shlex
from dataclasses import fields

import pytest

from seqlm_tui.cli.flags import config_from_args
from seqlm_tui.cli.parser import build_parser
from seqlm_tui.core import cmdline, presets
from seqlm_tui.core.config import SECTIONS
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.lesson_checks import CHECKS
from seqlm_tui.core.lesson_facts import Exchange, Facts, MemoryRow, Result, SweepResult, Training
from seqlm_tui.core.lessons import Progress, find, load_all, parse
from seqlm_tui.core.rules import used

LESSONS = load_all()


def test_the_six_lessons_are_there_in_order_each_step_complete():
    assert [x.number for x in LESSONS] == [1, 2, 3, 4, 5, 6]
    for lesson in LESSONS:
        assert lesson.summary and lesson.about
        for step in lesson.steps:
            assert step.why and step.hint and step.back, (lesson.id, step.goal)
            assert len(step.goal) <= 78, step.goal  # the strip's first line at 80 columns
            assert step.command_line().startswith("seqlm-tui "), step.goal
    assert find(LESSONS, "4").id == find(LESSONS, "mlp-names").id == "mlp-names"
    with pytest.raises(SeqlmError, match="no lesson '9'"):
        find(LESSONS, "9")


@pytest.mark.parametrize("text, problem", [
    ('title = "t"\n[[step]]\ngoal = "g"\npane = "train"\ndo = "d"\ncheck = "nope"', "unknown check 'nope'"),
    ('title = "t"\n[[step]]\ngoal = "g"\npane = "train"\ndo = "d"\ncheck = "trained"\nwhy2 = ""', "unknown key"),
    ('title = "t"\n[[step]]\ngoal = "g"\npane = "kitchen"\ndo = "d"\ncheck = "trained"', "pane 'kitchen'"),
    ('title = "t"\n[[step]]\ngoal = "g"\npane = "train"\ndo = "d"\ncheck = "trained"\nargs = { max_devv = 1 }',
     "do not fit"),
    ('title = "t"\n[[step]]\ngoal = "g"\npane = "train"\ndo = "d"\ncheck = "trained"\nsetup = { preset = "x" }',
     "unknown preset"),
    ('title = "t"\n[[step]]\ngoal = "g"\npane = "train"\ndo = "d"\ncheck = "trained"\n'
     'setup = { train = { lr = -1 } }', "learning rate must be greater than 0"),
    ('title = "t"\n[[step]\n', "not valid TOML"),
])
def test_a_wrong_lesson_file_is_one_sentence_naming_it(text, problem):
    with pytest.raises(SeqlmError, match=problem) as err:
        parse(text, "09-broken.toml")
    assert "09-broken.toml" in str(err.value) and "\n" not in str(err.value)


def _as_cli(line: str):
    words = shlex.split(line)
    assert words[0] == "seqlm-tui"
    args = build_parser().parse_args(words[1:])
    return config_from_args(args)


def _same_where_used(a, b) -> list[str]:
    return [f"{s}.{f.name}" for s, kind in SECTIONS.items() for f in fields(kind)
            if used(a, f"{s}.{f.name}") and getattr(getattr(a, s), f.name) != getattr(getattr(b, s), f.name)]


def test_each_steps_command_line_trains_what_its_setup_sets_up():
    """The line a step shows, read by the real parser, gives the step's configuration (the settings used)."""
    checked = 0
    for lesson in LESSONS:
        for step in lesson.steps:
            cfg = step.config(short=False)
            line = step.command_line()
            if cfg is None or step.command.startswith("seqlm-tui") or not line.startswith("seqlm-tui train"):
                continue
            line = line.split(" --save ")[0]
            assert _same_where_used(cfg, _as_cli(line)) == [], line
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("name", list(presets.PRESETS))
def test_the_command_line_of_any_setup_round_trips(name):
    """The palette's command line for the Setup's run: presets and settings changed over them."""
    for change in ({}, {"train": {"lr": 0.0123456789, "clip": 0.5, "steps": 77}}, {"model": {"hidden": 48}},
                   {"data": {"batch_size": 3}, "train": {"epochs": 0.0, "steps": 5, "seed": 7}}):
        cfg = presets.apply(presets.config_for(name), change)
        line = cmdline.command_line(cfg)
        assert _same_where_used(cfg, _as_cli(line)) == [], line
    assert cmdline.command_line(presets.config_for(name)) == f"seqlm-tui train --preset {name}"


def run_like(model="elman", dataset="counting", step=600, seq=5, **train):
    cfg = presets.config_for(None, model)
    cfg = presets.apply(cfg, {"data": {"dataset": dataset}, "train": train})
    return Training(cfg, serial=1, step=step, first_loss=3.3, last_loss=0.2, train_loss=0.1, dev_loss=0.11,
                    tokens_per_s=1000.0, seq=seq)


# For each check: arguments, and the facts after the learner acted. Before, nothing was done: Facts(since=5).
DONE = {
    "trained": ({"config": {"model": "elman"}, "max_dev": 0.3}, Facts(since=5, trainings=[run_like()])),
    "diverged": ({"config": {"clip": 0.0}},
                 Facts(since=5, trainings=[Training(run_like().cfg, 1, 15, diverged=True, error="boom", seq=6)])),
    "trained_each": ({"models": ["elman", "rnn"]}, Facts(since=5, trainings=[run_like(seq=1), run_like("rnn")])),
    "matches_counts": ({}, Facts(since=5, trainings=[run_like("bigram-counts", "names"), run_like("bigram-neural",
                                                                                                "names")])),
    "counts_on": ({"prompt": "7 8 9 10"}, Facts(since=5, exchanges=[Exchange("7 8 9 10", " 11 12", done=True, seq=5)])),
    "answered": ({"prompt": "time"}, Facts(since=5, serial=1, exchanges=[Exchange("time t", "he", serial=1, done=True,
                                                                                  seq=9)])),
    "recalls": ({"min_len": 3},
                Facts(since=5, serial=1, exchanges=[Exchange("cab?", "c.", serial=1, done=True, seq=6)])),
    "view_open": ({"view": "bigram"}, None),
    "vowels_grouped": ({}, None),
    "swept": ({"low": 0.01, "high": 1}, Facts(since=5, sweeps=[SweepResult(run_like().cfg, 0.1, 1000, seq=5)])),
    "memory_compared": ({"models": ["elman", "lstm"]}, Facts(since=5, memory=[MemoryRow("elman", 20, 0.6, 6),
                                                                               MemoryRow("lstm", 20, 1.0, 7)])),
    "result": ({"name": "elman_vs_torch", "below": {"max_diff": 1e-5}},
               Facts(since=5, serial=2, results=[Result("elman_vs_torch", 2, {"max_diff": 1e-7, "said": "1e-07"}, 5)])),
    "view_shows": ({"view": "neurons", "at_least": {"score": 0.5}},
                   Facts(since=5, pane="insight", view="neurons", view_facts={"unit": 3, "score": 0.7})),
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_check_fails_before_the_learner_acts_and_passes_after(name):
    args, after = DONE[name]  # a check without a case here fails this test: add one
    before = Facts(since=5, trainings=[run_like(seq=4)], exchanges=[Exchange("7 8 9 10", " 11", done=True, seq=4)])
    assert not CHECKS[name](before, **args).passed
    if after is not None:  # the two that read a live model are walked in tests/tui/test_lessons.py
        verdict = CHECKS[name](after, **args)
        assert verdict.passed, verdict.said


def test_the_checks_say_what_is_missing_or_wrong():
    trained = CHECKS["trained"]
    v = trained(Facts(since=5, trainings=[run_like()]), config={"model": "elman"}, max_dev=0.05)
    assert not v.passed and "dev 0.110" in v.said and "needs dev < 0.05" in v.said
    counts = CHECKS["counts_on"]
    v = counts(Facts(exchanges=[Exchange("7 8 9 10", " 12", done=True, seq=1)]), prompt="7 8 9 10")
    assert not v.passed and "not 11" in v.said
    v = counts(Facts(exchanges=[Exchange("42", " 43", fresh=False, done=True, seq=1)]), max_len=1, fresh=True)
    assert not v.passed and "/reset" in v.said
    memory = CHECKS["memory_compared"]
    rows = [MemoryRow("elman", 20, 0.9, 1), MemoryRow("lstm", 20, 1.0, 2)]
    v = memory(Facts(memory=rows), models=["elman", "lstm"], margin=0.2)
    assert not v.passed and "elman 90%" in v.said


def test_progress_survives_a_restart_and_a_damaged_file_is_a_fresh_start(tmp_path):
    path = tmp_path / "state" / "lessons.json"
    p = Progress(path=path)
    lesson = LESSONS[0]
    p.current, p.at[lesson.id] = lesson.id, 2
    p.mark(lesson, 0)
    p.mark(lesson, 1)
    p.save()
    back = Progress.load(path)
    assert back.current == lesson.id and back.step_of(lesson) == 2 and back.passed_in(lesson) == {0, 1}
    path.write_text("{not json")
    assert Progress.load(path).current is None
    blocked = tmp_path / "file"
    blocked.write_text("")
    with pytest.raises(SeqlmError, match="could not be saved"):
        Progress(path=blocked / "lessons.json").save()
