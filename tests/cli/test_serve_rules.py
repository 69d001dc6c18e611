"""The room's rules and one app process's ending, without a server or a browser; the app's own flags."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from seqlm_tui.cli.errors import UsageError
from seqlm_tui.cli.flags import app_flags, app_start_config, as_flags
from seqlm_tui.cli.parser import build_parser
from seqlm_tui.cli.serve import room as rooms
from seqlm_tui.cli.serve.app_process import PRELUDE, AppProcess
from seqlm_tui.core.presets import config_for
from seqlm_tui.core.train import allowed_threads
from tests.cli.conftest import one_sentence
from tests.cli.room import wait_for


def rules(**kw) -> rooms.Rules:
    return rooms.Rules(**{"host": "127.0.0.1", "port": 8000, "max_sessions": 2, "idle_s": 60, "folder": Path("/r"),
                          **kw})


def test_who_may_come_in():
    assert rooms.is_loopback("127.0.0.1") and rooms.is_loopback("::1") and rooms.is_loopback("localhost")
    assert not rooms.is_loopback("0.0.0.0") and not rooms.is_loopback("192.168.1.5")
    assert rooms.choose_token("127.0.0.1", None, None) is None  # a room on loopback alone is open
    assert len(rooms.choose_token("0.0.0.0", None, None)) >= 16  # reachable from elsewhere: a token always
    assert rooms.choose_token("127.0.0.1", "https://room.school.example/", None)  # a proxy in front: reachable
    assert rooms.choose_token("127.0.0.1", None, "given") == "given"
    open_room, closed = rules(), rules(token="sesame")
    assert open_room.token_ok(None) and not closed.token_ok(None) and not closed.token_ok("sesam")
    assert closed.token_ok("sesame")
    # An open room answers to loopback names only: a page elsewhere that points its name here is refused.
    assert open_room.host_ok("127.0.0.1:8000") and open_room.host_ok("localhost:8000")
    assert not open_room.host_ok("evil.example:8000")
    assert open_room.origin_ok(None, "127.0.0.1:8000")
    assert open_room.origin_ok("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert not open_room.origin_ok("http://evil.example", "127.0.0.1:8000")
    assert closed.url() == "http://127.0.0.1:8000/?token=sesame"
    assert rules(public_url="https://room.example/x").url() == "https://room.example/x/"


def test_codes_and_shares():
    code = rooms.new_code()
    assert rooms.valid_code(code) and code != rooms.new_code()
    assert not rooms.valid_code("../../etc") and not rooms.valid_code("") and not rooms.valid_code(code + "a")
    assert rules().session_folder(code) == Path("/r") / f"session-{code}"
    assert rooms.thread_share(5, cores=2) == 1 and rooms.thread_share(4, cores=16) == 4
    assert rooms.default_max_sessions(1) == 2 and rooms.default_max_sessions(16) == 16


def test_a_runs_threads_stay_within_the_rooms_share_and_the_machines_cores(monkeypatch):
    from seqlm_tui.core import train

    monkeypatch.setattr(train, "cpu_cores", lambda: 16)
    assert allowed_threads(8) == 8
    monkeypatch.setenv("SEQLM_MAX_THREADS", "2")
    assert allowed_threads(8) == 2 and allowed_threads(1) == 1
    monkeypatch.delenv("SEQLM_MAX_THREADS")
    monkeypatch.setattr(train, "cpu_cores", lambda: 2)
    assert allowed_threads(8) == 2  # a run from a larger machine


def test_the_app_takes_a_preset_and_the_config_flags():
    args = build_parser().parse_args(["--preset", "names-fast", "--lr", "0.01"])
    cfg = app_start_config(app_flags(args))
    assert cfg.data.dataset == "names" and cfg.train.lr == 0.01 and cfg.model == config_for("names-fast").model
    alone = app_start_config(app_flags(build_parser().parse_args(["--steps", "50"])))
    assert alone.train.steps == 50 and alone.model == config_for("counting-watch").model  # the app's own start
    assert app_start_config(app_flags(build_parser().parse_args([]))) is None
    with pytest.raises(UsageError, match="put it after 'train'"):
        app_flags(build_parser().parse_args(["--lr", "0.1", "train"]))


def test_serve_hands_its_setup_to_each_app_unchanged():
    args = build_parser().parse_args(["serve", "--preset", "counting-elman", "--lr", "0.003", "--no-one-hot",
                                      "--steps", "77"])
    setup = as_flags(args)
    again = app_start_config(app_flags(build_parser().parse_args(setup)))
    mine = app_start_config(app_flags(build_parser().parse_args(["--preset", "counting-elman", "--lr", "0.003",
                                                                  "--no-one-hot", "--steps", "77"])))
    assert again == mine and again.train.lr == 0.003 and again.model.one_hot is False


STUBBORN = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # an app whose training thread will not let it go
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
sys.stdout.write(str(child.pid) + "\\n__GANGLION__\\n"); sys.stdout.flush()
time.sleep(600)
"""


async def test_an_app_that_will_not_quit_is_killed_with_whatever_it_started():
    app = AppProcess([sys.executable, "-c", STUBBORN], dict(os.environ))
    await app.start()
    child = int(await app.proc.stdout.readline())
    assert await app.proc.stdout.readline() == PRELUDE  # it is up (and will draw nothing)
    assert await app.stop(quit_s=0.5, term_s=0.5) == "killed"
    assert app.proc.returncode == -9
    wait_for(lambda: not _alive(child), "the app's own child to end with its group")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_serve_says_in_one_sentence_what_it_cannot_do(cli, monkeypatch, tmp_path):
    code, _, err = cli("serve", "--preset", "names-fast", "--no-one-hot", "--checkpoint-dir", tmp_path)
    assert code == 2 and one_sentence(err) and "--one-hot is not used by the mlp model" in err
    code, _, err = cli("serve", "--port", "70000")
    assert code == 2 and one_sentence(err) and "--port" in err
    code, _, err = cli("serve", "--public-url", "room.example")
    assert code == 2 and one_sentence(err) and "http://" in err
    monkeypatch.setitem(sys.modules, "textual_serve", None)  # the extra is not installed
    code, _, err = cli("serve")
    assert code == 1 and one_sentence(err) and "pip install 'seqlm-tui[serve]'" in err


NOISY = """
import sys
print("a warning printed before the app's driver starts")
print("and another")
sys.stdout.write("__GANGLION__\\n"); sys.stdout.flush()
sys.stdout.buffer.write(b"D" + (5).to_bytes(4, "big") + b"hello"); sys.stdout.flush()
"""


async def test_lines_printed_before_the_driver_starts_do_not_break_the_start():
    app = AppProcess([sys.executable, "-c", NOISY], dict(os.environ))
    await app.start()
    frames = [frame async for frame in app.frames()]
    assert app.started and frames == [(b"D", b"hello")]
    assert await app.stop() == "ended"


def test_behind_a_proxy_the_page_connects_to_the_public_address(tmp_path):
    from aiohttp.test_utils import make_mocked_request

    from seqlm_tui.cli.serve.server import RoomServer

    request = make_mocked_request("GET", "/", headers={"Host": "127.0.0.1:8000"})
    proxied = RoomServer(rules(public_url="https://room.example/physics/", token="t"), tmp_path)
    assert proxied.websocket_url(request) == "wss://room.example/physics/ws"
    plain = RoomServer(rules(public_url="http://room.example:8080"), tmp_path)
    assert plain.websocket_url(request) == "ws://room.example:8080/ws"
    assert RoomServer(rules(), tmp_path).websocket_url(request) == "ws://127.0.0.1:8000/ws"
