"""Faults in the app: saves that fail, a long session with live charts, no network."""

from __future__ import annotations

import gc
import os
import socket
import sys

from textual.widgets import Input

from seqlm_tui.core import checkpoint
from seqlm_tui.core.history import MAX_POINTS
from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.tui.app import SeqlmApp
from tests.tui.conftest import counting, go, message, press, shown, started, train_to_end, type_text, until


def errors(app) -> list[str]:
    return [text for severity, text in app.query_one("#messages").said if severity == "error"]


def unwritable_folder(tmp_path):
    """A checkpoint folder no save can write into, root or not: its parent is a regular file."""
    (tmp_path / "plainfile").write_text("not a folder")
    return tmp_path / "plainfile" / "checkpoints"


async def test_autosave_into_a_failing_folder_says_so_once_turns_itself_off_and_training_goes_on(tmp_path,
                                                                                                 monkeypatch):
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(unwritable_folder(tmp_path)))
    app = SeqlmApp(counting(300))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await pilot.click("#autosave")
        await until(pilot, lambda: app.train.autosave)
        await train_to_end(app, pilot)
        assert app.train.run.step == 300 and len(app.train.run.history.dev) == 3  # every evaluation ran
        said = errors(app)
        assert len(said) == 1 and "cannot write a checkpoint" in said[0] and "Not a directory" in said[0]
        assert not app.train.autosave and shown(app.query_one("#autosave-word")) == "off"


async def test_ctrl_s_on_a_full_disk_mid_training_says_so_and_training_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(tmp_path))
    monkeypatch.setenv("SEQLM_FAULT", "checkpoint.written:enospc")
    app = SeqlmApp(counting(10_000_000))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await press(pilot, "s")
        await until(pilot, lambda: app.train.state == "running" and app.train.run.step > 10)
        await press(pilot, "ctrl+s")
        await until(pilot, lambda: len(app.screen.query("#save-name")) == 1, "the save dialog")
        await press(pilot, "enter")  # the dialog's proposed name
        await until(pilot, lambda: errors(app), "the error")
        assert "No space left on device" in errors(app)[0] and "nothing was overwritten" in errors(app)[0]
        at_failure = app.train.run.step
        assert app.train.state == "running"
        await until(pilot, lambda: app.train.run.step > at_failure, "training to go on")
        assert list(tmp_path.iterdir()) == []  # no partial file, no temp file
        await press(pilot, "x")
        await until(pilot, lambda: app.train.state == "idle")


async def test_a_long_session_keeps_history_bounded_memory_flat_and_keys_working():
    """A fast model for thousands of steps with the chart redrawing: the Python side must not grow.
    One measurement per evaluation from step 2,500 to the end, each once that evaluation is in: their
    number does not depend on the machine's speed. Memory is counted in the interpreter's allocated
    blocks, less the loss history's own points (a step and a loss each; they grow to 4,096 and are then
    compacted, a swing of thousands of blocks that is by design). What remains grows by about two blocks
    a step while Textual's bounded caches fill (measured 4,100-4,300 over the last 2,000 steps); a leak
    of a step's event with its numbers (a message, a tuple, two floats) would add 8,000 more."""
    steps = 6000
    cfg = apply(config_for(None, "bigram-neural"), {"train": {"steps": steps, "eval_every": 500, "eval_cap": 500,
                                                              "optimizer": "adam", "lr": 0.01}})
    app = SeqlmApp(cfg)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await press(pilot, "s")
        samples = []  # (step, blocks allocated less the history's)
        for target in range(2500, steps + 1, 500):
            await until(pilot, lambda target=target: len(app.train.run.history.dev) and
                        app.train.run.history.dev.steps[-1] >= target, f"step {target}")
            await press(pilot, "l")  # the chart redraws at once, in the other scale
            gc.collect()
            history = app.train.run.history
            samples.append((app.train.run.step, sys.getallocatedblocks() - 2 * (len(history.train) + len(history.dev))))
        await until(pilot, lambda: app.train.state == "idle")
        assert app.train.run.step == steps
        assert len(app.train.run.history.train) <= MAX_POINTS < steps  # every step, compacted at 4,096
        later = [(s, b) for s, b in samples if s >= 4000]
        assert len(later) >= 4, samples
        (s0, b0), (s1, b1) = later[0], later[-1]
        assert (b1 - b0) / (s1 - s0) < 3.5, samples  # blocks a step
        await go(pilot, "f4")
        await go(pilot, "f3")
        before = app.train.chart.log_y
        await press(pilot, "l")
        await until(pilot, lambda: app.train.chart.log_y != before, "the log toggle")


async def test_an_app_session_opens_no_network_connection(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(tmp_path))
    attempts = []

    def refuse(self, address, *a):
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    app = SeqlmApp(counting(200))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await train_to_end(app, pilot)
        await press(pilot, "ctrl+s")
        await until(pilot, lambda: len(app.screen.query("#save-name")) == 1)
        app.screen.query_one("#save-name", Input).value = "offline"
        await press(pilot, "enter")
        await until(pilot, lambda: "saved" in message(app))
        await go(pilot, "f5")
        await type_text(pilot, "5 6 7")
        await press(pilot, "enter")
        await until(pilot, lambda: "> 5 6 7▸ 8" in app.prompt.text and not app.prompt.busy)
        await go(pilot, "f6")
        await until(pilot, lambda: app.query_one("#ckpt-table").row_count == 1)
    assert attempts == []
    assert checkpoint.load(tmp_path / "offline.pt").step == 200
    assert os.listdir(tmp_path) == ["offline.pt"]
