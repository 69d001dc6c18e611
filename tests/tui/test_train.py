"""The Train pane: one key trains, pause/stop, new runs, the data a run trains on, too-big models."""

from __future__ import annotations

import re

import pytest

from seqlm_tui.core import checkpoint
from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.tui.app import SeqlmApp
from tests.tui.conftest import counting, go, message, press, started, stats, train_to_end, until


def loss_in(text: str) -> float | None:
    m = re.search(r"loss ([\d.]+)", text)
    return float(m.group(1)) if m else None


async def test_one_key_trains_the_chart_fills_and_the_loss_falls():
    app = SeqlmApp(counting(600))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        assert "Press s to start training" in stats(app) and app.active_pane == "train"
        await train_to_end(app, pilot)
        assert app.train.run.step == 600
        assert re.search(r"finished at step 600 +loss [\d.]+ +dev [\d.]+", stats(app)), stats(app)
        series = app.train.chart.series()
        assert len(series["train"][0]) > 10 and len(series["dev"][0]) == 6
        assert series["smoothed"][1][-1] < series["smoothed"][1][0] / 4
        assert app.train.run.history.dev.values[-1] < 0.5  # counting is learnt
        assert "samples at step 600" in str(app.train.samples.render())
        await until(pilot, lambda: "training finished at step 600" in message(app), "the message")


async def test_pause_resume_and_stop_are_what_the_screen_says():
    app = SeqlmApp(counting(10_000_000))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await press(pilot, "s")
        await until(pilot, lambda: app.train.run.step > 0 and "training" in stats(app), "steps on screen")
        await press(pilot, "s")
        await until(pilot, lambda: app.train.state == "paused" and "paused at step" in stats(app), "the pause")
        at = app.train.run.step
        await press(pilot, "f4", "f3")  # anything that takes the app some turns of its loop
        await until(pilot, lambda: app.active_pane == "train")
        assert app.train.run.step == at and app.train.state == "paused"
        await press(pilot, "s")
        await until(pilot, lambda: app.train.run.step > at, "training to go on")
        await press(pilot, "x")
        await until(pilot, lambda: app.train.state == "idle" and "stopped at step" in stats(app), "the stop")
        await press(pilot, "l")
        await until(pilot, lambda: app.train.chart.log_y, "the log axis")


async def test_n_builds_a_fresh_model_and_says_so():
    app = SeqlmApp(counting(100))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await train_to_end(app, pilot)
        trained = app.train.run
        await press(pilot, "n")
        await until(pilot, lambda: app.train.run is not trained, "a new run")
        assert app.train.run.step == 0
        await until(pilot, lambda: "a fresh model from Setup" in message(app), "the message")
        assert "step 0" in stats(app)


async def test_n_while_training_says_why_not():
    app = SeqlmApp(counting(10_000_000))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await press(pilot, "s")
        await until(pilot, lambda: app.train.state == "running")
        run = app.train.run
        await press(pilot, "n")
        await until(pilot, lambda: "stop training (x) before starting a new run" in message(app), "the refusal")
        assert app.train.run is run
        await press(pilot, "x")
        await until(pilot, lambda: app.train.state == "idle")


async def set_field(app, pilot, key: str, value: str) -> None:
    """Type a value into a Setup field, as a user does (focus it, select all, type)."""
    from textual.widgets import Input

    row = next(r for r in app.setup.query("FieldRow") if r.key == key)
    control = row.control
    control.focus()
    await until(pilot, lambda: app.focused is control, f"focus on {key}")
    if isinstance(control, Input):
        control.value = value  # a paste: replaces what was there
    else:
        control.value = value
    await until(pilot, lambda: str(row.value) == value or row.error, f"{key} to be read")


async def test_memory_length_changes_reach_the_data_the_run_trains_on(tmp_path):
    """Setup's memory length 40, train; then 5, n, train: each run trains on its own length, and what is
    saved says so (the cached dataset is keyed by the whole data config)."""
    cfg = apply(config_for("memory-lstm"), {"data": {"memory_length": 40}, "model": {"hidden": 16},
                                             "train": {"steps": 20, "eval_every": 10}})
    app = SeqlmApp(cfg)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await train_to_end(app, pilot)
        first = app.train.run
        assert first.cfg.data.memory_length == 40 and int(first.dataset.splits["dev"].lengths[0]) == 40 + 4
        assert _samples(app) and all(len(s.split("?")[0]) == 40 for s in _samples(app))
        # a memory sample is marked as what it is: its recall right or wrong (not "new", "in train")
        head, *lines = str(app.train.samples.render()).splitlines()
        assert re.search(r"\(\d of \d recalled\):$", head), head
        for line in lines:
            found = re.fullmatch(r"([a-h]+)\?\|(\S*)  (recalled|wrong: the first was [a-h])", line)
            assert found, line
            sequence, said, mark = found.groups()
            assert mark == ("recalled" if said[:1] == sequence[0] else f"wrong: the first was {sequence[0]}"), line
        await go(pilot, "f2")
        await until(pilot, lambda: app.setup.ready)
        await set_field(app, pilot, "data.memory_length", "5")
        await press(pilot, "escape")
        await go(pilot, "f3")
        await press(pilot, "n")
        await until(pilot, lambda: app.train.run is not first and app.train.run.step == 0, "the new run")
        await train_to_end(app, pilot)
        run = app.train.run
        assert run.cfg.data.memory_length == 5 and int(run.dataset.splits["dev"].lengths[0]) == 5 + 4
        assert _samples(app) and all(len(s.split("?")[0]) == 5 for s in _samples(app))
        path = checkpoint.save(run, tmp_path / "m.pt")
        assert checkpoint.load(path).cfg.data.memory_length == 5


def _samples(app) -> list[str]:
    lines = str(app.train.samples.render()).splitlines()[1:]
    return [line.split("|")[0] for line in lines if "?" in line]


BIG = {"model": {"model": "lstm", "hidden": 8192, "layers": 4}}


@pytest.mark.parametrize("key", ["s", "n", "w", "r"])
async def test_a_model_too_big_is_one_sentence_and_the_app_stays_up(key):
    cfg = apply(config_for(None, "lstm"), {**BIG, "data": {"dataset": "counting"}})
    app = SeqlmApp(counting(50))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await app.setup.load_config(cfg)
        await until(pilot, lambda: "1,884" in app.setup.summary_text or "limit" in (app.setup.problem or ""),
                    "the summary of the big model")
        before = app.train.run
        if key == "r":
            await go(pilot, "f7")
        await press(pilot, key)
        await until(pilot, lambda: "the limit is 200,000,000" in message(app), "the one sentence")
        assert "Traceback" not in message(app) and app.is_running
        assert app.train.run is before and app.train.state == "idle"
        # and the app goes on: a good setup trains
        await app.setup.load_config(counting(30))
        await go(pilot, "f3")
        await train_to_end(app, pilot)
        assert app.train.run.step == 30


async def test_a_memory_task_too_big_is_one_sentence():
    app = SeqlmApp(counting(50))
    async with app.run_test(size=(120, 34)) as pilot:
        await started(app, pilot)
        await go(pilot, "f7")
        app.insight.show_view("memory")
        app.insight.memory.query_one("#memory-hidden").value = "8192"
        await press(pilot, "m")
        await until(pilot, lambda: "the limit is 200,000,000" in message(app), "the one sentence")
        assert app.is_running and not app.insight.comparing


async def handled_before_now(pilot, pane) -> None:
    """Wait until ``pane`` has handled every message already posted to it (its queue is first in, first out)."""
    reached = []
    pane.call_later(reached.append, True)
    await until(pilot, lambda: reached, "the pane's messages handled")


@pytest.fixture
def slow_first_build(monkeypatch):
    """The app's first model is held back until the test releases it: (release event, the builds asked for)."""
    import threading

    from seqlm_tui.tui.panes import train as train_pane

    release, calls, real = threading.Event(), [], train_pane.new_run

    def build(cfg):
        calls.append(cfg)
        if len(calls) == 1:
            release.wait(60)
        return real(cfg)

    monkeypatch.setattr(train_pane, "new_run", build)
    return release, calls


async def test_s_while_the_first_model_is_still_being_built_trains_the_run_on_screen(slow_first_build):
    """On a busy machine s can come before the first build is in: the late build must not replace the run
    being trained (it did: the screen and a save then held an untrained model while another one trained)."""
    release, calls = slow_first_build
    app = SeqlmApp(counting(10_000_000))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.panes_in and calls, "the first build")
        await press(pilot, "s")
        await until(pilot, lambda: app.train.run is not None and app.train.run.step > 0, "steps on screen")
        trained = app.train.trainer.run
        release.set()
        await until(pilot, lambda: not [w for w in app.workers if w.group == "build" and w.is_running], "the build")
        await handled_before_now(pilot, app.train)
        assert app.train.run is trained and app.train.unsaved
        await press(pilot, "x")
        await until(pilot, lambda: app.train.state == "idle", "the stop")
        assert app.train.run is trained


async def test_a_checkpoint_loaded_while_a_build_is_under_way_is_the_run_s_goes_on_with(slow_first_build,
                                                                                         tmp_path):
    """The build asked for before the load neither replaces the loaded run nor makes s start afresh."""
    from seqlm_tui.core.run import new_run
    from seqlm_tui.core.train import train_to_end

    kept = new_run(counting(40))
    train_to_end(kept)
    path = checkpoint.save(kept, tmp_path / "kept.pt")
    release, calls = slow_first_build
    app = SeqlmApp(counting(10_000_000))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.panes_in and calls, "the first build")
        app.checkpoints.load(path)
        await until(pilot, lambda: app.train.run is not None and app.train.run.step == 40, "the loaded run")
        loaded = app.train.run
        release.set()
        await until(pilot, lambda: not [w for w in app.workers if w.group == "build" and w.is_running], "the build")
        await handled_before_now(pilot, app.train)
        assert app.train.run is loaded
        await press(pilot, "s")
        await until(pilot, lambda: app.train.run.step > 40, "training to go on from the loaded step")
        assert app.train.run is loaded and app.train.trainer.run is loaded
        await press(pilot, "x")
        await until(pilot, lambda: app.train.state == "idle", "the stop")


async def test_a_checkpoint_that_arrives_while_a_run_trains_is_not_adopted(tmp_path):
    """A room's last run is loaded at start-up in a worker; an s pressed before it is in must keep its run."""
    from seqlm_tui.core.run import new_run
    from seqlm_tui.tui.messages import CheckpointLoaded

    other = new_run(counting(10))
    app = SeqlmApp(counting(10_000_000))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await press(pilot, "s")
        await until(pilot, lambda: app.train.run.step > 0, "steps on screen")
        training = app.train.run
        app.post_message(CheckpointLoaded(other, tmp_path / "last.pt"))
        await until(pilot, lambda: "last.pt was not loaded: a run is training" in message(app), "the sentence")
        assert app.train.run is training and app.train.trainer.run is training
        await press(pilot, "x")
        await until(pilot, lambda: app.train.state == "idle", "the stop")
