"""Insight / Neurons and Attention in the app: each draws the current model's own numbers at 80x24 and
60x20, follows a training run at its evaluations with the chosen unit (or head) kept, and says in a
sentence when the model has no such thing."""

from __future__ import annotations

import pytest
from textual.widgets import Input, OptionList

from seqlm_tui.core import attention, features, neurons
from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.tui.app import SeqlmApp
from seqlm_tui.tui.widgets.neuron_text import LEVEL_STYLES
from tests.tui.conftest import go, press, screen_text, started, train_to_end, until

SIZES = [(80, 24), (60, 20)]


def flat(text: str) -> str:
    return " ".join(text.split())


def names_cfg(model: dict, steps: int = 60, eval_every: int = 20):
    return apply(config_for("names-fast", model["model"]),
                 {"data": {"batch_size": 32}, "model": model, "train": {"steps": steps, "eval_every": eval_every,
                                                                        "eval_cap": 500}})


LSTM = {"model": "lstm", "hidden": 16}
TRANSFORMER = {"model": "transformer", "emb": 16, "heads": 2, "layers": 2, "block_size": 8}


async def open_view(app, pilot, name: str) -> None:
    await go(pilot, "f7")
    app.insight.show_view(name)
    await until(pilot, lambda: app.insight.view == name, f"the {name} view")
    app.set_focus(None)  # keys, not typing
    await pilot.pause(0)


def expected(app, view):
    """What core reads from the model the app holds now, on the text the view shows."""
    run = app.train.run
    text = neurons.dev_excerpt(run.ensure_dataset(), run.vocab, 500)
    return neurons.read_neurons(run.model, run.vocab, text)


def drawn(widget, no_color: bool) -> list[int]:
    """The level each position is drawn at: read from the glyph row under the text without colour, else from
    the styles of the rendered text."""
    if no_color:
        rows = widget.plain.split("\n")
        lines = widget.lines(widget.size.width)
        assert len(rows) == 2 * len(lines)
        marks = "".join(rows[2 * n + 1].ljust(len(line)) for n, line in enumerate(lines))
        return [neurons.GLYPHS.index(m) - 2 for m in marks]
    return drawn_levels(widget)


def drawn_levels(widget) -> list[int]:
    """The level each position is drawn at, read back from the styles of the rendered text."""
    text = widget.render()
    by_offset = {}
    for span in text.spans:
        for k in range(span.start, span.end):
            by_offset.setdefault(k, []).append(span.style)
    plain, levels, k = text.plain, [], 0
    for line in widget.lines(widget.size.width):
        for i in line:
            styles = by_offset.get(k, [])
            levels.append(next((lv - 2 for lv, st in enumerate(LEVEL_STYLES) if st in styles and lv != 2), 0))
            k += len(widget.reading.labels[i])
        k = plain.index("\n", k) + 1 if "\n" in plain[k:] else k
    return levels


@pytest.mark.parametrize("size, no_color", [((80, 24), False), ((60, 20), True)])
async def test_neuron_view_draws_the_units_follows_training_and_keeps_the_pinned_unit(size, no_color, monkeypatch):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    app = SeqlmApp(names_cfg(LSTM))
    async with app.run_test(size=size) as pilot:
        await started(app, pilot)
        await open_view(app, pilot, "neurons")
        view = app.insight.neurons
        await until(pilot, lambda: view.reads >= 1, "the fresh model read")
        for _ in range(3):
            await press(pilot, ".")
        await until(pilot, lambda: view.unit == 3, "unit 3 pinned")
        reading = expected(app, view)
        assert view.reading.labels == reading.labels and view.reading.labels[0] == "."  # the dev excerpt of names
        assert drawn(view.text_widget, no_color) == reading.levels(0, 3)  # unit 3 of the model's h
        await until(pilot, lambda: "LSTM h, unit 3/16 · step 0" in flat(screen_text(app)), "the status")
        assert "".join(reading.labels[:12]) in screen_text(app)  # the text on screen
        # training: the view reads the model again at each evaluation, unit 3 still pinned
        await train_to_end(app, pilot)  # s shows the Train pane
        await go(pilot, "f7")
        await until(pilot, lambda: view.step == 60, "the last evaluation read")
        assert view.unit == 3 and "unit 3/16 · step 60" in flat(screen_text(app))
        steps = [s for s, _ in view.history.of(view.feature, view.group, 3)]
        assert steps[0] == 0 and steps[-1] == 60 and len(steps) >= 3  # the unit's score over training
        trained = expected(app, view)
        assert drawn(view.text_widget, no_color) == trained.levels(0, 3)
        assert view.score() == pytest.approx(dict(features.unit_scores(trained, 0, 3))[view.feature], abs=1e-5)
        # find: the units ranked by the feature some unit follows best, the first pinned, the list on screen
        await press(pilot, "f")
        await until(pilot, lambda: view.ranking is not None, "the ranking")
        assert view.feature == features.strongest(features.score_table(trained), 0)[0]
        ranked = features.rank(trained, 0, view.feature)
        assert [u for u, _ in view.ranking] == [u for u, _ in ranked] and view.unit == ranked[0][0]
        options = app.query_one("#neuron-rank", OptionList)
        assert options.option_count == 16
        assert str(options.get_option_at_index(0).prompt).startswith(f"unit {ranked[0][0]} ")
        await press(pilot, "c")  # the LSTM's cell
        await until(pilot, lambda: view.reading.group(view.group).kind == "c", "the cell")
        assert "LSTM cell c" in flat(screen_text(app))
        # a span chosen with the keys ranks the units by it
        view.text_widget.focus()
        await pilot.pause(0)
        await press(pilot, "right", "shift+right", "shift+right", "shift+right", "enter")
        await until(pilot, lambda: view.rank_by is not None and view.rank_by[0] == "span", "the span's ranking")
        assert view.rank_by == ("span", (1, 5))
        assert view.ranking == features.span_rank(view.reading, view.group, 1, 5)
        assert view.unit == view.ranking[0][0]
        # a typed text is read
        box = app.query_one("#neuron-input", Input)
        box.focus()
        box.value = "emma\nolivia"
        await press(pilot, "enter")
        await until(pilot, lambda: view.reading.labels == list(".emma.olivia"), "the typed text read")


@pytest.mark.parametrize("size", SIZES)
async def test_attention_view_draws_the_window_steps_heads_and_follows_training(size):
    app = SeqlmApp(names_cfg(TRANSFORMER, steps=40))
    async with app.run_test(size=size) as pilot:
        await started(app, pilot)
        await open_view(app, pilot, "attention")
        view = app.insight.attention
        await until(pilot, lambda: view.reads >= 1, "the reading")
        await press(pilot, ".", "l")
        await until(pilot, lambda: (view.chosen_layer, view.chosen_head) == (1, 1), "layer 2 head 2")
        run = app.train.run
        text = neurons.dev_excerpt(run.ensure_dataset(), run.vocab, 48)
        want = attention.read_attention(run.model, run.vocab, text)
        assert view.reading.labels == want.labels and len(want) == 48
        grid = app.query_one("#attention-head")
        start = len(want) - view.shown
        assert grid.levels == want.grid(1, 1, start, len(want))
        assert grid.title == "layer 2 head 2"
        assert "layer 2, average of 2 heads" in app.query_one("#attention-average").plain
        cells = grid.plain.splitlines()[2:]
        assert len(cells) == (view.shown + 1) // 2  # two queries a line in colour
        # the window of 8: a line's cells are blank beyond it, on both queries
        body = cells[-1][grid.label_width + 1:]
        assert body[:view.shown - 9].strip() == "" and body[view.shown - 8:].strip()
        await until(pilot, lambda: "layer 2/2, head 2/2 · step 0" in flat(screen_text(app)), "the status")
        await train_to_end(app, pilot)
        await go(pilot, "f7")
        await until(pilot, lambda: view.step == 40, "the trained weights read")
        assert (view.chosen_layer, view.chosen_head) == (1, 1)
        assert grid.levels == attention.read_attention(app.train.run.model, run.vocab, text).grid(1, 1, start, 48)


async def test_a_model_without_it_says_so_and_the_keys_follow_the_model():
    app = SeqlmApp(names_cfg({"model": "bigram-counts"}))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        view = app.insight.neurons

        def keys() -> set[str]:
            return {b.binding.key for b in app.screen.active_bindings.values() if b.enabled and b.binding.show}

        for model, name, words in (
                ({"model": "bigram-counts"}, "neurons", "has no hidden units: it maps each character straight"),
                (TRANSFORMER, "neurons", "look at its attention instead"),
                ({"model": "lstm", "hidden": 8, "layers": 2}, "attention", "has no attention (only the Transformer")):
            await app.setup.load_config(names_cfg(model))
            await press(pilot, "n")
            await until(pilot, lambda model=model: app.train.run.cfg.model.model == model["model"], "the new run")
            await open_view(app, pilot, name)
            await until(pilot, lambda words=words: words in flat(screen_text(app)), words)
            assert not keys() & {"f", "full_stop", "e", "c"}  # no key of the view applies
        await open_view(app, pilot, "neurons")
        await until(pilot, lambda: view.reading is not None and view.reading.groups[0].layers == 2, "the LSTM")
        await pilot.pause(0)
        assert {"full_stop", "f", "t", "g", "e", "c", "l"} <= keys()
        await until(pilot, lambda: "LSTM h (layer 2)" in flat(screen_text(app)), "the top layer")
        await press(pilot, "l")
        await until(pilot, lambda: "LSTM h (layer 1)" in flat(screen_text(app)), "the first layer")
        # a span dragged with the mouse, and what a lesson may set directly
        await pilot.mouse_down("#neuron-text", offset=(1, 0))
        await pilot.hover("#neuron-text", offset=(4, 0))
        await pilot.mouse_up("#neuron-text", offset=(4, 0))
        assert view.text_widget.selection == (1, 5) and app.focused is view.text_widget
        await press(pilot, "enter")
        await until(pilot, lambda: view.rank_by == ("span", (1, 5)), "the dragged span's ranking")
        view.choose(unit=5, feature="vowel-next")
        await until(pilot, lambda: "unit 5/8" in flat(screen_text(app)) and "'vowel-next' r" in flat(screen_text(app)))
        att = app.insight.attention
        att.choose(layer=0, head=0)
        assert (att.chosen_layer, att.chosen_head) == (0, 0)
