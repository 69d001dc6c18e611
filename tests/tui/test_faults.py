"""Faults in the app (pilot): saves into a failing folder, a long session with live charts, no network."""

import gc
import os
import socket
import tracemalloc

import pytest
import torch

from core import checkpoint
from core.history import MAX_POINTS
from core.presets import apply, config_for
from tests.tui.test_app import small_counting, stats, train_to_end, type_in, wait_for
from tui.app import SeqlmApp
from tui.widgets.prompt_pane import PromptPane


def recorder(app):
    """Every notification the app shows, with its severity."""
    seen = []
    real = app.notify

    def notify(message, **kw):
        seen.append((message, kw.get("severity", "information")))
        real(message, **kw)

    app.notify = notify
    return seen


def unwritable_folder(tmp_path):
    """A checkpoint folder no save can write into, root or not: its parent is a regular file
    (chmod 0o555 would not stop root)."""
    (tmp_path / "plainfile").write_text("not a folder")
    return tmp_path / "plainfile" / "checkpoints"


async def test_autosave_into_a_failing_folder_notifies_and_training_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(unwritable_folder(tmp_path)))
    app = SeqlmApp(small_counting(300))
    async with app.run_test(size=(100, 30)) as pilot:
        seen = recorder(app)
        await pilot.click("#autosave")
        await pilot.pause(0.1)
        assert app.train_pane.autosave
        await train_to_end(app, pilot)
        assert app.current.step == 300 and len(app.current.history.dev) >= 3  # every evaluation ran
        errors = [m for m, sev in seen if sev == "error"]
        assert errors and all("cannot write a checkpoint" in m and "Not a directory" in m for m in errors)
        assert "finished at step 300" in stats(app) or any("finished at step 300" in m for m, _ in seen)


async def test_ctrl_s_on_a_full_disk_mid_training_notifies_and_training_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(tmp_path))

    def full_disk(obj, f, *a, **kw):
        f.write(b"the first few bytes")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    app = SeqlmApp(small_counting(3000))
    async with app.run_test(size=(100, 30)) as pilot:
        seen = recorder(app)
        assert await wait_for(pilot, lambda: app.current is not None)
        await type_in(pilot, "s")
        assert await wait_for(pilot, lambda: app.current.step > 100, 30)
        await type_in(pilot, "ctrl+s")
        await pilot.pause(0.3)
        await type_in(pilot, "enter")  # the dialog's proposed name
        assert await wait_for(pilot, lambda: any(sev == "error" for _, sev in seen), 10)
        message = next(m for m, sev in seen if sev == "error")
        assert "No space left on device" in message and "nothing was overwritten" in message
        at_failure = app.current.step
        assert app.train_state == "running"
        assert await wait_for(pilot, lambda: app.current.step > at_failure, 30)  # it trains on
        assert list(tmp_path.iterdir()) == []  # no partial file, no temp file
        await type_in(pilot, "x")
        assert await wait_for(pilot, lambda: app.train_state == "idle", 30)


@pytest.mark.slow
async def test_a_long_session_keeps_history_bounded_memory_flat_and_keys_working():
    # A fast model for thousands of steps with the chart redrawing: the Python side must not grow.
    # (tracemalloc slows every allocation about fourfold, so the traced stretch is kept to 4,000 steps.)
    steps = 6000
    cfg = apply(config_for(None, "bigram-neural"), {"train": {"steps": steps, "eval_every": 1000,
                                                              "eval_cap": 500, "optimizer": "adam",
                                                              "lr": 0.01}})
    app = SeqlmApp(cfg)
    async with app.run_test(size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: app.current is not None)
        await type_in(pilot, "s")
        assert await wait_for(pilot, lambda: app.current.step >= 2000, 60)  # warmed up: evals, samples
        gc.collect()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            samples = []  # (step, bytes allocated since the warm-up and still alive)
            while app.train_state != "idle":
                await type_in(pilot, "l")  # the chart redraws in the other scale
                await pilot.pause(0.4)
                gc.collect()
                samples.append((app.current.step, tracemalloc.get_traced_memory()[0] - base))
        finally:
            tracemalloc.stop()
        assert app.current.step == steps
        # Every step is in the history, yet it holds at most MAX_POINTS (compacted at 4,096).
        assert len(app.current.history.train) <= MAX_POINTS < steps
        # Flat: from the middle of the traced stretch to its end memory does not rise with the steps
        # (the curve's points and the chart's buffers come and go; a leak would add per step).
        later = [b for s, b in samples if s >= 4000]
        assert len(later) >= 3
        assert max(later) - later[0] < 1_000_000, samples
        # Still answers keys: a pane switch and the log toggle both take effect.
        await type_in(pilot, "f4", "f3")
        assert app.query_one("#tabs").active == "train"
        before = app.train_pane.chart.log_y
        await type_in(pilot, "l")
        assert app.train_pane.chart.log_y != before


async def test_an_app_session_opens_no_network_connection(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(tmp_path))
    attempts = []

    def refuse(self, address, *a):
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    app = SeqlmApp(small_counting(200))
    async with app.run_test(size=(100, 30)) as pilot:
        await train_to_end(app, pilot)
        await type_in(pilot, "ctrl+s")
        await pilot.pause(0.3)
        await type_in(pilot, "enter")
        assert await wait_for(pilot, lambda: any(tmp_path.glob("*.pt")), 10)
        await type_in(pilot, "f5")
        prompt = app.query_one(PromptPane)
        await type_in(pilot, *"5 6 7", "enter")
        assert await wait_for(pilot, lambda: not prompt.busy, 10)
        await type_in(pilot, "f6")
        await pilot.pause(0.3)
        assert app.query_one("#ckpt-table").row_count == 1
    assert attempts == []
    assert checkpoint.load(next(tmp_path.glob("*.pt"))).step == 200
    assert os.listdir(tmp_path) == [p.name for p in tmp_path.glob("*.pt")]
