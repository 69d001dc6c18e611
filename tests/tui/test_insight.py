"""Pilot tests of the insight views: each one draws real data from a real model."""

import math

import pytest

from core import checkpoint
from core.presets import apply, config_for
from tests.tui.test_app import small_counting, train_to_end, type_in, wait_for
from tui.app import SeqlmApp
from tui.widgets.checkpoints_pane import CheckpointsPane
from tui.widgets.prompt_pane import PromptPane


def screen_text(app) -> str:
    """The whole screen as plain text, as the terminal shows it."""
    lines = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in line) for line in lines)


def flat(text: str) -> str:
    """Text with its line breaks and runs of spaces as single spaces (a sentence may wrap on screen)."""
    return " ".join(text.split())


async def insight_view(app, pilot, name: str) -> None:
    assert await wait_for(pilot, lambda: app.current is not None)  # the app is up: its panes are in
    await type_in(pilot, "f7")
    app.insight.show_view(name)
    assert await wait_for(pilot, lambda: app.insight.view == name, 5)
    await pilot.pause(0.6)  # the redraw timer draws the chart


def names_cfg(model: dict, steps: int, eval_every: int = 100):
    return apply(config_for("names-fast"), {"model": model, "train": {"steps": steps, "eval_every": eval_every}})


async def test_odds_panel_follows_every_generated_token():
    app = SeqlmApp(small_counting(300))
    async with app.run_test(size=(100, 30)) as pilot:
        await train_to_end(app, pilot)
        await type_in(pilot, "f5")
        prompt = app.query_one(PromptPane)
        panel = app.query_one("#prompt-probs")
        await type_in(pilot, *"/probs", "enter", *"/greedy", "enter", *"/len 6", "enter")
        assert await wait_for(pilot, lambda: panel.display and "(greedy)" in prompt.text)
        tops = []  # the favourite next token each time the panel is given new odds
        show = panel.show
        panel.show = lambda items, title=None: (tops.append(items[0][0] if items else None), show(items, title))
        await type_in(pilot, *"3 4", "enter")
        assert await wait_for(pilot, lambda: "> 3 4" in prompt.text and not prompt.busy)
        await pilot.pause(0.2)
        # after the prompt the favourite is 5; each generated token moves it on by one
        changes = [t for i, t in enumerate(tops) if i == 0 or t != tops[i - 1]]
        assert changes == ["5", "6", "7", "8", "9", "10", "11"], tops
        assert "> 3 4 5 6 7 8 9 10" in prompt.text
        assert 0 < sum(p for _, p in panel.items) <= 1 + 1e-6
        assert all(a >= b for (_, a), (_, b) in zip(panel.items, panel.items[1:]))  # most likely first
        assert len(panel.items) == panel.rows  # as many as fit, every one drawn
        drawn = panel.plain
        assert "next token" in drawn and "%" in drawn and "█" in drawn
        assert f"{panel.items[0][1]:.1%}" in drawn
        # it stays open: another prompt, still shown, still current
        prompt.delay = 0.0
        await type_in(pilot, *"20 21", "enter")
        assert await wait_for(pilot, lambda: not prompt.busy)
        await pilot.pause(0.2)
        assert panel.display and panel.items == prompt.gen.top(panel.rows)


async def test_embedding_map_labels_every_character_and_follows_training(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(tmp_path))
    cfg = names_cfg({"model": "mlp", "emb": 2, "hidden": 64}, steps=300)
    app = SeqlmApp(cfg)
    async with app.run_test(size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: app.current is not None)
        view = app.insight.embeddings
        assert len(view.points()) == len(app.current.vocab) == 27  # a fresh model has one too
        await train_to_end(app, pilot)
        await insight_view(app, pilot, "embeddings")
        assert view.step == app.current.step == 300  # refreshed from the trained weights
        labels = [label for label, _, _ in view.points()]
        assert len(labels) == 27 and set("abcdefghijklmnopqrstuvwxyz") <= set(labels)
        # a 2-D embedding is drawn as it is (the seed's figure): the points are the rows of C
        weights = app.current.model.C.weight.detach()
        assert view.map.method == "raw 2-D embedding"
        assert view.map.x == pytest.approx(weights[:, 0].tolist(), abs=1e-5)
        assert view.map.y == pytest.approx(weights[:, 1].tolist(), abs=1e-5)
        chart = app.query_one("#embedding-chart")
        drawn = chart.render().plain
        assert "raw 2-D embedding" in drawn
        body = "\n".join(line[6:] for line in drawn.splitlines()[2:-3])  # inside the axes
        assert sum(ch in body for ch in "abcdefghijklmnopqrstuvwxyz") >= 20  # a few may share a cell
        assert "27 characters at step 300" in flat(screen_text(app))
        # a fresh model has other points; the checkpoint brings the trained ones back
        trained = view.map
        path = checkpoint.save(app.current, tmp_path / "mine.pt")
        await type_in(pilot, "n")
        assert await wait_for(pilot, lambda: app.current.step == 0)
        assert view.step == 0 and view.map.x != pytest.approx(trained.x, abs=1e-3)
        app.query_one(CheckpointsPane).post_message(CheckpointsPane.Load(path))
        assert await wait_for(pilot, lambda: app.current.step == 300)
        assert view.step == 300 and view.map.x == pytest.approx(trained.x, abs=1e-6)
        assert "#3 mine (checkpoint)" in [e.label for e in app.insight.compare.entries.values()]


async def test_bigram_grid_shows_the_table_and_a_chosen_row():
    cfg = names_cfg({"model": "bigram-counts", "smoothing": 1.0}, steps=1)
    app = SeqlmApp(cfg)
    async with app.run_test(size=(100, 30)) as pilot:
        await train_to_end(app, pilot)  # counting the bigrams is one pass
        await insight_view(app, pilot, "bigram")
        view = app.insight.bigram
        grid = app.query_one("#bigram-grid")
        labels = list(app.current.vocab.tokens)
        assert grid.plain.splitlines()[0].split() == labels  # every column labelled
        assert [line[:2].strip() for line in grid.plain.splitlines()[1:]] == labels  # and every row
        box = app.query_one("#bigram-row")
        box.value = "q"
        await pilot.pause(0.3)
        row = view.row_items()
        assert row[0][0] == "u" and row[0][1] > 0.5  # after q comes u
        assert 0.999 < sum(p for _, p in row) <= 1 + 1e-6
        counts = app.current.model.counts
        q, u = app.current.vocab.stoi["q"], app.current.vocab.stoi["u"]
        # the seed's table: add-one smoothed counts, normalised by row
        assert row[0][1] == pytest.approx(float((counts[q, u] + 1) / (counts[q].sum() + 27)), rel=1e-4)
        text = screen_text(app)
        assert "after 'q'" in text and f"{row[0][1]:.1%}" in text
        assert "q▸" in grid.plain  # the chosen row is marked in the grid
        box.value = "Z"
        await pilot.pause(0.3)
        assert view.row_items() == [] and "'Z' is not in the vocabulary" in flat(screen_text(app))


async def test_health_shows_gradient_norms_and_saturation_after_each_eval():
    app = SeqlmApp(small_counting(300))
    async with app.run_test(size=(100, 30)) as pilot:
        await train_to_end(app, pilot)
        await insight_view(app, pilot, "health")
        view = app.insight.health
        h = view.latest
        assert h is not None and h.step == 300
        names = {name for name, _ in app.current.model.named_parameters()}
        assert {name for name, _ in h.grad_norms} <= names and len(h.grad_norms) >= 3
        assert all(math.isfinite(n) and n >= 0 for _, n in h.grad_norms) and any(n > 0 for _, n in h.grad_norms)
        assert h.saturated is not None and 0 <= h.saturated <= 1  # the Elman RNN has tanh units
        assert view.steps == [100.0, 200.0, 300.0]  # one point per evaluation
        text = flat(screen_text(app))
        assert f"saturated tanh units (|h| > 0.97 on a dev batch) {h.saturated:.1%}" in text
        assert "gradient norm per layer" in text
        for name, norm in h.grad_norms:
            assert f"{name} " in text and f"{norm:.3g}" in text
        # and this one-hot Elman RNN has no embedding: the view says why
        await insight_view(app, pilot, "embeddings")
        assert "one-hot input has no embedding to show; set one-hot off" in flat(screen_text(app))


async def test_compare_overlays_one_curve_per_chosen_run_and_adds_the_rate_comparison():
    app = SeqlmApp(small_counting(200))
    async with app.run_test(size=(100, 30)) as pilot:
        await train_to_end(app, pilot)
        app.setup_pane.set_lr(0.05)
        await pilot.pause(0.2)
        await type_in(pilot, "n")
        assert await wait_for(pilot, lambda: app.current.step == 0)
        await train_to_end(app, pilot)
        await insight_view(app, pilot, "compare")
        view = app.insight.compare
        series = view.series()
        assert len(series) == 2 and all(len(xs) == 2 for xs, _ in series.values())  # evals at 100 and 200
        (a, b) = series.values()
        assert a[1] != b[1]  # two learning rates, two curves
        assert "lr 0.05" in list(series)[1]
        runs = app.query_one("#compare-runs")
        runs.deselect(list(view.entries)[0])
        await pilot.pause(0.6)
        assert len(view.series()) == 1
        # r: the Setup's model at two rates, each a new ticked run
        app.query_one("#compare-lrs").value = "0.01 0.1"
        app.query_one("#compare-steps").value = "100"
        app.set_focus(None)
        await type_in(pilot, "r")
        assert await wait_for(pilot, lambda: "compare" not in app._jobs and len(view.series()) == 3, 60)
        await pilot.pause(0.6)
        labels = list(view.series())
        assert any("0.01" in label for label in labels[1:]) and any("0.1" in label for label in labels[1:])
        drawn = app.query_one("#compare-chart").render().plain
        assert all(label[:20] in drawn for label in labels)  # the legend names each curve


async def test_memory_comparison_fills_a_table_where_the_lstm_remembers_longer():
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(100, 30)) as pilot:
        await insight_view(app, pilot, "memory")
        view = app.insight.memory
        app.query_one("#memory-models").value = "elman lstm"
        app.query_one("#memory-lengths").value = "2 20"
        app.query_one("#memory-steps").value = "300"
        app.set_focus(None)
        await type_in(pilot, "m")
        assert await wait_for(pilot, lambda: "x stops" in screen_text(app), 5)
        assert await wait_for(pilot, lambda: "memory" not in app._jobs, 90)
        await pilot.pause(0.6)
        acc = view.accuracy()
        assert set(acc) == {"elman", "lstm"} and all(set(a) == {2, 20} for a in acc.values())
        assert acc["elman"][2] > 0.9 and acc["lstm"][2] > 0.9  # short sequences: both recall
        assert acc["lstm"][20] >= acc["elman"][20]  # long ones: the plain RNN forgets first
        rows = view.table_rows()
        assert rows[0][0] == "2" and rows[1][0] == "20"
        assert rows[1][2] == f"{acc['lstm'][20]:.1%}" and rows[1][1] == f"{acc['elman'][20]:.1%}"
        text = screen_text(app)
        assert "done. At length 20:" in text and "lstm" in app.query_one("#memory-chart").render().plain


async def test_insight_keys_views_footer_and_help():
    app = SeqlmApp(small_counting())
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.current is not None)

        def keys():
            return {b.binding.key for b in app.screen.active_bindings.values() if b.binding.show and b.enabled}

        assert "m" not in keys() and "r" not in keys() and "right_square_bracket" not in keys()
        await type_in(pilot, "6")  # the digit works like F7
        assert await wait_for(pilot, lambda: app.query_one("#tabs").active == "insight")
        assert app.insight.view == "embeddings" and "right_square_bracket" in keys()
        for view in ("bigram", "health", "compare", "memory", "embeddings"):
            await type_in(pilot, "]")
            assert await wait_for(pilot, lambda view=view: app.insight.view == view, 5)
        await type_in(pilot, "[")
        assert await wait_for(pilot, lambda: app.insight.view == "memory" and "m" in keys(), 5)
        assert "r" not in keys()
        await type_in(pilot, "[")
        assert await wait_for(pilot, lambda: app.insight.view == "compare" and "r" in keys(), 5)
        assert "m" not in keys()
        # a bad rate is one sentence at the field, and nothing starts
        app.query_one("#compare-lrs").value = "0.1 fast"
        app.set_focus(None)
        await type_in(pilot, "r")
        await pilot.pause(0.2)
        status = str(app.query_one("#compare-status").render())
        assert status == "learning rates must be numbers, not 'fast'." and not app._jobs
        # m starts the memory comparison, x stops it
        await type_in(pilot, "]")
        app.query_one("#memory-lengths").value = "5"
        app.query_one("#memory-steps").value = "100000"
        app.set_focus(None)
        await type_in(pilot, "m")
        assert await wait_for(pilot, lambda: "memory" in app._jobs and "x" in keys(), 30)
        await type_in(pilot, "x")
        assert await wait_for(pilot, lambda: not app._jobs, 30)
        assert str(app.query_one("#memory-status").render()) == "stopped after 0 results. m runs it again."
        assert app.insight.memory.table_rows() == [["5", "…", "…"]]
        await type_in(pilot, "f1")
        text = app.screen.body_text()
        for words in ("Insight pane", "memory task", "learning rate", "next Insight view", "6 f7"):
            assert words in text, words
