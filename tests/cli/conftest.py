"""Helpers for the command-line tests: the CLI in this process, or as a real subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from seqlm_tui.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Commands run in this process train tiny models: one intra-op thread each. With torch's default of a
    thread per core, the two test workers' OpenMP teams spin against each other on 2 cores (a 2 s test
    took 75 s in the suite). What a command does with --threads is tested on its own (test_promises)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def cli(capsys):
    """``cli("train", ...) -> (exit code, stdout, stderr)``, run in this process."""
    def run(*args: str):
        try:
            code = main([str(a) for a in args])
        except SystemExit as end:  # argparse's own ways out: --help, a usage error
            code = end.code
        out, err = capsys.readouterr()
        return code, out, err
    return run


def proc_env(**extra: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), **extra)
    env.pop("SEQLM_FAULT", None)
    env.update(extra)
    return env


def start(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    """The CLI as a real process (signals, permissions, terminals)."""
    return subprocess.Popen([sys.executable, "-m", "seqlm_tui.cli.main", *map(str, args)], env=env or proc_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def one_sentence(err: str) -> bool:
    lines = [line for line in err.strip().splitlines() if line]
    return len(lines) == 1 and "Traceback" not in err and lines[0].startswith("seqlm-tui: ")


@pytest.fixture(scope="session")
def names_ckpt(tmp_path_factory) -> Path:
    """A small MLP trained on names (300 steps), made once; tests copy it."""
    import torch

    from seqlm_tui.core import checkpoint
    from seqlm_tui.core.presets import apply, config_for
    from seqlm_tui.core.run import new_run
    from seqlm_tui.core.train import Trainer

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    run = new_run(apply(config_for("names-fast"), {"train": {"steps": 300, "eval_every": 100}}))
    for _ in Trainer(run, sample_count=0).events():
        pass
    torch.set_num_threads(before)
    return checkpoint.save(run, tmp_path_factory.mktemp("ckpt") / "names.pt")


@pytest.fixture
def ckpt(names_ckpt, tmp_path) -> Path:
    p = tmp_path / "names.pt"
    shutil.copy(names_ckpt, p)
    return p
