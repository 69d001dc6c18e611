"""What the terminal says it can do is believed: TERM=dumb gets ASCII and no colour, a locale that is not
UTF-8 (LANG=C) gets ASCII; the autosave switch and the health axis tell the truth too."""

from __future__ import annotations

import re

import pytest

from seqlm_tui.core.fmt import cell_width
from seqlm_tui.tui import terminal
from seqlm_tui.tui.app import SeqlmApp
from tests.tui.conftest import counting, go, press, screen_text, started, train_to_end, until


@pytest.mark.parametrize("env,ascii_only,colour", [
    ({}, False, True),                                                  # nothing said: UTF-8
    ({"LANG": "en_GB.UTF-8"}, False, True),
    ({"LANG": "C"}, True, True),
    ({"LANG": "C", "LC_CTYPE": "C.UTF-8"}, True, True),                 # Python's coercion of LANG=C
    ({"LANG": "C.UTF-8", "LC_CTYPE": "C.UTF-8"}, False, True),
    ({"LC_ALL": "POSIX", "LANG": "en_US.UTF-8"}, True, True),           # LC_ALL decides
    ({"LANG": "de_DE.ISO-8859-1"}, True, True),
    ({"TERM": "dumb", "LANG": "en_US.utf8"}, True, False),
    ({"TERM": "xterm-256color", "LANG": "en_US.utf8"}, False, True),
])
def test_what_the_environment_says(env, ascii_only, colour):
    assert terminal.detect(env) == terminal.Terminal(ascii=ascii_only, colour=colour)


def test_ascii_keeps_every_cell_where_it_was():
    for text in ("╭──╮│▸ 3 4▸ 5…", "█▉▊▋▌▍▎▏ ░▒▓", "⠁⣿▚▞", "こんにちは", "e\u0301", "😀 ⏎ ␣ →"):
        out = terminal.to_ascii(text)
        assert out.isascii() and cell_width(out) == cell_width(text), (text, out)


@pytest.mark.parametrize("env", [{"TERM": "dumb"}, {"LANG": "C", "LC_CTYPE": "C.UTF-8"}])
async def test_the_app_draws_ascii_when_the_terminal_asks_for_it(env, monkeypatch):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("LC_ALL", raising=False)
    app = SeqlmApp(counting(300))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await train_to_end(app, pilot)
        await go(pilot, "f5")
        await press(pilot, *"3 4", "enter")
        await until(pilot, lambda: app.prompt.answered == 1, "an answer")
        await until(pilot, lambda: "> 3 4|" in screen_text(app), "the conversation, its mark in ASCII")
        text = screen_text(app)
        assert text.isascii(), {c for c in text if not c.isascii()}
        colours = set(re.findall(r"\.terminal-[\w-]+-r\d+ \{[^}]*fill: (#[0-9a-f]{6})", app.export_screenshot()))
        if "TERM" in env:
            assert len(colours) <= 2, colours  # no colour: the default foreground and background only
        else:
            assert len(colours) > 2, colours  # ASCII, and colours as before


async def test_the_autosave_switch_shows_its_focus_without_colour(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = SeqlmApp(counting(300))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        label = app.query_one("#autosave-label")
        assert not label.rich_style.reverse
        app.train.switch.focus()
        await until(pilot, lambda: label.rich_style.reverse, "the label in reverse video")
        app.set_focus(None)
        await until(pilot, lambda: not label.rich_style.reverse, "the label plain again")
