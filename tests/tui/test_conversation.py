"""The Prompt pane as a conversation: the end stays in view, the user's words and the model's look apart,
a new model starts a new conversation (and says so first), a stopped continuation is stopped."""

from __future__ import annotations

import html
import re

import pytest

from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.tui.app import SeqlmApp
from tests.tui.conftest import counting, go, message, press, screen_text, started, train_to_end, until
from tests.tui.test_checkpoints import save_as
from tests.tui.test_prompt import say


async def talking(app, pilot) -> None:
    """On the Prompt pane, talking to the app's first model (untrained: what it says does not matter here)."""
    await started(app, pilot)
    await go(pilot, "f5")
    await until(pilot, lambda: app.focused is app.query_one("#prompt-input"), "the prompt line")
    app.prompt.delay = 0


def styled_runs(app) -> list[tuple[str, str]]:
    """(text, CSS of its style) for each run of text in the app's exported screen (the SVG a user saves)."""
    svg = app.export_screenshot()
    css = dict(re.findall(r"\.(terminal-[\w-]+-r\d+)\s*\{([^}]*)\}", svg))
    return [(html.unescape(body).replace("\xa0", " "), css.get(cls, ""))
            for cls, body in re.findall(r'<text class="([\w-]+)"[^>]*>(.*?)</text>', svg, flags=re.S)]


def style_of(app, text: str) -> str:
    """The style of the run of text ``text`` (the last one on screen)."""
    found = [style for run, style in styled_runs(app) if run == text]
    assert found, f"{text!r} is not on screen: {screen_text(app)}"
    return found[-1]


def end_in_view(app) -> bool:
    """The transcript is scrolled to its end, and its last word is on the last line it shows."""
    log = app.prompt.transcript
    rows = [ln.strip(" │▂▃▄▅▆▇█") for ln in screen_text(app).splitlines() if ln.lstrip().startswith("│")]
    rows = [r for r in rows if r]
    return log.scroll_y >= log.max_scroll_y and bool(rows) and rows[-1].endswith(app.prompt.text.split()[-1])


async def fill(pilot, app) -> None:
    """More than the transcript shows at once: the help twice, and an exchange."""
    for _ in range(2):
        await say(pilot, app, "/help", "this list")
    await say(pilot, app, "1 2")
    await until(pilot, lambda: app.prompt.transcript.max_scroll_y > 0, "a transcript longer than its view")


async def test_the_answer_after_a_load_is_in_view():
    app = SeqlmApp(counting(300))
    async with app.run_test(size=(80, 24)) as pilot:
        await talking(app, pilot)
        await go(pilot, "f3")
        await save_as(pilot, app, "mine")
        await until(pilot, lambda: "saved" in message(app), "the save")
        await go(pilot, "f5")
        await fill(pilot, app)
        await go(pilot, "f6")
        table = app.query_one("#ckpt-table")
        await until(pilot, lambda: table.row_count == 1 and app.focused is table, "the listing")
        await press(pilot, "enter")
        await until(pilot, lambda: "loaded mine.pt" in message(app), "the load")
        await go(pilot, "f5")
        await say(pilot, app, "5 6")
        await until(pilot, lambda: end_in_view(app), "the answer's last line on screen")


async def test_the_answer_after_a_new_run_is_in_view_and_a_scrolled_back_view_stays():
    app = SeqlmApp(counting(50))
    async with app.run_test(size=(60, 20)) as pilot:
        await talking(app, pilot)
        await fill(pilot, app)
        await go(pilot, "f3")
        first = app.train.run
        await press(pilot, "n")
        await until(pilot, lambda: app.train.run is not first, "a new run")
        await train_to_end(app, pilot)
        await go(pilot, "f5")
        await say(pilot, app, "5 6")
        await until(pilot, lambda: end_in_view(app), "the answer's last line on screen")
        log = app.prompt.transcript
        await press(pilot, "pageup")  # scrolled up on purpose: new output does not pull the view away
        await until(pilot, lambda: log.scroll_y < log.max_scroll_y, "a page up")
        up = log.scroll_y
        app.prompt.say("a line that arrives while the user reads above")
        await pilot.pause()
        assert log.scroll_y == up
        await say(pilot, app, "7 8")  # a new prompt brings the end back
        await until(pilot, lambda: end_in_view(app), "the end in view again")


@pytest.mark.parametrize("no_color", [False, True])
async def test_the_users_words_and_the_models_look_different(no_color, monkeypatch):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    app = SeqlmApp(counting(300))
    async with app.run_test(size=(80, 24)) as pilot:
        await talking(app, pilot)
        await say(pilot, app, "/len 8", "(length 8)")
        await say(pilot, app, "3 4 5")
        assert "> 3 4 5▸ " in screen_text(app)  # the mark where the model takes over
        second = app.prompt.text.split("▸ ")[-1].split()[1]  # the model's tokens come one by one
        prompt, model = style_of(app, "3 4 5"), style_of(app, f" {second}")
        assert "bold" in prompt and "bold" not in model, (prompt, model)


async def test_another_model_starts_a_fresh_conversation_and_says_so_before_its_reply():
    app = SeqlmApp(counting(300))
    async with app.run_test(size=(100, 30)) as pilot:
        await talking(app, pilot)
        await say(pilot, app, "/len 5", "(length 5)")
        await say(pilot, app, "20 21")
        names = apply(config_for("names-fast"), {"train": {"steps": 50, "eval_every": 50}})
        await app.setup.load_config(names)
        await go(pilot, "f3")
        await press(pilot, "n")
        await until(pilot, lambda: app.train.run.cfg.data.dataset == "names", "the names run")
        await go(pilot, "f5")
        await say(pilot, app, "em")
        text = app.prompt.text
        note = "(another model, mlp on names: a fresh conversation starts here)"
        assert note in text and text.index(note) < text.index("> em"), text[-400:]
        assert "replayed" not in text
        assert app.prompt.context[0] == "em"  # nothing of the counting conversation went into the names model


async def test_a_stopped_continuation_is_marked_and_nothing_of_it_comes_later():
    app = SeqlmApp(counting(300))
    async with app.run_test(size=(100, 30)) as pilot:
        await talking(app, pilot)
        app.prompt.delay = 0.01  # as in the app: the stream takes long enough to be cut
        await say(pilot, app, "/len 5000", "(length 5000)")
        await press(pilot, *"1 2 3", "enter")
        await until(pilot, lambda: app.prompt.updates > 3, "the stream")
        await press(pilot, *"/len 10", "enter")  # typed while it streams: it cuts the stream short
        await until(pilot, lambda: "(length 10)" in app.prompt.text and not app.prompt.busy, "the queued line")
        await say(pilot, app, "/greedy", "(greedy)")
        text = app.prompt.text
        between = text[text.index("(length 10)") + len("(length 10)"):text.index("> /greedy")]
        assert between.strip() == "", repr(between)  # no stray token of the stopped stream
        exchange = text[text.index("> 1 2 3"):text.index("> /len 10")]
        assert exchange.rstrip().endswith("(stopped)"), exchange[-80:]
        shown = len(re.findall(r"\d+", exchange.split("▸", 1)[1]))
        assert app.prompt.gen.history_len == 3 + shown  # the state holds what is on screen, no more
        await say(pilot, app, "/len 5000", "(length 5000)")
        await press(pilot, *"4 5", "enter")  # Escape marks the stop too
        await until(pilot, lambda: app.prompt.busy and app.prompt.updates > 3, "the stream")
        await press(pilot, "escape")
        await until(pilot, lambda: not app.prompt.busy, "the stop")
        assert app.prompt.text.rstrip().endswith("(stopped)")


async def test_the_odds_panel_leaves_the_conversation_at_least_half_the_width_and_temp_0_points_to_greedy():
    app = SeqlmApp(counting(300))
    async with app.run_test(size=(60, 20)) as pilot:
        await talking(app, pilot)
        await say(pilot, app, "/probs", "(next-token probabilities shown)")
        panel, log = app.query_one("#prompt-probs"), app.prompt.transcript
        for size in ((60, 20), (80, 24)):
            await pilot.resize_terminal(*size)
            await until(pilot, lambda size=size: panel.region.width > 0 and app.size == size, "the panel")
            assert log.region.width >= panel.region.width, size
        await say(pilot, app, "/len 3", "(length 3)")
        await say(pilot, app, "7 8")
        await until(pilot, lambda: "%" in screen_text(app), "the odds on screen")
        await say(pilot, app, "/temp 0", "type /greedy")
        await until(pilot, lambda: "/greedy." in screen_text(app), "the hint on screen")
        assert app.prompt.sampling.temperature == 1.0
