"""Helpers for the app's pilot tests: drive it with keys, wait for states (never for a number of seconds)."""

from __future__ import annotations

import html
import re
import time

import pytest
import torch
from textual import events

from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.tui.app import SeqlmApp

PANES = {"f2": "setup", "f3": "train", "f4": "sweep", "f5": "prompt", "f6": "checkpoints", "f7": "insight",
         "f8": "learn"}


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """The models here are tiny: one intra-op thread is faster, and it leaves a core to the UI loop
    (torch's spinning worker threads slow a step fifty-fold when another process holds the cores).
    The app's own policy (all cores but one) is tested on its own, in test_app.py."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class Timeout(AssertionError):
    pass


def seen(app) -> str:
    """What the app showed when a wait ran out: the message line and the end of the prompt's transcript."""
    try:
        return (f"message line {message(app)!r}, pane {app.active_pane!r}, screens "
                f"{[type(s).__name__ for s in app.screen_stack]}, focus {app.focused!r}, "
                f"transcript ends {app.prompt.text[-300:]!r}")
    except Exception as err:  # the app may be half torn down; the timeout itself is the finding
        return f"(app state unreadable: {err})"


async def until(pilot, cond, what: str = "the state", timeout: float = 120.0) -> None:
    """Wait for ``cond()`` to hold; fail saying what did not happen. The timeout is a safety net for a
    hang, far beyond what a busy machine needs: nothing here waits for an amount of time."""
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise Timeout(f"waited {timeout:.0f} s for {what}; {seen(pilot.app)}")
        await pilot.pause(0.02)


def counting(steps: int = 300, **train) -> object:
    return apply(config_for("counting-elman"), {"train": {"steps": steps, "eval_every": 100, **train}})


async def started(app: SeqlmApp, pilot) -> None:
    """The app is up: every pane is in and the first run is built."""
    await until(pilot, lambda: app.panes_in and app.train.run is not None, "the first run")


# Key names of the characters the tests type, as the terminal driver names them.
NAMES = {" ": "space", "/": "slash", ".": "full_stop", "[": "left_square_bracket", "]": "right_square_bracket",
         "?": "question_mark", "-": "minus", ",": "comma", "_": "underscore"}
CHARS = {"enter": "\r", "escape": "\x1b", "space": " ", "backspace": "\x7f", "tab": "\t"}


async def press(pilot, *keys: str) -> None:
    """Keys as the terminal delivers them: each posted to the app in order, then the screen has handled
    them. (Pilot.press also waits for the process to be idle after each key, which while a model trains is
    up to two seconds a key.)"""
    app = pilot.app
    for key in keys:
        name = NAMES.get(key, key)
        char = key if len(key) == 1 else CHARS.get(name)
        app.post_message(events.Key(name, char))
    await pilot.pause(0)


async def go(pilot, key: str) -> None:
    """Press a pane key and wait for the pane, as a person looks before typing on."""
    await press(pilot, key)
    await until(pilot, lambda: pilot.app.active_pane == PANES[key], f"the {PANES[key]} pane")


async def type_text(pilot, text: str) -> None:
    await press(pilot, *text)


def shown(widget) -> str:
    return str(widget.render())


def screen_text(app) -> str:
    """The whole screen as plain text, read from the app's own screenshot (the SVG a user can save): each
    text run put back at its column (Rich writes a run at x = column x its cell width, 12.2)."""
    svg = app.export_screenshot()
    rows: dict[float, dict[int, str]] = {}
    for x, y, body in re.findall(r'<text[^>]*\bx="([0-9.]+)" y="([0-9.]+)"[^>]*>(.*?)</text>', svg, flags=re.S):
        rows.setdefault(float(y), {})[round(float(x) / 12.2)] = html.unescape(body).replace("\xa0", " ")
    lines = []
    for _, runs in sorted(rows.items()):
        line = ""
        for col, text in sorted(runs.items()):
            line = line.ljust(col) + text
        lines.append(line)
    return "\n".join(lines)


def message(app: SeqlmApp) -> str:
    """What the message line above the footer has said (its latest messages, one per line; each stays
    on screen until it expires)."""
    return "\n".join(text for _, text in app.query_one("#messages").said)


def stats(app: SeqlmApp) -> str:
    return shown(app.train.stats)


async def train_to_end(app: SeqlmApp, pilot) -> None:
    ended = app.train.ended
    await press(pilot, "s")
    await until(pilot, lambda: app.train.ended > ended and app.train.state == "idle", "training to end")
    await until(pilot, lambda: "at step" in stats(app) or "could not train" in stats(app), "the final status")
