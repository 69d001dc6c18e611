"""80x24 first: every Setup field can be reached with Tab and is on screen when it has the focus, for every
model, at 80x24 and 60x20; the tabs and the footer fit narrow terminals."""

from __future__ import annotations

import pytest

from seqlm_tui.core.models import registry
from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.tui.app import SeqlmApp
from seqlm_tui.tui.widgets.config_form import FieldRow
from tests.tui.conftest import go, press, started, until


def many_fields(model: str):
    """A setup that shows as many fields as the model has: stream data, momentum, a cosine schedule."""
    return apply(config_for(None, model), {"data": {"dataset": "timemachine"},
                                           "train": {"optimizer": "momentum", "schedule": "cosine"}})


# Every model at 80x24; at 60x20 the two with the most fields (the others' forms are subsets of theirs).
CASES = [((80, 24), m) for m in registry.MODELS] + [((60, 20), m) for m in ("transformer", "lstm")]


@pytest.mark.parametrize("size,model", CASES, ids=[f"{w}x{h}-{m}" for (w, h), m in CASES])
async def test_tab_reaches_every_setup_field_and_the_view_follows(size, model):
    app = SeqlmApp(many_fields(model))
    app.animation_level = "none"  # the view jumps to the focused field instead of gliding there
    async with app.run_test(size=size) as pilot:
        await started(app, pilot)
        await go(pilot, "f2")
        await until(pilot, lambda: app.setup.ready)
        await until(pilot, lambda: app.setup.read()[0] is not None
                    and app.setup.read()[0].model.model == model, f"the {model} form")
        await pilot.pause()  # the form's rows shown or hidden for this model are laid out
        rows = [r for r in app.setup.query(FieldRow) if r.display]
        controls = [r.control for r in rows]
        seen = []
        app.set_focus(None)
        for _ in range(len(controls) + 3):
            before = app.focused
            await press(pilot, "tab")
            await until(pilot, lambda before=before: app.focused is not before, "the focus to move")
            focused = app.focused
            if focused in seen:
                break
            if focused in controls:
                seen.append(focused)
                label = next(r for r in rows if r.control is focused).query_one(".field-label")

                def in_view(focused=focused, label=label) -> bool:
                    view = app.setup.region
                    help_line = app.setup.query_one("#setup-help")  # docked at the bottom: not under it
                    if help_line.display:
                        view = view.intersection(view._replace(height=help_line.region.y - view.y))
                    return (focused.region.height > 0 and view.contains_region(focused.region)
                            and view.contains_region(label.region))  # its name shows too

                # the view follows the focus a frame later: wait for that state, not for a time
                await until(pilot, in_view, f"{model}: {focused.id} and its label in view", timeout=20)

                def marked(label=label) -> bool:  # reverse video reads in 16 colours and with NO_COLOR
                    lit = [lab for lab in app.setup.query(".field-label") if lab.rich_style.reverse]
                    return lit == [label] and label.rich_style.bold

                await until(pilot, marked, f"{model}: only {focused.id}'s label in reverse video")
        assert set(seen) == set(controls), (model, {c.id for c in controls} - {c.id for c in seen})


async def test_every_tab_shows_at_60_columns_and_names_its_key_when_there_is_room():
    app = SeqlmApp(many_fields("elman"))
    async with app.run_test(size=(60, 20)) as pilot:
        await started(app, pilot)
        tabs = app.query_one("#tabs")
        labels = [tabs.get_tab(p).label.plain for p in ("setup", "train", "sweep", "prompt", "checkpoints",
                                                          "insight")]
        assert labels == ["Setup", "Train", "Sweep", "Prompt", "Checkpoints", "Insight"]
        assert all(tabs.get_tab(p).region.right <= 60 for p in ("setup", "insight"))
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: tabs.get_tab("setup").label.plain == "Setup F2", "the wide labels")
        assert tabs.get_tab("insight").region.right <= 80


async def test_pagedown_and_end_scroll_the_setup_from_a_field():
    app = SeqlmApp(many_fields("transformer"))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await go(pilot, "f2")
        await until(pilot, lambda: app.setup.ready and app.setup.max_scroll_y > 0)
        app.setup.query_one("#f-data-dataset").focus()
        await press(pilot, "pagedown")
        await until(pilot, lambda: app.setup.scroll_y > 0, "PageDown to scroll")
