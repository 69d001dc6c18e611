"""Saving, autosave and loading in the app; the checkpoint browser; nothing slow on the interface's thread."""

from __future__ import annotations

import shutil
import threading

import pytest
from textual.widgets import Input

from seqlm_tui.core import checkpoint, checkpoint_list
from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.tui.app import SeqlmApp
from tests.tui.conftest import counting, go, message, press, shown, started, stats, train_to_end, type_text, until


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(tmp_path))
    return tmp_path


async def save_as(pilot, app, name: str) -> None:
    await press(pilot, "ctrl+s")
    await until(pilot, lambda: len(app.screen.query("#save-name")) == 1, "the save dialog")
    box = app.screen.query_one("#save-name", Input)
    box.value = name
    await press(pilot, "enter")


async def test_save_then_load_restores_chart_setup_and_model(folder):
    app = SeqlmApp(apply(counting(300), {"model": {"hidden": 24}}))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await train_to_end(app, pilot)
        trained = app.train.run
        await press(pilot, "ctrl+s")
        await until(pilot, lambda: len(app.screen.query("#save-name")) == 1, "the save dialog")
        assert app.screen.query_one("#save-name", Input).value == "counting-elman-step300"
        app.screen.query_one("#save-name", Input).value = "mine"
        await press(pilot, "enter")
        await until(pilot, lambda: "saved" in message(app) and (folder / "mine.pt").exists(), "the save")
        await app.setup.load_config(apply(counting(300), {"model": {"hidden": 40}}))
        await press(pilot, "n")
        await until(pilot, lambda: app.train.run is not trained and app.train.run.step == 0, "a fresh run")
        assert app.train.chart.series() == {}
        await go(pilot, "f6")
        table = app.query_one("#ckpt-table")
        await until(pilot, lambda: table.row_count == 1 and app.focused is table, "the listing")
        await press(pilot, "enter")
        await until(pilot, lambda: app.train.run.step == trained.step and "loaded mine.pt" in message(app),
                    "the load")
        assert app.train.run.history.train.values == trained.history.train.values
        assert len(app.train.chart.series()["train"][0]) > 10
        assert app.setup.read()[0].model == trained.cfg.model
        await go(pilot, "f5")
        await type_text(pilot, "/greedy")
        await press(pilot, "enter")
        await type_text(pilot, "/len 3")
        await press(pilot, "enter")
        await type_text(pilot, "7 8 9 10")
        await press(pilot, "enter")
        await until(pilot, lambda: "> 7 8 9 10▸ 11 12 13" in app.prompt.text, "the loaded weights answering")


async def test_autosave_keeps_the_best_dev_checkpoint(folder):
    app = SeqlmApp(counting(300))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        assert shown(app.query_one("#autosave-word")) == "off"
        await pilot.click("#autosave")
        await until(pilot, lambda: app.train.autosave and shown(app.query_one("#autosave-word")) == "on")
        await train_to_end(app, pilot)
        best = min(app.train.run.history.dev.values)
        path = folder / "counting-elman-best.pt"
        await until(pilot, lambda: path.exists() and checkpoint.load(path).metrics["dev_loss"] == pytest.approx(best),
                    "the best checkpoint")


async def test_a_damaged_checkpoint_and_divergence_leave_the_app_usable(folder):
    (folder / "junk.pt").write_bytes(b"not a checkpoint")
    cfg = apply(config_for("names-mlp-seed"), {"train": {"lr": 100.0, "steps": 500, "eval_every": 100}})
    app = SeqlmApp(cfg)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await train_to_end(app, pilot)
        assert "lower learning rate" in stats(app) and app.train.run.step < 500
        await until(pilot, lambda: "lower learning rate" in message(app), "the message")
        await go(pilot, "f6")
        table = app.query_one("#ckpt-table")
        await until(pilot, lambda: table.row_count == 1 and "unreadable" in str(table.get_row_at(0)), "the listing")
        run = app.train.run
        await press(pilot, "enter")
        await until(pilot, lambda: "junk.pt is not a readable seqlm-tui checkpoint" in message(app), "the refusal")
        assert app.train.run is run  # nothing was replaced by the bad file
        await app.setup.load_config(counting(50))
        await go(pilot, "f3")
        await train_to_end(app, pilot)
        assert app.train.run.step == 50


async def test_the_browser_lists_hundreds_of_files_from_their_cards_and_updates_only_what_changed(folder,
                                                                                                    monkeypatch):
    """500 checkpoints: every row appears, no weights are read, nothing is read on the interface's
    thread, and a new save changes one row."""
    app = SeqlmApp(counting(20))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await train_to_end(app, pilot)
        first = checkpoint.save(app.train.run, folder / "c000.pt")
        for i in range(1, 500):
            shutil.copy(first, folder / f"c{i:03d}.pt")
        reads: list[str] = []
        real_info, real_payload = checkpoint_list.info, checkpoint.read_payload  # noqa: F841

        def info(path):
            reads.append(threading.current_thread().name)
            return real_info(path)

        def payload(path):
            reads.append("payload:" + threading.current_thread().name)
            return real_payload(path)

        monkeypatch.setattr(checkpoint_list, "info", info)
        monkeypatch.setattr(checkpoint, "read_payload", payload)
        await go(pilot, "f6")
        table = app.query_one("#ckpt-table")
        await until(pilot, lambda: table.row_count == 500, "500 rows")
        assert len(reads) == 500 and not any(r.startswith("payload:") for r in reads)
        assert threading.main_thread().name not in reads
        reads.clear()
        await go(pilot, "f3")
        await save_as(pilot, app, "newest")
        await until(pilot, lambda: table.row_count == 501, "the new row")
        cards = [r for r in reads if not r.startswith("payload:")]
        assert len(cards) == 1 and threading.main_thread().name not in cards  # one card read, elsewhere
        assert f"payload:{threading.main_thread().name}" not in reads  # the save's read-back: in its worker


async def test_a_save_runs_beside_the_interface(folder, monkeypatch):
    """A save held at its slowest point does not hold the keys: panes switch while it waits."""
    mark, release = folder / "mark", folder / "release"
    monkeypatch.setenv("SEQLM_FAULT", "checkpoint.written:hold")
    monkeypatch.setenv("SEQLM_FAULT_MARK", str(mark))
    monkeypatch.setenv("SEQLM_FAULT_RELEASE", str(release))
    app = SeqlmApp(counting(20))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await train_to_end(app, pilot)
        try:
            await save_as(pilot, app, "held")
            await until(pilot, lambda: mark.exists(), "the save to reach its hold")
            for key in ("f4", "f3", "f7", "f3"):
                await go(pilot, key)  # each waits for its pane: the interface answers
            assert not (folder / "held.pt").exists()
        finally:
            release.write_text("go")  # also when the test failed: the held thread must end for the app to close
        await until(pilot, lambda: (folder / "held.pt").exists() and "saved" in message(app), "the save")
