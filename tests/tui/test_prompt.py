"""The Prompt pane: streaming token by token, the state carried, commands, bad input, names."""

from __future__ import annotations

import re

import pytest
from textual.widgets import Input

from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.tui.app import SeqlmApp
from seqlm_tui.tui.widgets.transcript import MARK
from tests.tui.conftest import counting, go, press, screen_text, shown, started, train_to_end, type_text, until


async def trained(app, pilot) -> None:
    await started(app, pilot)
    await train_to_end(app, pilot)
    await go(pilot, "f5")
    await until(pilot, lambda: app.focused is app.query_one("#prompt-input"), "the prompt line")
    app.prompt.delay = 0  # the pause between tokens is for the eye; the tests count the tokens instead


async def say(pilot, app, line: str, done: str | None = None) -> None:
    """Type a line and press Enter; wait until the answer is in (``done`` in the transcript, or the
    continuation finished)."""
    before, answered = app.prompt.text, app.prompt.answered
    if len(line) > 12:
        app.query_one("#prompt-input", Input).insert_text_at_cursor(line)  # a paste
    else:
        await type_text(pilot, line)
    await press(pilot, "enter")
    if done is not None:
        await until(pilot, lambda: done in app.prompt.text[len(before) - 200 if len(before) > 200 else 0:],
                    f"{done!r} in the transcript")
    if line.startswith("/"):
        await until(pilot, lambda: app.prompt.text != before, "the command's answer")
    else:
        await until(pilot, lambda: app.prompt.answered > answered, "the whole continuation")


def last_exchange(app) -> str:
    """The last prompt and its continuation, without the mark where the model took over."""
    lines = [ln for ln in app.prompt.text.splitlines() if ln.startswith("> ") and not ln.startswith("> /")]
    return lines[-1].replace(MARK, "")


async def test_prompt_streams_keeps_state_and_survives_bad_input():
    app = SeqlmApp(counting(600))
    async with app.run_test(size=(100, 30)) as pilot:
        await trained(app, pilot)
        await say(pilot, app, "/greedy", "(greedy)")
        await say(pilot, app, "/len 30", "(length 30)")
        assert "> /greedy" in app.prompt.text  # commands are echoed in the transcript
        await say(pilot, app, "7 8 9 10")
        assert app.prompt.updates == 30  # each token was its own update of the transcript
        assert last_exchange(app).startswith("> 7 8 9 10 11 12")
        await say(pilot, app, "")  # the state carries: an empty prompt continues the count
        assert last_exchange(app).startswith("> 41 42")
        await say(pilot, app, "/reset", "(state reset)")
        await say(pilot, app, "", "type a prompt first")
        await say(pilot, app, "7 x", "'x' is not a number the model knows")
        await say(pilot, app, "[bold]")
        assert "> [bold]" in app.prompt.text  # shown literally, not as markup
        await say(pilot, app, "3 4")
        assert last_exchange(app).startswith("> 3 4 5 6")
        box = app.query_one("#prompt-input", Input)
        await press(pilot, "up")
        await until(pilot, lambda: box.value == "3 4", "the last prompt")
        await press(pilot, "up", "up")
        await until(pilot, lambda: box.value == "7 x", "an older prompt")
        await press(pilot, "down", "down", "down")
        await until(pilot, lambda: box.value == "", "the empty line")
        await say(pilot, app, "/probs", "(next-token probabilities shown)")
        probs = app.query_one("#prompt-probs")
        await until(pilot, lambda: probs.display and "%" in shown(probs), "the odds")


async def test_temp_topk_and_seed_do_what_help_says():
    app = SeqlmApp(counting(300))
    async with app.run_test(size=(100, 30)) as pilot:
        await trained(app, pilot)
        await say(pilot, app, "/len 12", "(length 12)")
        outs = []
        for _ in range(2):
            await say(pilot, app, "/seed 5", "(seed 5)")
            await say(pilot, app, "/reset", "(state reset)")
            await say(pilot, app, "1 2")
            outs.append(last_exchange(app))
        assert outs[0] == outs[1]  # /seed makes a continuation reproducible
        await say(pilot, app, "/topk 1", "(top-k 1)")
        await say(pilot, app, "/reset")
        await say(pilot, app, "1 2")
        topk1 = last_exchange(app)
        await say(pilot, app, "/greedy", "(greedy)")
        await say(pilot, app, "/reset")
        await say(pilot, app, "1 2")
        assert last_exchange(app) == topk1  # top-1 sampling is greedy
        await say(pilot, app, "/temp 0.5", "(temperature 0.5, sampling)")
        assert app.prompt.sampling.temperature == 0.5 and not app.prompt.sampling.greedy
        await say(pilot, app, "/temp 0", "temperature must be a positive number")
        await say(pilot, app, "/temp abc", "/temp needs a number, not 'abc'")
        await say(pilot, app, "/topk -2", "top-k must be 0 (off) or a positive whole number")


async def test_escape_stops_a_long_continuation_and_typing_ahead_waits_for_it():
    app = SeqlmApp(counting(300))
    async with app.run_test(size=(100, 30)) as pilot:
        await trained(app, pilot)
        await say(pilot, app, "/len 100000", "(length 100000)")
        await type_text(pilot, "1 2")
        await press(pilot, "enter")
        await until(pilot, lambda: app.prompt.updates > 5, "the stream")
        await press(pilot, "escape")
        await until(pilot, lambda: not app.prompt.busy, "the stop")
        assert app.prompt.updates < 100000
        await say(pilot, app, "/len 200", "(length 200)")
        await type_text(pilot, "5 6")
        await press(pilot, "enter")
        await until(pilot, lambda: app.prompt.busy, "the stream")
        await type_text(pilot, "/len 3")
        await press(pilot, "enter")  # typed while it streams: it cuts it short, then runs
        await until(pilot, lambda: "(length 3)" in app.prompt.text and not app.prompt.busy, "the queued line")
        assert app.prompt.length == 3


async def test_prompt_follows_training_and_replays_the_conversation():
    app = SeqlmApp(counting(200))
    async with app.run_test(size=(100, 30)) as pilot:
        await trained(app, pilot)
        await say(pilot, app, "/len 2", "(length 2)")
        await say(pilot, app, "20 21")
        fed = app.prompt.gen.history_len
        await go(pilot, "f3")
        await train_to_end(app, pilot)  # train on: new weights
        assert app.train.run.step == 400
        await go(pilot, "f5")
        await say(pilot, app, "30", "newer weights of the same run: the conversation so far is replayed")
        assert app.prompt.gen.history_len == fed + 1 + 2  # the old exchange, the new prompt, two tokens


async def test_names_continue_with_a_fresh_name_after_each_one_and_say_where_it_comes_from():
    cfg = apply(config_for("names-fast"), {"train": {"steps": 300, "eval_every": 100}})
    app = SeqlmApp(cfg)
    async with app.run_test(size=(100, 30)) as pilot:
        await trained(app, pilot)
        names = []
        for _ in range(8):
            await say(pilot, app, "")
            names.append(last_exchange(app)[2:])
        assert all(re.fullmatch(r"[a-z]+", n) for n in names), names  # never an empty name
        assert re.search(r"\((new: not in the data|in train|in dev/test)\)", app.prompt.text)
        await say(pilot, app, "/reset", "(state reset)")
        await say(pilot, app, "")
        assert re.fullmatch(r"> [a-z]+", last_exchange(app))
        await say(pilot, app, "em")
        assert re.fullmatch(r"> em[a-z]*", last_exchange(app))


async def test_keys_typed_right_behind_a_pane_key_reach_that_pane():
    """F5 and a prompt sent in one burst (pasted, or over a slow SSH link): every key is already queued
    before the switch is announced, and none may go to the pane left behind or nowhere."""
    app = SeqlmApp(counting(200))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await train_to_end(app, pilot)
        app.prompt.delay = 0
        await press(pilot, "f5", *"3 4", "enter")
        await until(pilot, lambda: app.prompt.answered == 1, "the continuation")
        assert "> 3 4" in app.prompt.text
        await press(pilot, "f3", "f5", *"9", "enter")  # away and back in the same burst
        await until(pilot, lambda: app.prompt.answered == 2, "the second continuation")
        assert last_exchange(app).startswith("> 9")


@pytest.mark.parametrize("size", [(60, 20), (80, 24)])
async def test_the_transcript_scrolls_from_the_keyboard(size):
    # The transcript takes no focus, so without these keys its older lines (the top of /help at 60x20)
    # could not be read again.
    app = SeqlmApp(counting())
    async with app.run_test(size=size) as pilot:
        await started(app, pilot)
        await go(pilot, "f5")
        await until(pilot, lambda: app.focused is app.query_one("#prompt-input"), "the prompt line")
        log = app.prompt.transcript
        for _ in range(3):
            await say(pilot, app, "/help", "this list")
        await until(pilot, lambda: log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y, "the end shown")
        await press(pilot, "pageup")
        await until(pilot, lambda: log.scroll_y < log.max_scroll_y, "a page up")
        await press(pilot, "ctrl+home")
        await until(pilot, lambda: log.scroll_y == 0 and "Type a prompt: the model" in screen_text(app),
                    "the first line on screen")
        await press(pilot, "pagedown")
        await until(pilot, lambda: log.scroll_y > 0, "a page down")
        await press(pilot, "ctrl+end")
        await until(pilot, lambda: log.scroll_y == log.max_scroll_y, "the end again")
        assert app.focused is app.query_one("#prompt-input")  # and typing still goes to the prompt
