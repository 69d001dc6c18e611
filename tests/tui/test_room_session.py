"""The app as one session of ``seqlm-tui serve``: its own folder, the room's shared files, its last run kept
when it ends (even mid-training) and back when the same session starts again."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable

from seqlm_tui.core import checkpoint
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.fmt import fit
from seqlm_tui.core.run import new_run
from seqlm_tui.tui import session
from seqlm_tui.tui.app import SeqlmApp
from tests.tui.conftest import counting, go, message, press, started, until


@pytest.fixture
def room(tmp_path, monkeypatch) -> session.Room:
    own = tmp_path / "session-abcdefghjk"
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(own))
    monkeypatch.setenv(session.CODE_ENV, "abcdefghjk")
    monkeypatch.setenv(session.SHARED_ENV, str(tmp_path))
    return session.current()


async def test_a_session_keeps_its_run_when_it_ends_mid_training_and_gets_it_back(room):
    shared = new_run(counting(10))
    checkpoint.save(shared, room.shared / "teacher.pt")  # the room's shared folder: loaded, never written
    app = SeqlmApp(counting(100_000))
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        assert app.sub_title == "session abcdefghjk"
        await press(pilot, "s")
        await until(pilot, lambda: app.train.state == "running" and app.train.run.step >= 30, "training under way")
    # The tab was closed while the model trained: the app has ended, its run goes to the session's folder.
    kept = session.keep_last_run(app)
    assert kept == room.own / "last-run.pt" and not (room.shared / "last-run.pt").exists()
    step = checkpoint.load(kept).step
    assert 30 <= step <= app.train.run.step

    again = SeqlmApp(counting(300))
    async with again.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: again.train.run is not None and again.train.run.step == step, "the run back")
        await until(pilot, lambda: "loaded last-run.pt" in message(again), "the word that it is back")
        assert again.train.run.history.train.steps[-1] <= step
        await go(pilot, "f6")
        table = again.query_one("#ckpt-table", DataTable)
        await until(pilot, lambda: table.row_count == 2, "the session's file and the room's shared one")
        names = {str(table.get_row(key)[0]).split("\n")[0].strip() for key in table.rows}  # name over model
        width = again.checkpoints.name_width  # a long folder name is cut to the column, as any name
        assert names == {"last-run.pt", fit(f"{room.shared.name}/teacher.pt", width).strip()}
        keys = {key.value for key in table.rows}
        assert keys == {str(room.own / "last-run.pt"), str(room.shared / "teacher.pt")}


def test_in_a_room_a_save_stays_in_the_sessions_folder(room):
    assert session.save_target("mine", room.own) == room.own / "mine"
    for elsewhere in ("../session-other/mine", "/tmp/mine", "~/mine", ".."):
        with pytest.raises(SeqlmError, match="your own folder"):
            session.save_target(elsewhere, room.own)


def test_outside_a_room_nothing_changes(tmp_path, monkeypatch):
    monkeypatch.delenv(session.CODE_ENV, raising=False)
    assert session.current() is None
    assert session.folders() == [checkpoint.default_dir()]
    assert session.save_target("/tmp/x", tmp_path) == Path("/tmp/x")
    assert session.save_target("x", tmp_path) == tmp_path / "x"
    assert session.keep_last_run(SeqlmApp()) is None


async def test_in_a_room_the_quit_question_says_the_run_is_kept(room):
    """A session's run is kept as its last run when the app ends: the question must not say it is gone."""
    app = SeqlmApp(counting(100_000))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await press(pilot, "s")
        await until(pilot, lambda: app.train.state == "running", "training")
        await press(pilot, "ctrl+q")
        await until(pilot, lambda: len(app.screen.query("#quit-dialog")) == 1, "the question")
        said = " ".join(str(label.render()) for label in app.screen.query("#quit-dialog Label"))
        assert "keeps the run as its last run" in said and "gone" not in said, said
        await press(pilot, "escape")
        app.train.stop()
        await until(pilot, lambda: app.train.state == "idle", "the stop")
