import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
if "SEQLM_DATA_DIR" not in os.environ and SHARED.is_dir():
    os.environ["SEQLM_DATA_DIR"] = str(SHARED)


@pytest.fixture(autouse=True)
def _checkpoints_in_tmp(tmp_path, monkeypatch):
    """No test writes into the repository's checkpoints/ folder."""
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))


@pytest.fixture(scope="session")
def names():
    from core import datasets
    from core.config import DataConfig

    return datasets.load(DataConfig(dataset="names"))


@pytest.fixture(scope="session")
def timemachine():
    from core import datasets
    from core.config import DataConfig

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
    import signal

    for pid in _children():
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
