"""No keystroke is lost: keys sent in one burst, or a few milliseconds apart, into every kind of Setup field
arrive whole and in order (a typed character used to overtake the backspace before it)."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Input, Select, Switch

from seqlm_tui.tui.app import SeqlmApp
from tests.tui.conftest import counting, press, until
from tests.tui.test_setup import open_setup, row


async def burst(pilot, keys, spacing: float) -> None:
    """Keys as a terminal delivers them: all at once, or ``spacing`` seconds apart (a fast typist)."""
    for key in keys:
        await press(pilot, key)
        if spacing:
            await asyncio.sleep(spacing)


async def focus(pilot, app, widget) -> None:
    widget.focus()
    await until(pilot, lambda: app.focused is widget, f"the focus on {widget.id}")


# (field, what it holds first, the keys, what it must hold after them)
TEXT_CASES = [
    ("data.batch_size", "48", ["end", "backspace", "backspace", "3", "2"], "32"),
    ("train.lr", "0.004", ["end", "backspace", "backspace", "backspace", "2", "5"], "0.25"),
    ("train.steps", "300", ["home", "delete", "5", "end", "0"], "5000"),
    ("data.file", "", [*"a.txt", "home", "delete", "b"], "b.txt"),
]


@pytest.mark.parametrize("spacing", [0, 0.02])
async def test_key_bursts_into_every_kind_of_setup_field_arrive_whole(spacing):
    app = SeqlmApp(counting(300, lr=0.004))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_setup(app, pilot)
        row(app, "data.dataset").query_one(Select).value = "file"  # so that the path box shows
        await until(pilot, lambda: row(app, "data.file").display, "the file path box")
        for key, first, keys, after in TEXT_CASES:
            box = row(app, key).query_one(Input)
            box.value = first
            await focus(pilot, app, box)
            box.cursor_position = len(first)
            await burst(pilot, keys, spacing)
            await until(pilot, lambda box=box, after=after: box.value == after, f"{key} to hold {after!r}")
            assert app.active_pane == "setup" and app.focused is box
        # a choice: open the menu, move, choose, in one burst
        choice = row(app, "data.dataset").query_one(Select)
        choice.value = "counting"
        await focus(pilot, app, choice)
        await burst(pilot, ["enter", "down", "down", "enter"], spacing)
        await until(pilot, lambda: choice.value == "timemachine" and app.focused is choice, "timemachine chosen")
        # a switch: three toggles
        switch = row(app, "model.one_hot").query_one(Switch)
        before = switch.value
        await focus(pilot, app, switch)
        await burst(pilot, ["space", "space", "space"], spacing)
        await until(pilot, lambda: row(app, "model.one_hot").value == (not before), "three toggles")
