"""What the screen shows, pane by pane, in its key states, at 80x24 (the size it must be best at), 160x48,
and Setup at 60x20. The SVGs under __snapshots__ are the reference: `pytest --snapshot-update` writes them
again after a deliberate change, and the diff of the SVGs is the review.

Every state here is deterministic: seeded runs on one thread, fixed step counts (a run pauses itself at a
given step), no speed, time of day or date on screen, notifications held until the snapshot is taken.
"""

from __future__ import annotations

import os

import pytest
from textual.widgets import Input

from seqlm_tui.core import checkpoint
from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.tui.app import SeqlmApp
from tests.tui.conftest import go, press, started, until

SIZES = {"80x24": (80, 24), "160x48": (160, 48)}


def counting(steps=600):
    return apply(config_for("counting-watch"), {"train": {"steps": steps}})


# The names runs on screen, spelled out rather than taken from a preset: a better preset must not change them.
NAMES = {"data": {"dataset": "names", "batch_size": 512},
         "model": {"model": "mlp", "block_size": 3, "emb": 16, "hidden": 256},
         "train": {"optimizer": "adam", "lr": 0.015, "schedule": "cosine", "steps": 600, "eval_every": 50}}


def names_run(model: str = "mlp"):
    return apply(config_for(None, model), {k: v for k, v in NAMES.items() if k != "model" or model == "mlp"})


def names(steps=300, **model):
    return apply(names_run(), {"model": model, "train": {"steps": steps, "eval_every": 100}})


async def settle(app, pilot) -> None:
    """No blinking cursor, every chart drawn, every pending redraw done."""
    for box in app.query(Input):
        box.cursor_blink = False
    for pane in (app.train, app.sweep_pane, app.insight):
        pane.tick()
    await pilot.pause(0)
    await pilot.wait_for_animation()


def make_app(cfg) -> SeqlmApp:
    app = SeqlmApp(cfg)
    app.message_seconds = 3600  # a notification stays until the snapshot is taken, however slow the machine
    return app


async def train_until_done(app, pilot) -> None:
    ended = app.train.ended
    await press(pilot, "s")
    await until(pilot, lambda: app.train.ended > ended)
    await until(pilot, lambda: app.train.chart.series() and app.query_one("#train-eta").render().plain == "")


@pytest.fixture
def here(tmp_path, monkeypatch):
    """The checkpoint folder is ./checkpoints of a fresh folder, named so on screen whatever the machine."""
    monkeypatch.delenv("SEQLM_CHECKPOINT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("size", SIZES)
def test_train_idle(snap_compare, size, here):
    async def run_before(pilot):
        await started(pilot.app, pilot)
        await settle(pilot.app, pilot)

    assert snap_compare(make_app(counting()), terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_train_paused_mid_run(snap_compare, size, here):
    async def run_before(pilot):
        app = pilot.app
        await started(app, pilot)
        app.train.pause_at = 1000
        await press(pilot, "s")
        await until(pilot, lambda: app.train.state == "paused"
                    and "paused at step 1,000" in str(app.train.stats.render()))
        await until(pilot, lambda: len(app.train.run.history.dev) == 5)
        app.train.chart.mark_dirty()
        await settle(app, pilot)

    assert snap_compare(make_app(counting(2400)), terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_train_finished_names(snap_compare, size, here):
    async def run_before(pilot):
        await started(pilot.app, pilot)
        await train_until_done(pilot.app, pilot)
        await settle(pilot.app, pilot)

    assert snap_compare(make_app(names()), terminal_size=SIZES[size], run_before=run_before)


def test_train_an_error_shown(snap_compare, here):
    async def run_before(pilot):
        app = pilot.app
        await started(app, pilot)
        await app.setup.load_config(apply(config_for(None, "lstm"), {"model": {"hidden": 8192, "layers": 4}}))
        await press(pilot, "s")
        await until(pilot, lambda: "could not train" in str(app.train.stats.render()))
        await settle(app, pilot)

    assert snap_compare(make_app(counting()), terminal_size=(80, 24), run_before=run_before)


SETUP_SIZES = {**SIZES, "60x20": (60, 20)}


@pytest.mark.parametrize("size", SETUP_SIZES)
def test_setup_lstm(snap_compare, size, here):
    async def run_before(pilot):
        app = pilot.app
        await started(app, pilot)
        await go(pilot, "f2")
        await until(pilot, lambda: app.setup.ready and "LSTM" in app.setup.summary_text)
        await settle(app, pilot)

    cfg = apply(config_for("timemachine-rnn", model="lstm"), {"model": {"hidden": 64}})
    assert snap_compare(make_app(cfg), terminal_size=SETUP_SIZES[size], run_before=run_before)


def test_setup_scrolled_to_its_last_field_at_60x20(snap_compare, here):
    async def run_before(pilot):
        app = pilot.app
        await started(app, pilot)
        await go(pilot, "f2")
        await until(pilot, lambda: app.setup.ready and "LSTM" in app.setup.summary_text)
        threads = app.setup.query_one("#f-train-threads")
        # Focused without the screen's own animated centring, which lands before or after the form's scroll
        # (a line apart, 1 run in 3): the form's scroll alone, as the focus moves (test_layout tabs through).
        app.screen.set_focus(threads, scroll_visible=False)
        help_line = app.setup.query_one("#setup-help")
        await until(pilot, lambda: "CPU threads" in str(help_line.render()), "the field's help")
        await pilot.pause()
        await pilot.pause()  # the form's scroll after the help line's refresh has run: the view goes to its end
        app.setup.scroll_end(animate=False, immediate=True)
        await until(pilot, lambda: app.setup.scroll_y == app.setup.max_scroll_y, "the form at its end")
        await pilot.pause()
        assert app.screen.can_view_entire(threads)
        await settle(app, pilot)

    cfg = apply(config_for("timemachine-rnn", model="lstm"), {"model": {"hidden": 64}})
    assert snap_compare(make_app(cfg), terminal_size=(60, 20), run_before=run_before)


def test_setup_a_field_error(snap_compare, here):
    async def run_before(pilot):
        app = pilot.app
        await started(app, pilot)
        await go(pilot, "f2")
        await until(pilot, lambda: app.setup.ready)
        box = app.setup.query_one("#f-train-lr", Input)
        box.value = "fast"  # typed in without a focus, whose scrolls land in either order (see above)
        await until(pilot, lambda: "learning rate must be a number" in (app.setup.field_errors() or [""])[0])
        await pilot.pause()
        # one place, whatever came before:
        app.setup.scroll_to_widget(box.parent, animate=False, top=True, immediate=True)
        await until(pilot, lambda: app.screen.can_view_entire(box), "the field in view")
        await pilot.pause()
        await settle(app, pilot)

    assert snap_compare(make_app(counting()), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_sweep_done(snap_compare, size, here):
    async def run_before(pilot):
        app = pilot.app
        await started(app, pilot)
        await go(pilot, "f4")
        app.sweep_pane.query_one("#sweep-steps", Input).value = "300"
        app.set_focus(None)
        await press(pilot, "w")
        await until(pilot, lambda: app.sweep_pane.suggested is not None and not app.sweep_pane.running)
        await settle(app, pilot)

    # torch's init, as before the preset took the seed post's randn: the screen this snapshot was made of
    cfg = apply(config_for("names-mlp-seed"), {"model": {"init": "torch"}, "train": {"steps": 1000}})
    assert snap_compare(make_app(cfg), terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_prompt_after_an_exchange(snap_compare, size, here):
    async def run_before(pilot):
        app = pilot.app
        await started(app, pilot)
        await train_until_done(app, pilot)
        await go(pilot, "f5")
        app.prompt.delay = 0
        for line in ("/greedy", "/len 12"):
            await press(pilot, *line, "enter")
        answered = app.prompt.answered
        await press(pilot, *"7 8 9 10", "enter")
        await until(pilot, lambda: app.prompt.answered > answered, "the whole continuation")
        await settle(app, pilot)

    assert snap_compare(make_app(counting(600)), terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_checkpoints_listed(snap_compare, size, here):
    folder = here / "checkpoints"

    async def run_before(pilot):
        app = pilot.app
        await started(app, pilot)
        await train_until_done(app, pilot)
        for name in ("counting-a", "counting-b"):
            checkpoint.save(app.train.run, folder / f"{name}.pt")
        (folder / "broken.pt").write_bytes(b"not a checkpoint")
        for i, p in enumerate(sorted(folder.iterdir())):
            os.utime(p, (1_767_225_600 + 60 * i,) * 2)  # fixed dates on screen
        await go(pilot, "f6")
        await until(pilot, lambda: app.query_one("#ckpt-table").row_count == 3)
        await settle(app, pilot)

    assert snap_compare(make_app(counting(200)), terminal_size=SIZES[size], run_before=run_before)


INSIGHT = {"embeddings": names(300, emb=2, hidden=64), "bigram": apply(names(), {"model": {"model": "bigram-counts"}}),
           "health": counting(400), "compare": counting(300)}


@pytest.mark.parametrize("view", INSIGHT)
def test_insight_view_at_80x24(snap_compare, view, here):
    async def run_before(pilot):
        app = pilot.app
        await started(app, pilot)
        await train_until_done(app, pilot)
        await go(pilot, "f7")
        app.insight.show_view(view)
        await until(pilot, lambda: app.insight.view == view)
        if view == "bigram":
            await until(pilot, lambda: app.insight.bigram.row_items())
        if view == "embeddings":
            await until(pilot, lambda: app.insight.embeddings.map is not None)
        app.insight.embeddings.dirty = app.insight.compare.dirty = app.insight.health.dirty = True
        await settle(app, pilot)

    assert snap_compare(make_app(INSIGHT[view]), terminal_size=(80, 24), run_before=run_before)


def test_help_at_80x24(snap_compare, here):
    async def run_before(pilot):
        await started(pilot.app, pilot)
        await press(pilot, "f1")
        await until(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen")
        await settle(pilot.app, pilot)

    assert snap_compare(make_app(counting()), terminal_size=(80, 24), run_before=run_before)


def test_quit_asked_while_training_at_80x24(snap_compare, here):
    async def run_before(pilot):
        app = pilot.app
        await started(app, pilot)
        app.train.pause_at = 200
        await press(pilot, "s")
        await until(pilot, lambda: app.train.state == "paused")
        await press(pilot, "ctrl+q")
        await until(pilot, lambda: type(app.screen).__name__ == "QuitScreen")
        await settle(app, pilot)

    assert snap_compare(make_app(counting(2400)), terminal_size=(80, 24), run_before=run_before)


def small(model: dict):
    """One evaluation, at the end: the scores' history is then the fresh model's and the trained one's, whatever
    the machine's speed (a reading taken while the model trains is of whichever step it is copied at)."""
    return apply(names_run(model["model"]), {"data": {"batch_size": 32}, "model": model,
                                                           "train": {"steps": 60, "eval_every": 60, "eval_cap": 500}})


LOOKS = {"neurons": small({"model": "lstm", "hidden": 16}),
         "attention": small({"model": "transformer", "emb": 16, "heads": 2, "layers": 2, "block_size": 8})}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("view", LOOKS)
def test_insight_neurons_and_attention(snap_compare, view, size, here):
    """The neuron view after find, the attention view of layer 1 head 1: a trained model's own numbers."""
    async def run_before(pilot):
        app = pilot.app
        await started(app, pilot)
        look = app.insight.looks[view]
        await until(pilot, lambda: look.reads == 1, "the fresh model read")
        await train_until_done(app, pilot)
        await go(pilot, "f7")
        app.insight.show_view(view)
        await until(pilot, lambda: app.insight.view == view)
        await until(pilot, lambda: look.step == 60 and not look.reading_now(), "the trained model read")
        if view == "neurons":
            await press(pilot, "f")
            await until(pilot, lambda: look.ranking is not None, "the ranking")
        await settle(app, pilot)

    assert snap_compare(make_app(LOOKS[view]), terminal_size=SIZES[size], run_before=run_before)
