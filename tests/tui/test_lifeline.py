"""The app when its terminal goes away (issue 21, section 4): a real process on a real pseudo-terminal, a
real signal or a closed terminal; the run being trained is saved and the process ends."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from seqlm_tui.core import checkpoint
from tests.cli.conftest import proc_env

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")
CAP_S = 180.0  # only so that a broken build cannot hang the suite; every wait is for a state


class AppOnATerminal:
    """``seqlm-tui`` (the app) as the session leader of a pseudo-terminal, as a login shell would run it."""

    def __init__(self, env: dict) -> None:
        self.pid, self.master = pty.fork()
        if self.pid == 0:  # the child: the terminal is its controlling terminal, as over SSH
            os.execve(sys.executable, [sys.executable, "-m", "seqlm_tui.cli.main"], env)
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.output = bytearray()
        self.closed = False
        self.status: int | None = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.output += data

    def text(self) -> str:
        return ANSI.sub(b"", bytes(self.output)).decode("utf-8", "replace")

    def until(self, test, what: str) -> None:
        end = time.monotonic() + CAP_S
        while not test():
            assert self.poll() is None, f"the app ended before {what}:\n{self.text()[-2000:]}"
            assert time.monotonic() < end, f"no {what}:\n{self.text()[-2000:]}"
            time.sleep(0.05)

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def poll(self) -> int | None:
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
        return self.status

    def wait(self, what: str) -> int:
        end = time.monotonic() + CAP_S
        while self.poll() is None:
            assert time.monotonic() < end, f"the app did not end after {what}"
            time.sleep(0.05)
        return self.status

    def close_terminal(self) -> None:
        os.close(self.master)  # as a closed window or a dropped connection: the kernel hangs the terminal up
        self.closed = True

    def end(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        if not self.closed:
            os.close(self.master)


@pytest.fixture
def app(tmp_path):
    made = []

    def start() -> AppOnATerminal:
        env = proc_env(SEQLM_CHECKPOINT_DIR=str(tmp_path / "ck"), TERM="xterm-256color", COLUMNS="80", LINES="24")
        a = AppOnATerminal(env)
        made.append(a)
        return a

    yield start
    for a in made:
        a.end()


def training(a: AppOnATerminal) -> None:
    """Start the default run (s) and wait until it has trained some steps (tokens per second are shown)."""
    a.until(lambda: "Press s to start" in a.text() or "press s to train" in a.text(), "the app's first frame")
    a.press("s")
    a.until(lambda: "tok/s" in a.text(), "training at work")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_a_signal_while_training_saves_the_run_and_exits_with_its_code(app, tmp_path, sig):
    a = app()
    training(a)
    os.kill(a.pid, sig)
    assert a.wait("the signal") == 128 + sig
    saved = list((tmp_path / "ck").glob("*.pt"))
    assert len(saved) == 1
    run = checkpoint.load(saved[0])
    assert run.step > 0 and run.cfg.data.dataset == "counting"
    name = signal.Signals(sig).name
    a.until(lambda: f"stopped by {name}; the run (step" in a.text().replace("\r\n", ""), "the line on stderr")
    assert str(saved[0]) in re.sub(r"\s+", "", a.text())


def test_a_closed_terminal_while_training_saves_the_run_and_ends_the_process(app, tmp_path):
    a = app()
    training(a)
    a.close_terminal()
    assert a.wait("the terminal was closed") == 128 + signal.SIGHUP
    assert not alive(a.pid)
    saved = list((tmp_path / "ck").glob("*.pt"))
    assert len(saved) == 1 and checkpoint.load(saved[0]).step > 0


def test_a_terminal_closed_while_the_app_starts_ends_the_process(app, tmp_path):
    """Closed within the first frames (a tab closed early, a connection dropped right after login): nothing
    to save, and the process ends instead of waiting for ever on its dead terminal."""
    a = app()
    a.until(lambda: len(a.output) > 0, "the first frame")
    a.close_terminal()
    assert a.wait("the terminal was closed") == 128 + signal.SIGHUP
    assert not list((tmp_path / "ck").glob("*.pt"))
