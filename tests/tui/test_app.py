"""The app as a whole: keys described once, the footer, help, quitting, resizing, start-up, threads."""

from __future__ import annotations

import gc
import os
import threading

import pytest
import torch
from textual.widgets import Input

from seqlm_tui.tui import actions
from seqlm_tui.tui.app import SeqlmApp
from seqlm_tui.tui.screens.help import HelpScreen
from seqlm_tui.tui.screens.quit import QuitScreen
from seqlm_tui.tui.threads import leave_a_core_to_the_ui
from seqlm_tui.tui.widgets.key_footer import KeyFooter
from tests.tui.conftest import PANES, counting, go, message, press, screen_text, started, train_to_end, type_text, until


def footer_keys(app) -> set[str]:
    return {b.binding.key for b in app.screen.active_bindings.values() if b.binding.show and b.enabled}


async def test_help_lists_every_action_and_prompt_command_and_resizing_keeps_working():
    app = SeqlmApp(counting())
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await press(pilot, "f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        text = app.screen.body_text()
        for a in actions.ACTIONS:
            assert a.help in " ".join(text.split()), a.id
        for word in ("/reset", "/probs", "/temp X", "ctrl+p"):
            assert word in text, word
        await press(pilot, "escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen), "the help to close")
        await press(pilot, "s")
        for size in ((60, 20), (160, 48), (80, 24)):
            await pilot.resize_terminal(*size)
            await until(pilot, lambda size=size: app.size == size, f"the size {size}")
        await until(pilot, lambda: app.train.state == "idle" and app.train.run.step == 300, "the end of training")


async def test_the_footer_shows_the_keys_that_work_here():
    app = SeqlmApp(counting(10_000_000))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        keys = footer_keys(app)
        assert {"s", "w", "l", "ctrl+s"} <= keys and "x" not in keys and "u" not in keys
        await press(pilot, "s")
        await until(pilot, lambda: "x" in footer_keys(app), "x while training")
        await press(pilot, "x")
        await until(pilot, lambda: "x" not in footer_keys(app), "no x once stopped")
        await go(pilot, "f4")
        await until(pilot, lambda: "u" in footer_keys(app) and "l" not in footer_keys(app), "the Sweep's keys")
        await press(pilot, "2")  # digits switch panes too
        await until(pilot, lambda: app.active_pane == "train")


async def test_the_footer_draws_the_keys_that_work_and_a_click_presses_one():
    app = SeqlmApp(counting(10_000_000))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        footer = app.query_one(KeyFooter)

        def drawn() -> str:
            return screen_text(app).splitlines()[-1]

        def click(key: str):
            start = next(s[0] for s in footer.spans if s[2] == key)
            return pilot.click(KeyFooter, offset=(start + 1, 0))

        await until(pilot, lambda: "s Start" in drawn() and "^q Quit" in drawn(), "the footer drawn")
        assert "x Stop" not in drawn() and "^p palette" in drawn()
        await click("s")
        await until(pilot, lambda: app.train.state == "running", "a click on 's Start' to start training")
        await until(pilot, lambda: "x Stop" in drawn(), "x drawn while training")
        await click("x")
        await until(pilot, lambda: app.train.state == "idle" and "x Stop" not in drawn(), "a click on x to stop")
        await go(pilot, "f4")
        await until(pilot, lambda: "u Use LR" in drawn() and "l Log" not in drawn(), "the Sweep's keys drawn")


async def test_rebinding_an_action_changes_its_key_footer_help_and_palette(monkeypatch):
    from dataclasses import replace

    table = tuple(replace(a, keys="t") if a.id == "start" else a for a in actions.ACTIONS)
    monkeypatch.setattr(actions, "ACTIONS", table)

    class Rebound(SeqlmApp, inherit_bindings=False):  # bindings are read when a class is made
        BINDINGS = actions.bindings()

    app = Rebound(counting(50))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        assert "t" in footer_keys(app) and "s" not in footer_keys(app)
        assert ("t", next(a.help for a in table if a.id == "start")) in actions.help_rows()
        await train_to_end_with(pilot, app, "t")
        from seqlm_tui.tui.commands import SeqlmCommands

        assert any(key == "t" for _, _, key in SeqlmCommands(app.screen).commands())


async def train_to_end_with(pilot, app, key: str) -> None:
    ended = app.train.ended
    await press(pilot, key)
    await until(pilot, lambda: app.train.ended > ended, "training to end")


async def test_quitting_while_training_asks_and_can_save(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(tmp_path))
    app = SeqlmApp(counting(10_000_000))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await press(pilot, "s")
        await until(pilot, lambda: app.train.state == "running" and app.train.run.step > 0)
        await press(pilot, "ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen), "the question")
        await press(pilot, "escape")
        await until(pilot, lambda: not isinstance(app.screen, QuitScreen), "staying")
        assert app.is_running and app.train.state == "running"
        await press(pilot, "ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen), "the question")
        await press(pilot, "s")
        await until(pilot, lambda: not app.is_running, "the app to end")
    saved = list(tmp_path.glob("*.pt"))
    assert len(saved) == 1
    from seqlm_tui.core import checkpoint

    assert checkpoint.load(saved[0]).step > 0


async def test_quitting_while_training_says_so_and_leaves_once_the_run_has_stopped():
    """The training thread used to be waited for after the app had left the screen: a blank terminal for
    seconds. Now the screen says it, and every job's thread has ended before the app leaves."""
    app = SeqlmApp(counting(10_000_000))
    at_exit: list[list[str]] = []
    leave = app.exit

    def exit_(*args, **kw):
        at_exit.append([t.name for t in threading.enumerate() if t.name.startswith("asyncio_")])
        leave(*args, **kw)

    app.exit = exit_
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await press(pilot, "s")
        await until(pilot, lambda: app.train.state == "running" and app.train.run.step > 0)
        await press(pilot, "ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen), "the question")
        await press(pilot, "q")
        await until(pilot, lambda: not app.is_running, "the app to end")
    assert ("information", "stopping the run...") in app.messages.said  # (the screen is gone: its record)
    assert at_exit == [[]]  # no worker thread left: the run had stopped before the app left the screen


async def test_full_collections_wait_for_the_timer_and_python_gets_its_policy_back():
    """A full pass of the cycle collector used to start inside a pane switch (tui.collector)."""
    before = gc.get_threshold()
    app = SeqlmApp(counting(50))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        assert gc.get_threshold()[:2] == before[:2] and gc.get_threshold()[2] > 10 ** 6
        assert gc.get_freeze_count() > 100_000  # torch, Textual and the panes: never walked again
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


async def test_quitting_with_nothing_running_is_immediate():
    app = SeqlmApp(counting(50))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await press(pilot, "ctrl+q")
        await until(pilot, lambda: not app.is_running, "the app to end")


async def test_ctrl_c_says_how_to_quit_in_plain_words():
    app = SeqlmApp(counting(50))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await press(pilot, "ctrl+c")
        await until(pilot, lambda: "to quit the app" in message(app), "the hint")
        assert "Press ctrl+q to quit the app" in message(app) and "[b]" not in message(app)


async def test_resizing_while_the_prompt_streams_keeps_it_going_and_the_layout_follows():
    app = SeqlmApp(counting(300))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await train_to_end(app, pilot)
        await go(pilot, "f5")
        app.prompt.delay = 0.002
        for line in ("/len 400", "/probs"):
            await type_text(pilot, line)
            await press(pilot, "enter")
        await until(pilot, lambda: "(length 400)" in app.prompt.text and app.prompt.show_probs)
        await type_text(pilot, "3 4 5")
        await press(pilot, "enter")
        for size in ((60, 20), (160, 48), (40, 12), (100, 30), (70, 22)):
            await pilot.resize_terminal(*size)
        await until(pilot, lambda: not app.prompt.busy and app.prompt.updates == 400, "every token")
        box = app.query_one("#prompt-input", Input)
        await until(pilot, lambda: app.size == (70, 22) and box.region.width > 0, "the layout")
        assert box.region.right <= 70 and box.region.bottom <= 22  # still on screen
        await type_text(pilot, "7 8")
        await press(pilot, "enter")
        await until(pilot, lambda: not app.prompt.busy and "> 7 8" in app.prompt.text, "the next prompt")


class KeyAtTheFirstFrame(SeqlmApp):
    """Asks for the Prompt pane as the first thing after mounting, before the lazy panes are in."""

    def on_mount(self) -> None:
        self.asked_early = None
        self.call_later(self.ask)

    async def ask(self) -> None:
        self.asked_early = not self.panes_in
        await self.run_action("show('prompt')")


async def test_a_key_pressed_before_the_panes_are_in_runs_once_they_are():
    app = KeyAtTheFirstFrame(counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.asked_early is not None)
        assert app.asked_early  # the case this test is about
        await until(pilot, lambda: app.active_pane == "prompt" and app.focused is not None
                    and app.focused.id == "prompt-input", "the Prompt pane")


async def test_two_pane_keys_in_one_burst_end_on_the_second_pane():
    """F7 then F3 sent together (a paste, a slow SSH link): the first pane's focus is announced after
    the second key has acted, and that late news once switched the tabs back to the first pane. From
    each pane that focuses a widget of its own (Prompt, Checkpoints, Insight) to every other."""
    app = SeqlmApp(counting(20))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await train_to_end(app, pilot)
        for first in ("f5", "f6", "f7"):
            for second in PANES:
                if first == second:
                    continue
                await press(pilot, first, second)
                await pilot.pause()  # until every message the two keys caused is handled
                assert app.active_pane == PANES[second], (first, second)
                focused = app.focused
                pane = app.query_one(f"#{PANES[second]}")
                assert focused is None or pane in focused.ancestors or focused.parent is app.query_one("#tabs"), \
                    (first, second, focused)


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (160, 48)])
async def test_a_message_is_on_screen_above_the_footer_whole(size):
    """The message line once sat under the footer (both docked at the bottom): a one-line message was
    never seen, a longer one lost its last line. Each must be read on the screen itself."""
    app = SeqlmApp(counting(20))
    async with app.run_test(size=size) as pilot:
        await started(app, pilot)
        long = "the long one " + " ".join(f"word{i}" for i in range(size[0] // 4)) + " end-of-it"
        for text in ("a short one", long):
            app.notify(text, severity="error")
            await until(pilot, lambda text=text: text in message(app), "the message")

            def drawn() -> list[str]:
                return [line for line in screen_text(app).splitlines() if line.strip()]

            def whole(text=text) -> bool:
                lines = drawn()
                return "Quit" in lines[-1] and f"error: {text}" in " ".join(" ".join(lines[:-1]).split())

            # drawn a frame or two later, and the footer is rebuilt whenever the keys that work change
            await until(pilot, whole, "the message drawn above the footer")
            lines = drawn()
            assert "Quit" in lines[-1]  # the footer is the last line ...
            shown = " ".join(" ".join(lines[:-1]).split())
            assert f"error: {text}" in shown, (text, lines[-4:])  # ... and the whole message is above it


def test_the_app_leaves_a_core_to_the_interface(monkeypatch):
    before = torch.get_num_threads()
    try:
        for cores, torch_default, want in ((2, 2, 1), (8, 8, 7), (1, 1, 1), (16, 4, 4)):
            monkeypatch.setattr(os, "cpu_count", lambda cores=cores: cores)
            torch.set_num_threads(torch_default)
            leave_a_core_to_the_ui()
            assert torch.get_num_threads() == want, (cores, torch_default)
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_the_footer_shows_the_keys_of_the_pane_in_view_whole(size):
    # The footer is cut at its right edge; the pane's own keys were last and went first ("] Vie" at 80x24,
    # nothing of them at 60x20), though nothing else on screen names them.
    app = SeqlmApp(counting())
    async with app.run_test(size=size) as pilot:
        await started(app, pilot)
        for key, words in (("f3", ["l Log y"]), ("f4", ["u Use LR"]), ("f7", ["m Memory", "r Rates", "] View"])):
            await go(pilot, key)
            await until(pilot, lambda words=words: all(w in screen_text(app).splitlines()[-1] for w in words),
                        f"{words} in the footer")
