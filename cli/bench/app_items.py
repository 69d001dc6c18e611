"""Bench items that drive the app headless (pilot). They live with the app, so that core never imports
textual."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import threading
import time

from textual import events

from core.presets import apply, config_for
from core.run import new_run
from core.train import Trainer

_FIRST_FRAME = """
import time, asyncio
t0 = time.perf_counter()
from tui.app import SeqlmApp
async def main():
    app = SeqlmApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0)
        print(time.perf_counter() - t0, flush=True)
        await pilot.pause(1.0)  # let the lazily mounted Setup form finish before the pilot tears the app down
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


def _cfg(steps: int):
    return apply(config_for("names-mlp-seed"), {"train": {"steps": steps, "schedule": "constant",
                                                          "eval_every": 10 ** 8, "eval_cap": 1}})


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


def app_rate_and_latency(seconds: float, presses: int = 20) -> tuple[float, list[float]]:
    from tui.app import SeqlmApp

    result: dict = {}

    async def main():
        app = SeqlmApp(_cfg(10 ** 8))
        async with app.run_test(size=(100, 30)) as pilot:
            while app.current is None:
                await pilot.pause(0.05)
            await pilot.press("s")
            await pilot.pause(1.0)
            a, t0 = app.current.step, time.perf_counter()
            await pilot.pause(seconds)
            result["rate"] = (app.current.step - a) / (time.perf_counter() - t0)
            lat = []
            tabs = app.query_one("#tabs")
            for i in range(presses):
                key, tab = ("f4", "sweep") if i % 2 == 0 else ("f3", "train")
                t = time.perf_counter()
                app._driver.send_message(events.Key(key, None))  # as the terminal driver delivers a key
                for _ in range(4000):
                    if tabs.active == tab:  # the key is handled: the pane switched
                        break
                    await asyncio.sleep(0.0005)
                await asyncio.sleep(0)  # and one turn of the loop, in which the screen is redrawn
                lat.append((time.perf_counter() - t) * 1000)
                await pilot.pause(0.1)
            result["latency"] = lat
            app.action_stop()
            await pilot.pause(0.2)

    asyncio.run(main())
    return result["rate"], result["latency"]
