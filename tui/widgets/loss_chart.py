"""Train and dev loss against step, redrawn a few times a second at most."""

from __future__ import annotations

import math

from textual_plotext import PlotextPlot

from core.history import History, downsample

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
            return [math.log10(v) if self.log_y and v > 0 else v for v in vals]

        if "train" in data:
            plt.plot(data["train"][0], y(data["train"][1]), label="train", marker="dot", color="gray")
            plt.plot(data["smoothed"][0], y(data["smoothed"][1]), label="smoothed", marker="braille", color="blue")
        if "dev" in data:
            plt.plot(data["dev"][0], y(data["dev"][1]), label="dev", marker="hd", color="red")
        if self.log_y:
            plt.ylabel("log10 loss")
        self.refresh()
