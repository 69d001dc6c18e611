import faulthandler
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
if "SEQLM_DATA_DIR" not in os.environ and SHARED.is_dir():
    os.environ["SEQLM_DATA_DIR"] = str(SHARED)


@pytest.fixture(autouse=True)
def _checkpoints_in_tmp(tmp_path, monkeypatch):
    """No test writes into the repository's checkpoints/ folder, nor into the user's lesson progress (the
    state folder, XDG_STATE_HOME on Linux: platformdirs reads it)."""
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture(scope="session")
def names():
    from seqlm_tui.core import datasets
    from seqlm_tui.core.config import DataConfig

    return datasets.load(DataConfig(dataset="names"))


@pytest.fixture(scope="session")
def timemachine():
    from seqlm_tui.core import datasets
    from seqlm_tui.core.config import DataConfig

    return datasets.load(DataConfig(dataset="timemachine"))


def _children() -> list[int]:
    me, kids = os.getpid(), []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] != "Z":
            kids.append(int(stat.parent.name))
    return kids


@pytest.fixture(autouse=True)
def _no_process_outlives_its_test():
    """A test that fails before it stops the command it started would leave it training on a shared CPU
    and slow every test after it; whatever a test started ends with it."""
    yield
    for pid in _children():
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


# A test that hangs ends its worker with every thread's stack printed, instead of holding CI until its
# deadline. Our own watch, not pytest-timeout's or pytest's faulthandler timer: both are cancelled as soon
# as a test fails, and the hang seen in CI came after a failure (an app's thread that never ended held the
# test's event loop open as it closed).
HANG_S = 300
_deadline = [float("inf")]


def _watch(config) -> None:
    while time.monotonic() < _deadline[0]:
        time.sleep(1)
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:  # else the stacks go to the test's captured output, lost with the worker
        capture.suspend_global_capture(in_=True)
    sys.stderr.write(f"\n+++ a test has not ended in {HANG_S} s: the stacks of its threads, then its worker ends\n")
    faulthandler.dump_traceback(all_threads=True)
    os._exit(1)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _deadline[0] = time.monotonic() + HANG_S
    yield
    _deadline[0] = float("inf")


def pytest_configure(config):
    threading.Thread(target=_watch, args=(config,), daemon=True, name="hang-watch").start()
