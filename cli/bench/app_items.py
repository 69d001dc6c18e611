"""Bench items that drive the app headless (Textual's pilot): training inside it against headless, the time
from a key to the screen, start-up."""

from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from textual import events

from seqlm_tui.core import checkpoint
from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.core.run import new_run
from seqlm_tui.core.train import Trainer

_FIRST_FRAME = """
import time, asyncio
t0 = time.perf_counter()
from seqlm_tui.tui.app import SeqlmApp
async def main():
    app = SeqlmApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0)
        print(time.perf_counter() - t0, flush=True)
        while not (app.panes_in and app.train.run is not None):  # let it finish starting before teardown
            await pilot.pause(0.05)
asyncio.run(main())
"""


def _wall(args: list[str]) -> float:
    t0 = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return float(out.split()[-1]) if out.strip() else time.perf_counter() - t0


def startup(repeats: int = 3) -> tuple[float, float]:
    """Median seconds to the app's first frame vs to ``import torch, textual`` (each a fresh process)."""
    app, base = [], []
    for _ in range(repeats):
        base.append(_wall([sys.executable, "-c", "import time; t=time.perf_counter(); import torch, textual; "
                           "print(time.perf_counter() - t)"]))
        app.append(_wall([sys.executable, "-c", _FIRST_FRAME]))
    return statistics.median(app), statistics.median(base)


def _cfg(steps: int, eval_every: int = 10 ** 8):
    return apply(config_for("names-mlp-seed"), {"train": {"steps": steps, "schedule": "constant",
                                                          "eval_every": eval_every, "eval_cap": 1000}})


def headless_rate(seconds: float) -> float:
    run = new_run(_cfg(10 ** 8))
    trainer = Trainer(run, sample_count=0)
    th = threading.Thread(target=lambda: [None for _ in trainer.events()])
    th.start()
    time.sleep(1.0)
    a = run.step
    time.sleep(seconds)
    rate = (run.step - a) / seconds
    trainer.stop()
    th.join()
    return rate


async def _latencies(app, pilot, presses: int) -> list[float]:
    """Milliseconds from a pane key arriving (as the terminal driver delivers it) to the pane having
    switched and the screen one turn of the loop later."""
    lat = []
    tabs = app.query_one("#tabs")
    for i in range(presses):
        key, tab = ("f4", "sweep") if i % 2 == 0 else ("f3", "train")
        t = time.perf_counter()
        app.post_message(events.Key(key, None))
        for _ in range(20000):
            if tabs.active == tab:
                break
            await asyncio.sleep(0.0005)
        await asyncio.sleep(0)
        lat.append((time.perf_counter() - t) * 1000)
        await pilot.pause(0.1)
    return lat


def app_rate_and_latency(seconds: float, presses: int = 20) -> tuple[float, list[float]]:
    from seqlm_tui.tui.app import SeqlmApp

    result: dict = {}

    async def main():
        app = SeqlmApp(_cfg(10 ** 8))
        async with app.run_test(size=(100, 30)) as pilot:
            while not (app.panes_in and app.train.run is not None):
                await pilot.pause(0.05)
            app.post_message(events.Key("s", "s"))
            await pilot.pause(1.0)
            a, t0 = app.train.run.step, time.perf_counter()
            await pilot.pause(seconds)
            result["rate"] = (app.train.run.step - a) / (time.perf_counter() - t0)
            result["latency"] = await _latencies(app, pilot, presses)
            app.train.stop()
            await pilot.pause(0.2)

    asyncio.run(main())
    return result["rate"], result["latency"]


def autosave_latency(files: int = 500, presses: int = 40) -> tuple[list[float], int]:
    """Key-to-screen while training with autosave on and ``files`` checkpoints in the folder: every new best
    dev loss writes a checkpoint (in a worker) and the browser reads the folder again (cards only)."""
    import os

    from seqlm_tui.tui.app import SeqlmApp

    folder = Path(tempfile.mkdtemp(prefix="seqlm-bench-"))
    old = os.environ.get("SEQLM_CHECKPOINT_DIR")
    os.environ["SEQLM_CHECKPOINT_DIR"] = str(folder)
    result: dict = {}
    try:
        seed = checkpoint.save(new_run(_cfg(1)), folder / "seed-000.pt")
        for i in range(1, files):
            shutil.copy(seed, folder / f"seed-{i:03d}.pt")

        async def main():
            app = SeqlmApp(_cfg(10 ** 8, eval_every=100))  # a new best every ~40 ms: saves keep coming
            async with app.run_test(size=(100, 30)) as pilot:
                while not (app.panes_in and app.train.run is not None):
                    await pilot.pause(0.05)
                await pilot.click("#autosave")
                app.post_message(events.Key("s", "s"))
                await pilot.pause(1.0)
                result["latency"] = await _latencies(app, pilot, presses)
                result["saved"] = len(list(folder.glob("*-best.pt")))
                app.train.stop()
                await pilot.pause(0.3)

        asyncio.run(main())
    finally:
        if old is None:
            os.environ.pop("SEQLM_CHECKPOINT_DIR", None)
        else:
            os.environ["SEQLM_CHECKPOINT_DIR"] = old
        shutil.rmtree(folder, ignore_errors=True)
    return result["latency"], result["saved"]
