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
