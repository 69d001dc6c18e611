"""Train and dev loss against step, redrawn a few times a second at most."""

from __future__ import annotations

import math

from textual_plotext import PlotextPlot

from seqlm_tui.core.history import History, downsample

SMOOTH_WINDOW = 0.02  # fraction of the points averaged for the smoothed curve


def smooth(values: list[float], width: int) -> list[float]:
    """Moving average (the raw curve of a minibatch loss is noisy)."""
    if not values:
        return []
    k = max(1, int(len(values) * SMOOTH_WINDOW), len(values) // max(width, 1))
    out, acc = [], 0.0
    for i, v in enumerate(values):
        acc += v
        if i >= k:
            acc -= values[i - k]
        out.append(acc / min(i + 1, k))
    return out


def nice_step(span: float, target: int = 5) -> float:
    """1, 2 or 5 times a power of ten, so that about ``target`` ticks cover ``span``."""
    raw = max(span, 1e-12) / target
    base = 10 ** math.floor(math.log10(raw))
    return next((m * base for m in (1, 2, 5) if m * base >= raw), 10 * base)


def step_ticks(lo: float, hi: float, target: int = 5) -> tuple[list[float], list[str]]:
    """Whole-step ticks labelled 1,200 rather than 1200.0 (plotext's own ticks fall between steps)."""
    step = max(1, round(nice_step(hi - lo, target)))
    first = math.ceil(lo / step) * step
    ticks = [float(t) for t in range(int(first), int(hi) + 1, step)]
    return ticks, [f"{int(t):,}" for t in ticks]


def log_ticks(lo: float, hi: float, most: int = 8) -> tuple[list[float], list[str]]:
    """Ticks of a log10 axis labelled with the loss itself (0.01, 0.02, 0.05, 0.1 ...)."""
    for mults in ((1, 2, 5), (1, 3), (1,)):
        ticks, labels = [], []
        for decade in range(math.floor(lo), math.ceil(hi) + 1):
            for m in mults:
                v = math.log10(m) + decade
                if lo <= v <= hi:
                    ticks.append(v)
                    labels.append(f"{m * 10.0 ** decade:.4g}")
        if len(ticks) <= most:
            break
    if len(ticks) < 3:  # less than a decade: evenly spaced losses
        a, b = 10 ** lo, 10 ** hi
        step = nice_step(b - a, 4)
        values = [k * step for k in range(math.ceil(a / step), math.floor(b / step) + 1) if k > 0]
        ticks, labels = [math.log10(v) for v in values], [f"{v:.4g}" for v in values]
    return ticks, labels


class LossChart(PlotextPlot):
    """Call ``show(history)``; a timer in the app calls ``redraw_if_dirty``."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.history: History | None = None
        self.log_y = False
        self.dirty = True
        self.title = "loss"

    def show(self, history: History | None, title: str | None = None) -> None:
        self.history = history
        if title:
            self.title = title
        self.dirty = True

    def mark_dirty(self) -> None:
        self.dirty = True

    def toggle_log(self) -> None:
        self.log_y = not self.log_y
        self.dirty = True
        self.redraw_if_dirty()

    def series(self) -> dict[str, tuple[list[float], list[float]]]:
        """What is drawn, downsampled to the chart width (also read by tests)."""
        h = self.history
        width = max(10, self.size.width - 10)
        out: dict[str, tuple[list[float], list[float]]] = {}
        if h is None or not len(h.train):
            return out
        steps, values = list(h.train.steps), list(h.train.values)
        sm = smooth(values, width)
        out["train"] = downsample(steps, values, width)
        out["smoothed"] = downsample(steps, sm, width)
        if len(h.dev):
            out["dev"] = (list(h.dev.steps), list(h.dev.values))
        return out

    def redraw_if_dirty(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.title + ("  (log y)" if self.log_y else ""))
        plt.xlabel("step")
        data = self.series()

        def y(vals):
            return [math.log10(max(v, 1e-12)) for v in vals] if self.log_y else vals

        if "train" in data and len(data["train"][0]) == 1:
            # A model that learns by counting has one train loss and one dev loss, not a curve: two levels.
            train = data["train"][1][0]
            dev = data["dev"][1][-1] if "dev" in data else None
            plt.title(f"{self.title}: counted in one pass, train {train:.4f}" + (f", dev {dev:.4f}" if dev else ""))
            plt.hline(y([train])[0], "gray")
            if dev is not None:
                plt.hline(y([dev])[0], "red")
            plt.ylim(*sorted((0.9 * min(y([train, dev or train])), 1.1 * max(y([train, dev or train])))))
            self.refresh()
            return
        if "train" in data:
            plt.plot(data["train"][0], y(data["train"][1]), label="train", marker="dot", color="gray")
            plt.plot(data["smoothed"][0], y(data["smoothed"][1]), label="smoothed", marker="braille", color="blue")
        if "dev" in data:
            plt.plot(data["dev"][0], y(data["dev"][1]), label="dev", marker="hd", color="red")
        if data:
            xs = [x for xs, _ in data.values() for x in xs]
            plt.xticks(*step_ticks(min(xs), max(xs)))
            if self.log_y:
                ys = [v for _, vs in data.values() for v in y(vs)]
                ticks, labels = log_ticks(min(ys), max(ys))
                if len(ticks) >= 2:
                    plt.yticks(ticks, labels)
        self.refresh()
