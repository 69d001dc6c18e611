"""The Sweep pane: the range test runs, its suggestion is shown, and u puts it into Setup and the next run."""

from __future__ import annotations

import re

from textual.widgets import Input

from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.tui.app import SeqlmApp
from seqlm_tui.tui.widgets.config_form import FieldRow
from tests.tui.conftest import go, message, press, screen_text, started, until


def lr_box(app) -> Input:
    return next(r for r in app.setup.query(FieldRow) if r.key == "train.lr").query_one(Input)


async def test_u_puts_the_suggested_rate_into_setup_and_the_next_run():
    # Steps enough to be still running when the Train pane is read: 1,000 ended first on a quiet machine.
    cfg = apply(config_for("names-mlp-seed"), {"train": {"steps": 1_000_000}})
    app = SeqlmApp(cfg)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await go(pilot, "f4")
        await press(pilot, "u")  # nothing to use yet: it says so
        await until(pilot, lambda: "run the sweep first (w)" in message(app), "the reason u did nothing")
        app.sweep_pane.query_one("#sweep-steps", Input).value = "300"
        app.set_focus(None)
        await press(pilot, "w")
        await until(pilot, lambda: app.sweep_pane.suggested is not None and not app.sweep_pane.running,
                    "the sweep's suggestion")
        lr = app.sweep_pane.suggested
        assert lr != cfg.train.lr
        shown_lr = f"{lr:.3g}"
        await until(pilot, lambda: f"suggested learning rate {shown_lr}" in " ".join(screen_text(app).split()),
                    "the suggestion on screen")
        await press(pilot, "u")
        await until(pilot, lambda: f"learning rate {shown_lr} set in Setup." in message(app), "u's answer")
        await go(pilot, "f2")
        assert float(lr_box(app).value) == float(shown_lr)
        await press(pilot, "s")  # the run trains at the rate now in Setup
        await until(pilot, lambda: app.train.run.step > 0 and app.train.run.cfg.train.lr == float(shown_lr),
                    "training at that rate")
        await until(pilot, lambda: re.search(rf"\blr {re.escape(shown_lr)}\b", screen_text(app)) is not None,
                    "the Train pane naming the rate")
        await press(pilot, "x")
        await until(pilot, lambda: app.train.state == "idle", "the run stopped")
