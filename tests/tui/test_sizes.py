"""Legible at every size: 80x24 first, 60x20 (the smallest supported size) with every item whole, and one
line saying what is needed below that."""

from __future__ import annotations

import pytest

from seqlm_tui.core import checkpoint
from seqlm_tui.tui.app import SeqlmApp
from tests.tui.conftest import counting, go, press, screen_text, started, stats, train_to_end, until


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_the_quit_question_is_whole(size):
    app = SeqlmApp(counting(100_000))
    async with app.run_test(size=size) as pilot:
        await started(app, pilot)
        await press(pilot, "s")
        await until(pilot, lambda: app.train.state == "running", "training")
        await press(pilot, "ctrl+q")
        await until(pilot, lambda: len(app.screen.query("#quit-dialog")) == 1, "the question")
        await pilot.pause()
        inside = [ln[ln.index("█") + 1:ln.rindex("█")] for ln in screen_text(app).splitlines() if ln.count("█") >= 2]
        text = flat(" ".join(inside))  # the dialog's lines, read on inside its thick border
        assert "is running" in text and "Quit now and it is gone." in text, text
        await press(pilot, "escape")
        app.train.stop()
        await until(pilot, lambda: app.train.state == "idle", "the stop")


async def test_train_at_60x20_shows_the_chart_with_ticks_and_legend_and_the_whole_status():
    app = SeqlmApp(counting(300))
    async with app.run_test(size=(60, 20)) as pilot:
        await started(app, pilot)
        await train_to_end(app, pilot)
        chart = app.train.chart
        # the chart of the whole run, its last x tick under the plot
        await until(pilot, lambda: "300" in screen_text(app).split("step")[0], "the chart drawn to its end")
        text = screen_text(app)
        assert all(word in text for word in ("train", "smoothed", "dev", "step")), text  # the legend
        assert "ctrl+s saves)" in flat(text), text  # the status sentence whole
        assert "finished at step 300" in stats(app)
        assert chart.region.height >= 9, chart.region


async def test_below_the_smallest_size_one_line_says_what_is_needed_and_the_app_comes_back():
    app = SeqlmApp(counting(300))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        for size, notice in (((40, 12), "Needs 60x20 (now 40x12)."),
                             ((59, 30), "seqlm-tui needs at least 60x20 (this terminal is 59x30).")):
            await pilot.resize_terminal(*size)
            await until(pilot, lambda notice=notice: notice in screen_text(app), f"the notice at {size}")
            lines = [ln for ln in screen_text(app).splitlines() if ln.strip() and ln.strip() != "seqlm-tui"]
            assert lines == [lines[0]] and notice in lines[0], lines  # that line alone
        await pilot.resize_terminal(60, 20)
        await until(pilot, lambda: "Checkpoints" in screen_text(app) and "Needs" not in screen_text(app), "the app")
        await go(pilot, "f5")  # and it works
        await until(pilot, lambda: app.focused is app.query_one("#prompt-input"), "the prompt line")


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_the_checkpoint_table_fits_and_says_why_a_file_cannot_be_loaded(size, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(tmp_path))
    app = SeqlmApp(counting(300))
    async with app.run_test(size=size) as pilot:
        await started(app, pilot)
        good = checkpoint.save(app.train.run, tmp_path / "counting-elman-a-rather-long-name-step0.pt")
        cut = tmp_path / "cut.pt"
        cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])  # a copy cut short: only its card is whole
        await go(pilot, "f6")
        table = app.query_one("#ckpt-table")
        await until(pilot, lambda: table.row_count == 2, "the listing")
        await pilot.pause()
        text = screen_text(app)
        assert table.max_scroll_x == 0, table.virtual_size  # every column in view, nothing to scroll sideways
        assert "elman on counting" in text and "unreadable: truncated" in text, text
        when = [c for c in table.get_row_at(0)][-1]
        assert all(part in text for part in str(when).split("\n")), (when, text)  # date and time whole
        await press(pilot, "end")  # to the last row, not sideways
        await until(pilot, lambda: table.cursor_row == 1, "the last row")
        await press(pilot, "home")
        await until(pilot, lambda: table.cursor_row == 0, "the first row")
        cut_row = next(i for i in range(2) if "cut.pt" in str(table.get_row_at(i)[0]))
        for _ in range(cut_row):  # (both were saved in the same minute: either may be listed first)
            await press(pilot, "down")
        await until(pilot, lambda: "cut.pt is truncated" in flat(screen_text(app)), "the reason on screen")
        assert "parameters alone take" in flat(screen_text(app))
