"""A pane switch: the time from a pane key arriving to the first frame that shows the other pane, in the app
and in a plain Textual app of the same shape (six tabs, a form of 30 labelled boxes, a footer), measured the
same way in the same run. "A frame" is the app's own: the moment its compositor hands the screen's update
to the driver (headless, the driver writes nothing; a terminal adds its own time to both sides alike)."""

from __future__ import annotations

import asyncio
import statistics
import time

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Input, Label, Static, TabbedContent, TabPane

PAIR = (("f2", "setup"), ("f3", "train"))  # the switch the issue timed: Setup (the big form) and Train


class PlainApp(App):
    """The baseline: what Textual itself costs for this shape."""

    CSS = ".row { height: 1; } .row Label { width: 18; } .row Input { width: 24; }"
    BINDINGS = [Binding(f"f{i + 2}", f"show('{p}')", p.title()) for i, p in
                enumerate(("setup", "train", "sweep", "prompt", "checkpoints", "insight"))]

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="train", id="tabs"):
            with TabPane("Setup", id="setup"), VerticalScroll():
                for i in range(30):
                    with Horizontal(classes="row"):
                        yield Label(f"field {i}")
                        yield Input(str(i), compact=True)
                        yield Label("what the field is for")
            for pane in ("train", "sweep", "prompt", "checkpoints", "insight"):
                with TabPane(pane.title(), id=pane):
                    yield Static(pane)
        yield Footer()

    def action_show(self, pane: str) -> None:
        self.query_one(TabbedContent).active = pane


async def switch_times(app: App, pilot, presses: int) -> list[float]:
    """Milliseconds from each pane key (as the terminal driver posts it) to the first frame after the pane
    changed; an idle pause between presses."""
    frames: list[float] = []
    display = app._display  # Textual's hand-over of a composed frame to the driver

    def counted(screen, renderable) -> None:
        if renderable is not None:
            frames.append(time.perf_counter())
        display(screen, renderable)

    app._display = counted
    tabs = app.query_one("#tabs", TabbedContent)
    out = []
    try:
        for i in range(presses):
            key, pane = PAIR[i % 2]
            t0 = time.perf_counter()
            app.post_message(events.Key(key, None))
            while tabs.active != pane:
                await asyncio.sleep(0.0005)
            shown = time.perf_counter()
            while not frames or frames[-1] < shown:
                await asyncio.sleep(0.0005)
            out.append((next(f for f in frames if f >= shown) - t0) * 1000)
            await pilot.pause(0.15)
    finally:
        app._display = display
    return out


def measure(make_app, presses: int, ready=None, before=None) -> list[float]:
    result: list[float] = []

    async def main():
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            while ready is not None and not ready(app):
                await pilot.pause(0.05)
            if before is not None:
                await before(app, pilot)
            await pilot.pause(0.3)
            result.extend(await switch_times(app, pilot, presses))
            if hasattr(app, "train"):
                app.train.stop()
                await pilot.pause(0.2)

    asyncio.run(main())
    return result


def ours(training: bool = False):
    from seqlm_tui.core.presets import apply, config_for
    from seqlm_tui.tui.app import SeqlmApp

    cfg = apply(config_for("counting-watch"), {"train": {"steps": 10 ** 7}})

    async def start(app, pilot):
        if training:
            app.post_message(events.Key("s", "s"))
            while app.train.state != "running":
                await pilot.pause(0.05)

    return (lambda: SeqlmApp(cfg)), (lambda app: app.panes_in and app.train.run is not None), start


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[max(0, int(0.95 * len(values)) - 1)]


def pane_switch(quick: bool, rounds: int | None = None) -> dict:
    """Interleaved rounds of the plain app, the app idle and the app training (the box drifts within
    minutes); every switch of one kind pooled."""
    rounds = rounds or (1 if quick else 3)
    presses = 20 if quick else 30
    got: dict[str, list[float]] = {"plain": [], "idle": [], "training": []}
    for _ in range(rounds):
        got["plain"] += measure(PlainApp, presses)
        for kind in ("idle", "training"):
            make, ready, before = ours(kind == "training")
            got[kind] += measure(make, presses, ready, before)
    return {k: {"median": statistics.median(v), "p95": p95(v), "ms": v} for k, v in got.items()}


def rows(quick: bool) -> list:
    """The bench item: three rows, the plain Textual app first (the floor the two others stand beside)."""
    from seqlm_tui.cli.bench.suite import Row
    from seqlm_tui.tui.threads import leave_a_core_to_the_ui

    leave_a_core_to_the_ui()  # the app's thread policy, as in the app itself
    got = pane_switch(quick)
    plain = got["plain"]
    out = [Row("pane_switch_plain", "Pane switch F2/F3, a plain Textual app of the same shape",
               f"median {plain['median']:.1f} ms, p95 {plain['p95']:.1f} ms", plain["p95"], "(baseline)", None,
               {"latency_ms": plain["ms"]})]
    for kind in ("idle", "training"):
        r = got[kind]
        out.append(Row(f"pane_switch_{kind}", f"Pane switch F2/F3, the app {kind}",
                       f"median {r['median']:.1f} ms, p95 {r['p95']:.1f} ms (plain: {plain['median']:.1f}, "
                       f"{plain['p95']:.1f})", r["p95"], "p95 <= 50 ms", r["p95"] <= 50, {"latency_ms": r["ms"]}))
    return out
