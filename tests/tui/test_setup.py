"""The Setup pane: per-field errors, only the fields that matter, the summary, presets."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Input, Select

from seqlm_tui.core.models import registry
from seqlm_tui.tui.app import SeqlmApp
from seqlm_tui.tui.messages import SummaryReady
from seqlm_tui.tui.widgets.config_form import FieldRow
from tests.tui.conftest import counting, go, message, press, screen_text, shown, started, train_to_end, type_text, until


def row(app, key) -> FieldRow:
    return next(r for r in app.setup.query(FieldRow) if r.key == key)


async def open_setup(app, pilot) -> None:
    await started(app, pilot)
    await go(pilot, "f2")
    await until(pilot, lambda: app.setup.ready, "the Setup form")


async def type_into(pilot, app, key: str, text: str) -> None:
    box = row(app, key).query_one(Input)
    box.focus()
    await until(pilot, lambda: app.focused is box, f"the {key} box")
    box.value = ""  # as select-all and delete would leave it
    if len(text) > 8:
        box.insert_text_at_cursor(text)  # a paste
    else:
        await type_text(pilot, text)


def summary(app) -> str:
    return shown(app.query_one("#setup-summary"))


async def test_bad_values_are_marked_at_the_field_and_block_the_start():
    app = SeqlmApp(counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await open_setup(app, pilot)
        lr = row(app, "train.lr")
        error = lr.query_one(".field-error")
        for typed, said in (("abc", "learning rate must be a number, not 'abc'"), ("-1", "greater than 0"),
                            ("[bold]", "'[bold]'")):  # shown literally: no markup in messages
            await type_into(pilot, app, "train.lr", typed)
            await until(pilot, lambda said=said: error.display and said in shown(error), f"the error {said!r}")
        app.set_focus(None)
        await go(pilot, "f3")
        await press(pilot, "s")
        await until(pilot, lambda: app.active_pane == "setup" and "fix the setup first" in message(app),
                    "being sent back to Setup")
        await until(pilot, lambda: app.train.state == "idle", "the pane idle again")
        assert app.train.run.step == 0
        await type_into(pilot, app, "train.lr", "0.02")
        await until(pilot, lambda: not lr.error and not error.display, "the error to go")


async def test_only_the_fields_the_setup_uses_are_shown_and_the_summary_follows():
    app = SeqlmApp(counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await open_setup(app, pilot)
        assert not row(app, "train.momentum").display and not row(app, "model.emb").display  # one-hot elman
        row(app, "train.optimizer").query_one(Select).value = "momentum"
        await until(pilot, lambda: row(app, "train.momentum").display, "momentum to show")
        row(app, "model.model").query_one(Select).value = "mlp"
        await until(pilot, lambda: "MLP" in summary(app), "the MLP's summary")
        assert row(app, "model.block_size").value == 3 and row(app, "model.emb").display
        await type_into(pilot, app, "model.hidden", "64")
        expected = registry.get("mlp").count_params(replace(registry.defaults_for("mlp"), hidden=64), 128, 0)
        await until(pilot, lambda: f"MLP (Bengio et al.): {expected:,} parameters" in summary(app), "the count")
        # the count-based bigram has no optimizer, learning rate or steps
        row(app, "model.model").query_one(Select).value = "bigram-counts"
        await until(pilot, lambda: "Bigram (counts)" in summary(app), "the bigram's summary")
        for key in ("train.optimizer", "train.lr", "train.steps", "train.clip", "data.batch_size"):
            assert not row(app, key).display, key
        assert row(app, "model.smoothing").display
        row(app, "model.model").query_one(Select).value = "mlp"
        await until(pilot, lambda: "MLP" in summary(app))
        cfg, problem = app.setup.read()
        assert problem is None and cfg.model.model == "mlp" and cfg.train.optimizer == "momentum"
        app.set_focus(None)
        await go(pilot, "f3")
        await train_to_end(app, pilot)
        assert app.train.run.cfg.model.model == "mlp" and app.train.run.cfg.train.optimizer == "momentum"


async def test_rules_between_fields_are_shown_at_the_field_as_the_user_types():
    app = SeqlmApp(counting())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_setup(app, pilot)
        problem = app.query_one("#setup-problem")
        row(app, "model.model").query_one(Select).value = "transformer"
        await until(pilot, lambda: "Transformer" in summary(app))
        await type_into(pilot, app, "model.heads", "3")  # embedding 64: the rule the command line has
        heads = row(app, "model.heads")
        await until(pilot, lambda: "divisible by heads 3" in (heads.error or ""), "the rule at the heads field")
        assert "divisible by heads 3" in shown(heads.query_one(".field-error"))
        assert app.setup.read()[0] is None and not problem.display  # said once, where it can be fixed
        await type_into(pilot, app, "model.heads", "4")
        await until(pilot, lambda: not heads.error, "the rule to hold again")
        # a rule that needs the data: the batch against the training split, once the data is loaded
        await type_into(pilot, app, "data.batch_size", "5000")
        batch = row(app, "data.batch_size")
        await until(pilot, lambda: "larger than the training split" in (batch.error or ""), "the rule at the batch")
        assert "larger than the training split" in screen_text(app) and not problem.display
        app.set_focus(None)
        await press(pilot, "s")  # refused at once, in the same sentence
        await until(pilot, lambda: "larger than the training split" in message(app), "the refusal")
        assert app.train.state == "idle" and app.train.run.step == 0
        await type_into(pilot, app, "data.batch_size", "16")
        await until(pilot, lambda: not batch.error and app.setup.read()[0] is not None, "the rule to hold")


async def test_a_model_switch_says_which_values_its_defaults_changed_and_help_shows_in_full():
    app = SeqlmApp(counting())
    async with app.run_test(size=(60, 20)) as pilot:
        await open_setup(app, pilot)
        row(app, "model.model").query_one(Select).value = "lstm"
        await until(pilot, lambda: "LSTM takes its own defaults: hidden 256 (was 32)" in message(app), "the word")
        box = row(app, "train.eval_cap").query_one(Input)
        box.focus()
        help_line = app.query_one("#setup-help")
        full = "eval cap: at most this many dev targets per evaluation (0: the whole split)"
        await until(pilot, lambda: shown(help_line) == full, "the focused field's help")
        await until(pilot, lambda: full.replace(" ", "") in screen_text(app).replace(" ", "").replace("\n", ""),
                    "the whole help on screen")


async def test_changing_the_dataset_updates_the_summary_or_says_why_not(tmp_path):
    missing = tmp_path / "nope.txt"
    app = SeqlmApp(counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await open_setup(app, pilot)
        row(app, "data.dataset").query_one(Select).value = "names"
        await until(pilot, lambda: "names: vocabulary 27" in summary(app), "the names summary")
        row(app, "data.dataset").query_one(Select).value = "file"
        await type_into(pilot, app, "data.file", str(missing))
        problem = app.query_one("#setup-problem")
        await until(pilot, lambda: problem.display and "no such file" in shown(problem), "the file problem")
        app.set_focus(None)  # out of the path box, where s is a letter
        await press(pilot, "s")  # and a start is refused in a sentence that names the file
        await until(pilot, lambda: "no such file" in message(app) and str(missing) in message(app), "the refusal")
        await until(pilot, lambda: app.train.state == "idle", "the pane idle again")
        assert app.train.run.step == 0


async def test_presets_from_the_palette_fill_the_setup():
    app = SeqlmApp(counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await press(pilot, "ctrl+p")
        await type_text(pilot, "preset names-fast")
        await press(pilot, "enter")
        await until(pilot, lambda: app.active_pane == "setup" and "preset names-fast in Setup" in message(app),
                    "the preset")
        await until(pilot, lambda: app.setup.read()[0] is not None and app.setup.read()[0].data.batch_size == 512)
        cfg = app.setup.read()[0]
        assert (cfg.data.dataset, cfg.model.model, cfg.model.hidden, cfg.train.optimizer) == ("names", "mlp", 200,
                                                                                               "adam")
        assert row(app, "model.hidden").query_one(Input).value == "200"


async def test_a_summary_that_ends_late_does_not_hide_the_newer_one():
    # Two summary workers finish out of order (the older one loaded the data, the newer found it cached):
    # the newer summary must stay. It was dropped about 1 run in 5 of the Setup snapshot, leaving
    # "loading timemachine..." on screen for good.
    app = SeqlmApp(counting())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_setup(app, pilot)
        await until(pilot, lambda: "Elman" in summary(app), "the first summary")
        setup = app.setup
        newer = setup.summary_request + 2
        setup.summary_request = newer  # two requests out, as a burst of edits makes them
        setup.post_message(SummaryReady(newer, "the newer summary"))
        setup.post_message(SummaryReady(newer - 1, "the older summary"))  # it ends last
        await until(pilot, lambda: "the newer summary" in screen_text(app), "the newer summary on screen")
        assert setup.summary_text == "the newer summary"


async def test_every_field_s_help_fits_the_help_line_whole_at_60x20():
    """The focused field's whole help is on the pane's last line (three rows at most): at the smallest size
    every field's help, of every model, wraps into those rows (a longer one lost its end there)."""
    import dataclasses

    from rich.console import Console
    from rich.text import Text

    from seqlm_tui.core.config import DataConfig, ModelConfig, TrainConfig, label

    app = SeqlmApp(counting())
    async with app.run_test(size=(60, 20)) as pilot:
        await open_setup(app, pilot)
        box = row(app, "train.eval_cap").query_one(Input)
        box.focus()
        help_line = app.query_one("#setup-help")
        await until(pilot, lambda: help_line.display and help_line.content_region.width > 0, "the help line")
        width, rows = help_line.content_region.width, help_line.styles.max_height.value
        console = Console(width=width)
        for cls in (DataConfig, ModelConfig, TrainConfig):
            for f in dataclasses.fields(cls):
                text = Text.assemble((label(f), "bold"), ": " + f.metadata.get("help", ""))
                lines = text.wrap(console, width)
                assert len(lines) <= rows, (f.name, width, [str(line) for line in lines])
