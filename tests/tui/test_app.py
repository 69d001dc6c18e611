"""Pilot tests: what a user sees in the app."""

import asyncio
import re
from dataclasses import replace

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.widgets import Input, Select

from core import checkpoint, datafiles
from core.errors import SeqlmError
from core.models import registry
from core.presets import apply, config_for
from tui.app import SeqlmApp
from tui.screens.help import HelpScreen
from tui.widgets.config_form import FieldRow
from tui.widgets.prompt_pane import PromptPane


def small_counting(steps=300):
    return apply(config_for("counting-elman"), {"train": {"steps": steps, "eval_every": 100}})


async def wait_for(pilot, cond, timeout=30.0):
    for _ in range(int(timeout / 0.05)):
        if cond():
            return True
        await pilot.pause(0.05)
    return cond()


async def train_to_end(app, pilot):
    await wait_for(pilot, lambda: app.current is not None)
    await type_in(pilot, "s")
    assert await wait_for(pilot, lambda: app.train_state == "running" or app.current.step > 0)
    assert await wait_for(pilot, lambda: app.train_state == "idle" and app.current.step > 0, 60)
    await pilot.pause(0.5)  # the redraw timer shows the last state


PANE_KEYS = {"f2": "setup", "f3": "train", "f4": "sweep", "f5": "prompt", "f6": "checkpoints"}


async def type_in(pilot, *keys: str) -> None:
    """Keys as a terminal delivers them, without Pilot.press's wait for an idle process after each one
    (up to two seconds a key while training or streaming keeps a core busy). After a pane key it waits
    for the pane, as a person does before typing on."""
    app = pilot.app
    for key in keys:
        for k in ([key] if len(key) > 1 else list(key)):
            char = k if len(k) == 1 else {"enter": "\r", "escape": "\x1b"}.get(k)
            name = k if len(k) > 1 or k.isalnum() else _character_to_key(k)
            app._driver.send_message(events.Key(name, char))
            await asyncio.sleep(0)
            if k in PANE_KEYS:
                assert await wait_for(pilot, lambda k=k: app.query_one("#tabs").active == PANE_KEYS[k], 5)
                await pilot.pause(0.05)
    await pilot.pause(0.05)


async def open_setup(app, pilot) -> None:
    await type_in(pilot, "f2")
    assert await wait_for(pilot, lambda: app.setup_pane.ready)
    await pilot.pause()  # the form's controls compose


def row(app, key) -> FieldRow:
    return next(r for r in app.query(FieldRow) if r.key == key)


def shown(widget) -> str:
    return str(widget.render())


def stats(app) -> str:
    return shown(app.train_pane.stats)


def stats_loss(app) -> float | None:
    m = re.search(r"step ([\d,]+)/[\d,]+ +loss ([\d.]+)", stats(app))
    return float(m.group(2)) if m else None


async def test_one_key_trains_the_chart_fills_and_the_loss_falls():
    app = SeqlmApp(small_counting(1_000_000))
    async with app.run_test(size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: app.current is not None)
        assert "Press s to start training" in stats(app)
        assert app.query_one("#tabs").active == "train"
        await type_in(pilot, "s")
        assert await wait_for(pilot, lambda: app.current.step >= 30 and stats_loss(app) is not None)
        early = stats_loss(app)
        assert await wait_for(pilot, lambda: app.current.step >= 400)
        await pilot.pause(0.5)
        late = stats_loss(app)
        assert late < early / 2, (early, late)
        assert "tok/s" in stats(app) and "ETA" in shown(app.train_pane.eta)
        series = app.train_pane.chart.series()
        assert len(series["train"][0]) > 10 and len(series["dev"][0]) >= 3
        assert series["smoothed"][1][-1] < series["smoothed"][1][0] / 2
        assert "samples at step" in shown(app.train_pane.samples)
        # s pauses and resumes, x stops
        await type_in(pilot, "s")
        assert await wait_for(pilot, lambda: app.train_state == "paused")
        assert "paused at step" in stats(app)
        paused_at = app.current.step
        await pilot.pause(0.3)
        assert app.current.step == paused_at
        await type_in(pilot, "s")
        assert await wait_for(pilot, lambda: app.current.step > paused_at + 20)
        await type_in(pilot, "x")
        assert await wait_for(pilot, lambda: app.train_state == "idle")
        await pilot.pause(0.3)
        assert "stopped at step" in stats(app)
        await type_in(pilot, "l")
        assert await wait_for(pilot, lambda: app.train_pane.chart.log_y)


async def test_setup_marks_bad_values_and_blocks_the_start():
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await open_setup(app, pilot)
        lr = row(app, "train.lr")
        box = lr.query_one(Input)
        box.value = "abc"
        await pilot.pause(0.2)
        error = lr.query_one(".field-error")
        assert error.display and "learning rate must be a number, not 'abc'" in shown(error)
        box.value = "-1"
        await pilot.pause(0.2)
        assert "greater than 0" in shown(error)
        box.value = "[bold]"  # shown literally: no markup in messages
        await pilot.pause(0.2)
        assert "'[bold]'" in shown(error)
        app.set_focus(None)
        await type_in(pilot, "s")
        assert await wait_for(pilot, lambda: app.query_one("#tabs").active == "setup", 10)  # sent back to fix it
        assert app.train_state == "idle" and app.current.step == 0
        box.value = "0.02"
        assert await wait_for(pilot, lambda: not lr.error and not error.display, 10)
        # only the fields that matter are shown: momentum only for the momentum optimizer
        assert not row(app, "train.momentum").display
        row(app, "train.optimizer").query_one(Select).value = "momentum"
        assert await wait_for(pilot, lambda: row(app, "train.momentum").display, 10)
        # switching the model rebuilds its hyperparameters and the summary follows
        row(app, "model.model").query_one(Select).value = "mlp"
        assert await wait_for(pilot, lambda: "MLP" in shown(app.query_one("#setup-summary")), 10)
        assert row(app, "model.block_size").value == 3
        row(app, "model.hidden").query_one(Input).value = "64"
        expected = registry.build(replace(registry.defaults_for("mlp"), hidden=64), 128, 0).num_params()
        assert await wait_for(pilot, lambda: f"MLP (Bengio et al.): {expected:,} parameters"
                              in shown(app.query_one("#setup-summary")), 10)
        cfg, problem = app.setup_pane.read()
        assert problem is None and cfg.model.model == "mlp" and cfg.model.hidden == 64 and cfg.train.lr == 0.02
        # and s trains exactly that
        await type_in(pilot, "f3", "s")
        assert await wait_for(pilot, lambda: app.train_state == "idle" and app.current.step == 300, 30)
        assert app.current.cfg.model.model == "mlp" and app.current.cfg.train.optimizer == "momentum"


async def test_a_model_invariant_is_reported_at_the_form():
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await open_setup(app, pilot)
        row(app, "model.model").query_one(Select).value = "transformer"
        await pilot.pause(0.5)
        row(app, "model.heads").query_one(Input).value = "3"
        await pilot.pause(0.3)
        problem = app.query_one("#setup-problem")
        assert problem.display and "divisible by heads 3" in shown(problem)
        assert app.setup_pane.read()[0] is None


async def test_sweep_draws_and_its_suggestion_goes_into_setup():
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await train_to_end(app, pilot)
        await type_in(pilot, "f4")
        steps = app.query_one("#sweep-steps", Input)
        steps.value = "abc"
        app.set_focus(None)
        await type_in(pilot, "w")
        await pilot.pause(0.2)
        assert "sweep steps must be a number" in shown(app.query_one("#sweep-status"))
        steps.value = "150"
        app.set_focus(None)
        await type_in(pilot, "w")
        assert await wait_for(pilot, lambda: app.sweeper is None and app.sweep_pane.lrs, 60)
        await pilot.pause(0.3)
        pane = app.sweep_pane
        assert len(pane.lrs) > 20 and pane.suggested
        # a fresh model, not the trained one: the curve starts near ln(128) = 4.85
        assert pane.losses[0] > 4.0
        assert "suggested learning rate" in shown(pane.query_one("#sweep-status"))
        await type_in(pilot, "u")
        await pilot.pause(0.3)
        assert row(app, "train.lr").value == pytest.approx(float(f"{pane.suggested:.3g}"))
        assert row(app, "train.lr").query_one(Input).value == f"{pane.suggested:.3g}"


async def test_prompt_streams_keeps_state_and_survives_bad_input():
    app = SeqlmApp(small_counting(600))
    async with app.run_test(size=(100, 30)) as pilot:
        await train_to_end(app, pilot)
        await type_in(pilot, "f5")
        prompt = app.query_one(PromptPane)
        await type_in(pilot, *"/greedy", "enter", *"/len 30", "enter")
        assert await wait_for(pilot, lambda: "(greedy)" in prompt.text and "(length 30)" in prompt.text)
        box = app.query_one("#prompt-input", Input)
        box.value = "7 8 9 10"
        # Enter as the terminal delivers it (pilot.press would wait until the app is idle: the end)
        box.post_message(events.Key("enter", "\r"))
        seen = []
        for _ in range(200):
            await asyncio.sleep(0.02)
            seen.append(len(prompt.text))
            if seen[-1] > seen[0] and not prompt.busy:
                break
        assert len(set(seen)) >= 4, seen  # the continuation grew while we watched, token by token
        assert prompt.updates == 30
        line = [ln for ln in prompt.text.splitlines() if ln.startswith("> 7 8 9 10")][0]
        assert line.startswith("> 7 8 9 10 11 12")
        # the state carries: an empty prompt continues the count
        await type_in(pilot, "enter")
        await wait_for(pilot, lambda: not prompt.busy)
        assert prompt.text.splitlines()[-1].startswith("> 41 42")
        prompt.command("/reset")
        assert prompt.gen.history_len == 0 and "(state reset)" in prompt.text
        await type_in(pilot, "enter")
        await wait_for(pilot, lambda: not prompt.busy)
        assert "type a prompt first" in prompt.text
        await type_in(pilot, *"7 x", "enter")
        await pilot.pause(0.3)
        assert "'x' is not a number the model knows" in prompt.text
        await type_in(pilot, *"[bold]", "enter")
        await pilot.pause(0.3)
        assert "> [bold]" in prompt.text  # shown literally, not as markup
        await type_in(pilot, *"3 4", "enter")
        await wait_for(pilot, lambda: not prompt.busy)
        assert "> 3 4 5 6" in prompt.text
        # the prompt line remembers: up brings the last prompt back
        await type_in(pilot, "up")
        assert await wait_for(pilot, lambda: box.value == "3 4")
        await type_in(pilot, "up", "up")
        assert await wait_for(pilot, lambda: box.value == "7 x")
        await type_in(pilot, "down", "down", "down")
        assert await wait_for(pilot, lambda: box.value == "")
        # /probs shows the next-token distribution for the current state
        await type_in(pilot, *"/probs", "enter")
        await pilot.pause(0.2)
        probs = app.query_one("#prompt-probs")
        assert probs.display and "next token" in shown(probs) and "%" in shown(probs)


async def test_escape_stops_a_long_continuation_and_typing_ahead_waits_for_it():
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await train_to_end(app, pilot)
        await type_in(pilot, "f5")
        prompt = app.query_one(PromptPane)
        prompt.command("/len 100000")
        await type_in(pilot, *"1 2", "enter")
        assert await wait_for(pilot, lambda: prompt.updates > 5)
        await type_in(pilot, "escape")
        assert await wait_for(pilot, lambda: not prompt.busy, 5)
        assert prompt.updates < 1000
        # typed while a continuation streams: it runs after, with the state carried
        prompt.command("/greedy")
        prompt.command("/len 200")
        await type_in(pilot, *"5 6", "enter", *"/len 3", "enter")
        assert await wait_for(pilot, lambda: "(length 3)" in prompt.text and not prompt.busy, 10)
        assert prompt.length == 3


async def test_prompt_follows_training_and_replays_the_conversation():
    app = SeqlmApp(small_counting(200))
    async with app.run_test(size=(100, 30)) as pilot:
        await train_to_end(app, pilot)
        await type_in(pilot, "f5")
        prompt = app.query_one(PromptPane)
        prompt.command("/len 2")
        await type_in(pilot, *"20 21", "enter")
        await wait_for(pilot, lambda: not prompt.busy)
        fed = prompt.gen.history_len
        await type_in(pilot, "f3", "s")  # train on: new weights
        assert await wait_for(pilot, lambda: app.train_state == "idle" and app.current.step == 400, 30)
        await type_in(pilot, "f5", *"30", "enter")
        await wait_for(pilot, lambda: not prompt.busy)
        assert "the weights changed: the conversation so far was replayed" in prompt.text
        assert prompt.gen.history_len == fed + 1 + 2  # the old exchange, the new prompt, two tokens


async def test_save_then_load_restores_chart_setup_and_model(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(tmp_path))
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await open_setup(app, pilot)
        row(app, "model.hidden").query_one(Input).value = "24"
        await pilot.pause(0.2)
        app.set_focus(None)
        await train_to_end(app, pilot)
        trained = app.current
        assert trained.cfg.model.hidden == 24
        await type_in(pilot, "ctrl+s")
        await pilot.pause(0.3)
        name_box = app.screen.query_one("#save-name", Input)
        assert name_box.value == "counting-elman-step300"
        name_box.value = "mine"
        await type_in(pilot, "enter")
        await pilot.pause(0.3)
        assert (tmp_path / "mine.pt").exists()
        # the Setup changes and a fresh run replaces the trained one (n)...
        await type_in(pilot, "f2")
        row(app, "model.hidden").query_one(Input).value = "40"
        await pilot.pause(0.2)
        await type_in(pilot, "f3", "n")
        assert await wait_for(pilot, lambda: app.current is not trained and app.current.step == 0)
        assert app.train_pane.chart.series() == {}
        # ...and the checkpoint brings everything back
        await type_in(pilot, "f6")
        await pilot.pause(0.3)
        table = app.query_one("#ckpt-table")
        assert table.row_count == 1 and app.focused is table
        await type_in(pilot, "enter")
        assert await wait_for(pilot, lambda: app.current.step == trained.step)
        await pilot.pause(0.3)
        assert app.current.history.train.values == trained.history.train.values
        assert len(app.train_pane.chart.series()["train"][0]) > 10
        assert app.setup_pane.read()[0].model == trained.cfg.model
        assert row(app, "model.hidden").query_one(Input).value == "24"
        # the loaded weights answer in the prompt
        await type_in(pilot, "f5")
        prompt = app.query_one(PromptPane)
        prompt.command("/greedy")
        prompt.command("/len 3")
        await type_in(pilot, *"7 8 9 10", "enter")
        await wait_for(pilot, lambda: not prompt.busy)
        assert "> 7 8 9 10 11 12 13" in prompt.text


async def test_quit_during_training_exits_cleanly():
    app = SeqlmApp(small_counting(1_000_000))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.current is not None)
        await type_in(pilot, "s")
        assert await wait_for(pilot, lambda: app.current.step > 20)
        trainer = app.trainer
        await type_in(pilot, "ctrl+q")
        await pilot.pause(0.5)
    assert trainer._stop.is_set()
    for _ in range(50):
        if not any(w.is_running for w in app.workers):
            break
        await asyncio.sleep(0.05)
    assert not any(w.is_running for w in app.workers)
    assert app.current.step < 1_000_000


async def test_help_lists_keys_and_commands_and_resizing_keeps_working():
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(80, 24)) as pilot:
        await type_in(pilot, "f1")
        assert await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = app.screen.body_text()
        for word in ("/reset", "/probs", "/temp X", "start training", "ctrl+s", "f6", "ctrl+p"):
            assert word in text, word
        await type_in(pilot, "escape")
        assert await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await type_in(pilot, "s")
        for size in ((60, 20), (160, 48), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.2)
        assert await wait_for(pilot, lambda: app.train_state == "idle" and app.current.step > 0, 60)


async def test_resizing_while_the_prompt_streams_keeps_it_going_and_the_layout_follows():
    app = SeqlmApp(small_counting(300))
    async with app.run_test(size=(100, 30)) as pilot:
        await train_to_end(app, pilot)
        await type_in(pilot, "f5")
        prompt = app.query_one(PromptPane)
        await type_in(pilot, *"/len 400", "enter", *"/probs", "enter")
        assert await wait_for(pilot, lambda: "(length 400)" in prompt.text)
        box = app.query_one("#prompt-input", Input)
        box.value = "3 4 5"
        box.post_message(events.Key("enter", "\r"))
        assert await wait_for(pilot, lambda: prompt.busy, 10)
        for size in ((60, 20), (160, 48), (40, 12), (100, 30), (70, 22)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.05)
        assert await wait_for(pilot, lambda: not prompt.busy, 60)
        assert prompt.updates == 400  # every token arrived despite the resizes
        await pilot.pause(0.3)
        assert app.size == (70, 22)
        assert box.region.width > 0 and box.region.right <= 70 and box.region.bottom <= 22  # still on screen
        await type_in(pilot, *"7 8", "enter")
        assert await wait_for(pilot, lambda: not prompt.busy and "> 7 8" in prompt.text, 30)


async def test_a_key_pressed_at_the_first_frame_is_not_lost():
    # The hidden panes mount just after the first frame; a key that arrives before they are in runs then.
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(100, 30)) as pilot:
        app._driver.send_message(events.Key("f5", None))  # as the terminal delivers it, no waiting
        assert await wait_for(pilot, lambda: app.query_one("#tabs").active == "prompt")
        assert await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "prompt-input")
        assert await wait_for(pilot, lambda: app.current is not None)


async def test_footer_shows_the_keys_that_work_here():
    app = SeqlmApp(small_counting(1_000_000))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.current is not None)

        def keys():
            return {b.binding.key for b in app.screen.active_bindings.values()
                    if b.binding.show and b.enabled}

        assert {"s", "w", "l", "ctrl+s"} <= keys() and "x" not in keys() and "u" not in keys()
        await type_in(pilot, "s")
        assert await wait_for(pilot, lambda: "x" in keys())
        # n (new run) needs a trained step to start afresh from: stopping before the first step leaves none
        assert await wait_for(pilot, lambda: app.current.step > 0)
        await type_in(pilot, "x")
        assert await wait_for(pilot, lambda: "x" not in keys() and "n" in keys())
        await type_in(pilot, "f4")
        await pilot.pause(0.1)
        assert "u" in keys() and "l" not in keys()
        await type_in(pilot, "2")  # digits switch panes too
        assert await wait_for(pilot, lambda: app.query_one("#tabs").active == "train")


async def test_changing_the_dataset_updates_the_summary_or_says_why_not(tmp_path):
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await open_setup(app, pilot)
        assert not row(app, "data.num_steps").display  # counting is not a stream
        assert not row(app, "data.memory_length").display
        row(app, "data.dataset").query_one(Select).value = "memory"
        assert await wait_for(pilot, lambda: "memory: vocabulary 10" in shown(app.query_one("#setup-summary")))
        assert row(app, "data.memory_length").display and not row(app, "data.num_steps").display
        row(app, "data.dataset").query_one(Select).value = "names"
        assert await wait_for(pilot, lambda: "names: vocabulary 27" in shown(app.query_one("#setup-summary")))
        row(app, "data.dataset").query_one(Select).value = "timemachine"
        assert await wait_for(pilot, lambda: "timemachine: vocabulary" in shown(app.query_one("#setup-summary")))
        assert row(app, "data.num_steps").display and row(app, "data.partition").display
        row(app, "data.dataset").query_one(Select).value = "file"
        await pilot.pause(0.2)
        assert row(app, "data.file").display and row(app, "data.mode").display
        row(app, "data.file").query_one(Input).value = str(tmp_path / "missing.txt")
        assert await wait_for(pilot, lambda: "no such file" in shown(app.query_one("#setup-problem")))
        app.set_focus(None)
        await type_in(pilot, "s")
        await pilot.pause(0.5)
        assert app.train_state == "idle" and app.current.cfg.data.dataset == "counting"
        good = tmp_path / "pets.txt"
        good.write_text("\n".join(["rex", "fido", "luna", "milo", "bella", "coco", "max", "nala", "oreo", "kiki",
                                   "toby", "zoe"]))
        row(app, "data.file").query_one(Input).value = str(good)
        assert await wait_for(pilot, lambda: "pets.txt: vocabulary" in shown(app.query_one("#setup-summary")))


async def test_a_dataset_that_cannot_be_fetched_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLM_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(datafiles, "cache_dir", lambda: tmp_path / "cache")

    def offline(url, dest, sha256, timeout=30.0):
        import time

        time.sleep(0.5)
        raise SeqlmError(f"could not download {dest.name} from {url} (network is unreachable); put the file in "
                         f"{dest.parent} or set SEQLM_DATA_DIR to a folder that has it.")

    monkeypatch.setattr(datafiles, "fetch", offline)
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await open_setup(app, pilot)
        row(app, "data.dataset").query_one(Select).value = "names"
        assert await wait_for(pilot, lambda: "downloading names" in shown(app.query_one("#setup-summary")), 5)
        assert await wait_for(pilot, lambda: "network is unreachable" in shown(app.query_one("#setup-problem")), 10)
        app.set_focus(None)
        await type_in(pilot, "s")
        await pilot.pause(1.0)
        assert app.train_state == "idle" and app.current.cfg.data.dataset == "counting"
        # back to counting: everything works again
        row(app, "data.dataset").query_one(Select).value = "counting"
        await pilot.pause(0.3)
        assert not app.query_one("#setup-problem").display
        await type_in(pilot, "s")
        assert await wait_for(pilot, lambda: app.train_state == "idle" and app.current.step == 300, 30)


async def test_divergence_and_a_bad_checkpoint_leave_the_app_usable(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(tmp_path))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    cfg = apply(config_for("names-mlp-seed"), {"train": {"lr": 100.0, "steps": 500}})
    app = SeqlmApp(cfg)
    async with app.run_test(size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: app.current is not None)
        await type_in(pilot, "s")
        assert await wait_for(pilot, lambda: app.train_state == "idle" and app.current.step > 0 or
                              "exploded" in stats(app), 30)
        await pilot.pause(0.3)
        assert "lower learning rate" in stats(app)
        assert app.current.step < 500
        await type_in(pilot, "f6")
        await pilot.pause(0.3)
        table = app.query_one("#ckpt-table")
        assert table.row_count == 1
        await type_in(pilot, "enter")
        await pilot.pause(0.3)
        assert app.current.cfg.train.lr == 100.0  # nothing was replaced by the bad file
        # still usable: a sane learning rate trains
        await type_in(pilot, "f2")
        await pilot.pause(0.2)
        row(app, "train.lr").query_one(Input).value = "0.1"
        row(app, "train.steps").query_one(Input).value = "50"
        await pilot.pause(0.2)
        await type_in(pilot, "f3", "s")
        assert await wait_for(pilot, lambda: app.train_state == "idle" and app.current.step >= 50, 30)


async def test_presets_from_the_palette_fill_the_setup():
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.3)
        for name, model, hidden in (("timemachine-rnn", "rnn", 256), ("names-mlp-seed", "mlp", 200),
                                    ("counting-elman", "elman", 32)):
            app.apply_preset(name)

            def shows(model=model, hidden=hidden):
                cfg, problem = app.setup_pane.read()
                return problem is None and cfg.model.model == model and cfg.model.hidden == hidden

            assert await wait_for(pilot, shows, 10)
            assert len(app.query("#form-model")) == 1
        await type_in(pilot, "ctrl+p")
        await pilot.pause(0.3)
        await type_in(pilot, *"names-fast")
        await pilot.pause(0.5)
        await type_in(pilot, "enter")

        def fast():
            cfg, _ = app.setup_pane.read()
            return cfg is not None and cfg.data.dataset == "names" and cfg.data.batch_size == 512 \
                and cfg.model.hidden == 256

        assert await wait_for(pilot, fast, 10)
        # presets chosen faster than the form can follow load in order: the last one wins
        for name in ("timemachine-rnn", "names-transformer", "memory-lstm", "names-mlp-seed"):
            app.apply_preset(name)
        assert await wait_for(pilot, lambda: shows("mlp", 200), 15)
        assert len(app.query("#form-model")) == 1


async def test_autosave_keeps_the_best_dev_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(tmp_path))
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(100, 30)) as pilot:
        assert shown(app.query_one("#autosave-word")) == "off"
        await pilot.click("#autosave")
        await pilot.pause(0.1)
        assert app.train_pane.autosave and shown(app.query_one("#autosave-word")) == "on"
        await train_to_end(app, pilot)
        saved = checkpoint.load(tmp_path / "counting-elman-best.pt")
        best = min(app.current.history.dev.values)
        assert saved.metrics["dev_loss"] == pytest.approx(best)


async def test_names_complete_and_stop_at_the_end_of_a_name():
    cfg = apply(config_for("names-fast"), {"model": {"model": "bigram-counts", "smoothing": 1.0},
                                           "train": {"steps": 1}})
    app = SeqlmApp(cfg)
    async with app.run_test(size=(100, 30)) as pilot:
        await train_to_end(app, pilot)  # counting the bigrams is one pass
        await type_in(pilot, "f5")
        prompt = app.query_one(PromptPane)
        prompt.command("/seed 1")
        await type_in(pilot, *"em", "enter")
        await wait_for(pilot, lambda: not prompt.busy)
        line = [ln for ln in prompt.text.splitlines() if ln.startswith("> em")][0]
        assert 1 <= prompt.updates < 100 and line[2:].isalpha() and line[2:].islower()  # a whole name, then stop
        assert prompt.context == []  # the name is complete: what follows starts a new one
        await type_in(pilot, *"Zo3", "enter")
        await pilot.pause(0.3)
        assert "the model does not know" in prompt.text.splitlines()[-1]
        await type_in(pilot, "enter")  # an empty line: a new name from scratch
        await wait_for(pilot, lambda: not prompt.busy)
        assert prompt.text.splitlines()[-1].startswith("> ") and len(prompt.text.splitlines()[-1]) > 3
