"""Run curves and the multi-learning-rate comparison (and its `compare` command)."""

import json
import threading

import pytest

from seqlm_tui.cli.main import main
from seqlm_tui.core.compare import differences, lr_comparison, run_curve
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.core.run import new_run
from seqlm_tui.core.train import Trainer


def counting(steps=40):
    return apply(config_for("counting-elman"), {"train": {"steps": steps}})


def test_one_curve_per_rate_from_the_same_start():
    curves = list(lr_comparison(counting(), [0.001, 0.01, 0.1], steps=40))
    assert [c.lr for c in curves] == [0.001, 0.01, 0.1]
    assert [c.label for c in curves] == [f"elman on counting, lr {lr}" for lr in ("0.001", "0.01", "0.1")]
    firsts = {c.train[0] for c in curves}
    assert len(firsts) == 1  # same weights, same first minibatch: the same first loss at every rate
    for c in curves:
        assert c.status == "done" and [s for s, _ in c.dev] == list(range(2, 41, 2)) and len(c.train) == 40
    # on counting, within 40 steps, the larger rates get further
    assert curves[0].final_dev > curves[1].final_dev > curves[2].final_dev


def test_a_curve_is_the_run_it_stands_for():
    """lr_comparison trains exactly what a run of that rate with the same settings trains."""
    (curve,) = lr_comparison(counting(), [0.05], steps=30)
    cfg = apply(counting(), {"train": {"lr": 0.05, "steps": 30, "eval_every": 2}})
    run = new_run(cfg)
    for _ in Trainer(run, sample_count=0).events():
        pass
    assert curve.dev == list(zip(run.history.dev.steps, run.history.dev.values))
    assert curve.train == run_curve(run).train
    assert run_curve(run, "mine").label == "mine"


def test_a_diverging_rate_still_gives_its_curve():
    curves = list(lr_comparison(counting(), [0.01, 50.0], steps=30))
    assert curves[0].status == "done"
    assert curves[1].status == "diverged" and "(diverged)" in curves[1].label
    good = int(curves[1].message.split("last good step (")[1].split(")")[0].replace(",", ""))
    assert "too high" in curves[1].message and all(s <= good for s, _ in curves[1].train)


def test_long_histories_are_downsampled():
    run = new_run(counting())
    for i in range(5000):
        run.history.train.add(i + 1, 1.0 / (i + 1))
    curve = run_curve(run)
    steps = [s for s, _ in curve.train]
    assert 390 <= len(steps) <= 400 and steps == sorted(set(steps))
    assert steps[0] < 15 and steps[-1] > 4985  # the ends of the run are still there (bucket means)


def test_stop_and_bad_settings():
    stop = threading.Event()
    stop.set()
    assert list(lr_comparison(counting(), [0.1, 0.2], steps=20, stop=stop)) == []
    stop = threading.Event()
    got = []
    for c in lr_comparison(counting(), [0.1, 0.2], steps=20, stop=stop):
        got.append(c)
        stop.set()
    assert len(got) == 1
    for lrs, steps, msg in (([], 10, "at least one"), ([0.1, -1], 10, "greater than 0"),
                            ([float("nan")], 10, "finite"), ([0.1], 0, "steps")):
        with pytest.raises(SeqlmError, match=msg):
            lr_comparison(counting(), lrs, steps)  # at the call, before any training
    with pytest.raises(SeqlmError, match="no learning rate"):
        lr_comparison(config_for(None, "bigram-counts"), [0.1], 5)


def test_compare_command(capsys):
    assert main(["compare", "--preset", "counting-elman", "--lrs", "0.01,0.1", "--steps", "20"]) == 0
    text = capsys.readouterr().out
    assert "lr 0.01" in text and "lr 0.1" in text and "lowest final dev loss: lr 0.1" in text
    assert "\x1b[" not in text  # not a terminal: no colour codes
    assert main(["compare", "--preset", "counting-elman", "--lrs", "0.1", "--steps", "10", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["best_lr"] == 0.1 and data["curves"][0]["dev"] and data["curves"][0]["status"] == "done"
    for argv, msg in ((["--lrs", "0.1,abc"], "'abc'"), (["--lrs", "0"], "greater than 0"),
                      (["--steps", "0"], "steps")):
        assert main(["compare", "--preset", "counting-elman", *argv]) == 1
        err = capsys.readouterr()
        assert msg in err.err and err.err.count("\n") == 1 and err.out == ""


def test_what_tells_runs_apart_comes_first():
    runs = [{"hidden": 32, "learning rate": 0.004, "steps": 2400},
            {"hidden": 200, "learning rate": 0.1, "steps": 2400},
            {"hidden": 200, "learning rate": 0.01, "steps": 2400}]
    assert differences(runs) == ["learning rate 0.004, hidden 32", "learning rate 0.1, hidden 200",
                                 "learning rate 0.01, hidden 200"]
    assert differences(runs[1:]) == ["learning rate 0.1", "learning rate 0.01"]  # hidden and steps are shared
