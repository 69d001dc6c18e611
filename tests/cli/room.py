"""Helpers for the tests of ``seqlm-tui serve``: a real server on a free port, and the process table."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from tests.cli.conftest import proc_env

SAFETY_S = 120.0  # a net for a hang, far beyond what a busy machine needs: the waits are for states


class Served:
    def __init__(self, proc: subprocess.Popen, url: str, folder: Path) -> None:
        self.proc, self.url, self.folder = proc, url, folder

    @property
    def base(self) -> str:
        return self.url.split("?")[0]

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1].strip("/"))

    def log(self) -> str:
        """serve's stderr so far (it logs each session's start and end there)."""
        return self.proc.stderr.read() if self.proc.poll() is not None else ""


def apps_of(folder: Path) -> list[int]:
    """Every process on the machine that is an app of the room at ``folder``, read from the process table
    (its environment names the room's folder), whoever its parent is now: an orphan counts."""
    mark = f"SEQLM_ROOM_SHARED={folder}".encode()
    found = []
    for env in Path("/proc").glob("[0-9]*/environ"):
        try:
            if mark in env.read_bytes().split(b"\0"):
                status = (env.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if status != "Z":
                    found.append(int(env.parent.name))
        except OSError:
            continue
    return found


def wait_for(cond, what: str, timeout: float = SAFETY_S) -> None:
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.1)


@contextmanager
def served(folder: Path, *args: str):
    """``seqlm-tui serve`` on a free local port with ``folder`` as its checkpoint folder; stopped (SIGTERM)
    at the end, and then no app of the room may be left in the process table."""
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "seqlm_tui.cli.main", "serve", "--port", "0",
                             "--checkpoint-dir", str(folder), *args],
                            env=proc_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], SAFETY_S)
        line = proc.stdout.readline() if ready else ""
        assert line.startswith("seqlm-tui serve: open "), f"serve did not start: {line!r} {proc.stderr.read()!r}"
        yield Served(proc, line.split("open ", 1)[1].strip(), folder.resolve())
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(SAFETY_S)
            except subprocess.TimeoutExpired:
                proc.kill()
        try:
            wait_for(lambda: not apps_of(folder.resolve()), "every app of the room to end after serve")
        finally:
            kill_leftovers(folder.resolve())  # a failed test leaves nothing on the shared machine


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def kill_leftovers(folder: Path) -> None:
    for pid in apps_of(folder):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
