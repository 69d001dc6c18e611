"""Pilot tests: what a user sees in the app."""

import asyncio

import pytest
from textual.widgets import Input, Select

from core import checkpoint
from core.presets import apply, config_for
from tui.app import SeqlmApp
from tui.widgets.config_form import FieldRow
from tui.widgets.prompt_pane import PromptPane


def small_counting(steps=300):
    return apply(config_for("counting-elman"), {"train": {"steps": steps, "eval_every": 100}})


async def wait_for(pilot, cond, timeout=30.0):
    for _ in range(int(timeout / 0.1)):
        if cond():
            return True
        await pilot.pause(0.1)
    return cond()


async def train_to_end(app, pilot):
    await wait_for(pilot, lambda: app.current is not None)
    await pilot.press("s")
    assert await wait_for(pilot, lambda: app.train_state == "running" or app.current.step > 0)
    assert await wait_for(pilot, lambda: app.train_state == "idle" and app.current.step > 0, 60)
    await pilot.pause(0.4)


def row(app, key) -> FieldRow:
    return next(r for r in app.query(FieldRow) if r.key == key)


async def test_one_key_trains_and_the_chart_fills():
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await train_to_end(app, pilot)
        chart = app.train_pane.chart
        series = chart.series()
        assert len(series["train"][0]) > 10 and len(series["dev"][0]) == 3
        smooth = series["smoothed"][1]
        assert smooth[-1] < smooth[0] / 2  # the loss fell
        stats = str(app.train_pane.stats.render())
        assert "finished at step 300" in stats and "dev" in stats
        assert "samples at step 300" in str(app.train_pane.samples.render())


async def test_setup_validates_and_blocks_start():
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        lr = row(app, "train.lr")
        box = lr.query_one(Input)
        box.value = "abc"
        await pilot.pause(0.2)
        assert "learning rate must be a number" in str(lr.query_one(".field-error").render())
        box.value = "-1"
        await pilot.pause(0.2)
        assert "greater than 0" in str(lr.query_one(".field-error").render())
        await pilot.press("s")
        await pilot.pause(0.3)
        assert app.train_state == "idle" and app.current.step == 0
        box.value = "0.02"
        await pilot.pause(0.2)
        assert not lr.error
        # switching the model rebuilds its hyperparameters and the summary follows
        row(app, "model.model").query_one(Select).value = "mlp"
        await pilot.pause(0.5)
        assert row(app, "model.block_size").value == 3
        assert "MLP" in str(app.query_one("#setup-summary").render())
        row(app, "model.hidden").query_one(Input).value = "64"
        await pilot.pause(0.3)
        cfg, problem = app.setup_pane.read()
        assert problem is None and cfg.model.model == "mlp" and cfg.model.hidden == 64 and cfg.train.lr == 0.02


async def test_sweep_and_use_the_suggestion():
    app = SeqlmApp(small_counting())
    app.sweep_steps = 200
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.current is not None)
        await pilot.press("w")
        assert await wait_for(pilot, lambda: app.sweeper is None and app.sweep_pane.lrs, 60)
        await pilot.pause(0.3)
        pane = app.sweep_pane
        assert len(pane.lrs) > 20 and pane.suggested
        assert "suggested learning rate" in str(pane.query_one("#sweep-status").render())
        await pilot.press("u")
        await pilot.pause(0.3)
        assert row(app, "train.lr").value == pytest.approx(float(f"{pane.suggested:.3g}"))


async def test_prompt_streams_and_keeps_state():
    app = SeqlmApp(small_counting(600))
    async with app.run_test(size=(100, 30)) as pilot:
        await train_to_end(app, pilot)
        await pilot.press("f5")
        prompt = app.query_one(PromptPane)
        prompt.command("/greedy")
        prompt.command("/len 30")
        await pilot.press(*"7 8 9 10", "enter")
        await wait_for(pilot, lambda: not prompt.busy)
        assert prompt.updates == 30  # one update of the log per generated token: it grew as it came
        line = [ln for ln in prompt.text.splitlines() if ln.startswith("> 7 8 9 10")][0]
        assert line.startswith("> 7 8 9 10 11 12")
        # the state carries: an empty prompt continues the count
        await pilot.press("enter")
        await wait_for(pilot, lambda: not prompt.busy)
        assert prompt.gen.history_len > 60
        prompt.command("/reset")
        assert prompt.gen.history_len == 0
        await pilot.press(*"7 x", "enter")
        await pilot.pause(0.3)
        assert "'x' is not a number the model knows" in prompt.text
        await pilot.press(*"[bold]", "enter")
        await pilot.pause(0.3)
        assert "[bold]" in prompt.text  # shown literally, not as markup
        await pilot.press(*"3 4", "enter")
        await wait_for(pilot, lambda: not prompt.busy)
        assert "> 3 4 5 6" in prompt.text


async def test_save_then_load_restores_chart_and_model(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(tmp_path))
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await train_to_end(app, pilot)
        trained = app.current
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        name_box = app.screen.query_one("#save-name", Input)
        name_box.value = "mine"
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert (tmp_path / "mine.pt").exists()
        # a fresh run replaces the trained one, then the checkpoint brings it back
        app.adopt(checkpoint.load(tmp_path / "mine.pt"))
        app.current = None
        await pilot.press("f6")
        await pilot.pause(0.3)
        table = app.query_one("#ckpt-table")
        assert table.row_count == 1
        table.focus()
        await pilot.press("enter")
        await pilot.pause(0.5)
        assert app.current is not None and app.current.step == trained.step
        assert app.current.history.train.values == trained.history.train.values
        assert len(app.train_pane.chart.series()["train"][0]) > 10
        assert app.setup_pane.read()[0].model == trained.cfg.model


async def test_quit_during_training_exits_cleanly():
    app = SeqlmApp(small_counting(1_000_000))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.current is not None)
        await pilot.press("s")
        assert await wait_for(pilot, lambda: app.current.step > 20)
        trainer = app.trainer
        await pilot.press("ctrl+q")
        await pilot.pause(0.5)
    assert trainer._stop.is_set()
    for _ in range(50):
        if not any(w.is_running for w in app.workers):
            break
        await asyncio.sleep(0.05)
    assert app.current.step < 1_000_000


async def test_help_and_resize_keep_working():
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await pilot.pause(0.2)
        text = str(app.screen.query_one("Static").render())
        assert "/reset" in text and "Start/Pause" in text
        await pilot.press("escape")
        await pilot.press("s")
        for size in ((60, 20), (160, 48), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.2)
        assert await wait_for(pilot, lambda: app.train_state == "idle" and app.current.step > 0, 60)


async def test_changing_the_dataset_updates_the_summary_or_says_why_not(tmp_path):
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        await pilot.pause(0.3)
        row(app, "data.dataset").query_one(Select).value = "names"
        assert await wait_for(pilot, lambda: "names: vocabulary 27" in str(
            app.query_one("#setup-summary").render()))
        row(app, "data.dataset").query_one(Select).value = "file"
        await pilot.pause(0.2)
        assert row(app, "data.file").display and row(app, "data.mode").display
        row(app, "data.file").query_one(Input).value = str(tmp_path / "missing.txt")
        assert await wait_for(pilot, lambda: "no such file" in str(app.query_one("#setup-problem").render()))
        await pilot.press("s")
        await pilot.pause(0.5)
        assert app.train_state == "idle" and app.current.cfg.data.dataset == "counting"
        good = tmp_path / "pets.txt"
        good.write_text("\n".join(["rex", "fido", "luna", "milo", "bella", "coco", "max", "nala", "oreo", "kiki",
                                   "toby", "zoe"]))
        row(app, "data.file").query_one(Input).value = str(good)
        assert await wait_for(pilot, lambda: "pets.txt: vocabulary" in str(app.query_one("#setup-summary").render()))


async def test_divergence_and_a_bad_checkpoint_leave_the_app_usable(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(tmp_path))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    cfg = apply(config_for("names-mlp-seed"), {"train": {"lr": 100.0, "steps": 500}})
    app = SeqlmApp(cfg)
    async with app.run_test(size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: app.current is not None)
        await pilot.press("s")
        assert await wait_for(pilot, lambda: app.train_state == "idle" and app.current.step > 0 or
                              "exploded" in str(app.train_pane.stats.render()), 30)
        await pilot.pause(0.3)
        assert "lower learning rate" in str(app.train_pane.stats.render())
        assert app.current.step < 500
        await pilot.press("f6")
        await pilot.pause(0.3)
        table = app.query_one("#ckpt-table")
        assert table.row_count == 1
        table.focus()
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert app.current.cfg.train.lr == 100.0  # nothing was replaced by the bad file
        # still usable: a sane learning rate trains
        await pilot.press("f2")
        await pilot.pause(0.2)
        row(app, "train.lr").query_one(Input).value = "0.1"
        row(app, "train.steps").query_one(Input).value = "50"
        await pilot.pause(0.2)
        await pilot.press("f3", "s")
        assert await wait_for(pilot, lambda: app.train_state == "idle" and app.current.step >= 50, 30)


async def test_presets_from_the_palette_fill_the_setup():
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.3)
        for name, model, hidden in (("timemachine-rnn", "rnn", 256), ("names-mlp-seed", "mlp", 200),
                                    ("counting-elman", "elman", 32)):
            app.apply_preset(name)
            await pilot.pause(0.6)
            cfg, problem = app.setup_pane.read()
            assert problem is None and cfg.model.model == model and cfg.model.hidden == hidden
            assert len(app.query("#form-model")) == 1
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"names-fast")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.8)
        cfg, _ = app.setup_pane.read()
        assert cfg.data.dataset == "names" and cfg.data.batch_size == 512 and cfg.model.hidden == 256


async def test_autosave_keeps_the_best_dev_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(tmp_path))
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(100, 30)) as pilot:
        app.train_pane.switch.value = True
        await train_to_end(app, pilot)
        saved = checkpoint.load(tmp_path / "counting-elman-best.pt")
        best = min(app.current.history.dev.values)
        assert saved.metrics["dev_loss"] == pytest.approx(best)
