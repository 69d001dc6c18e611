"""Pictures drawn as text for the command line: line charts, the embedding scatter, the bigram grid, bars.

Everything fits the terminal's width in display cells (a wide character is two cells), and reads without
colour: with NO_COLOR or in a pipe each series of a chart has its own letter as its marker and in the
legend, so that curves are told apart by shape, not by hue.
"""

from __future__ import annotations

import math

from seqlm_tui.cli.output import ascii_only, colour, width
from seqlm_tui.core.fmt import SHADES, cell_width, fit, shade_edges, shade_level
from seqlm_tui.core.glyphs import to_ascii
from seqlm_tui.core.textplot import framed

COLOURS = ("blue", "red", "green", "magenta", "cyan", "orange", "gray", "yellow")
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def line_chart(series: list[tuple[str, list[float], list[float]]], title: str, xlabel: str = "",
               vline: float | None = None, height: int = 22, xticks=None) -> str:
    """Curves (label, xs, ys) overlaid, with a legend; ``vline`` marks one x (the suggested rate)."""
    import plotext as plt

    coloured = colour()
    plt.clear_figure()
    for i, (label, xs, ys) in enumerate(series):
        if not xs:
            continue
        if coloured and not ascii_only():
            plt.plot(xs, ys, label=label, marker="braille" if i else "dot", color=COLOURS[i % len(COLOURS)])
        elif coloured:
            plt.plot(xs, ys, label=label, marker=LETTERS[i % len(LETTERS)], color=COLOURS[i % len(COLOURS)])
        else:
            plt.plot(xs, ys, label=label, marker=LETTERS[i % len(LETTERS)])
    if vline is not None:
        plt.vline(vline, "red" if coloured else None)
    if xticks:
        plt.xticks(*xticks)
    plt.title(title)
    if xlabel:
        plt.xlabel(xlabel)
    plt.plotsize(width(), height)
    chart = plt.build()
    return chart if coloured else plt.uncolorize(chart)


def shown(labels: list[str]) -> list[str]:
    """Labels as the stream can show them: on an ASCII-only stream, escaped before they are laid out (an
    escape is several cells wide, and the layout must know it)."""
    if not ascii_only():
        return labels
    return [to_ascii(s).encode("ascii", "backslashreplace").decode("ascii") for s in labels]


def scatter(labels: list[str], xs: list[float], ys: list[float], title: str, height: int = 24) -> list[str]:
    """The labelled scatter in a frame, every row exactly as wide as the terminal allows."""
    labels = shown(labels)
    total = width()
    lines, _ = framed(labels, xs, ys, total, height + 4)
    return [fit(title, total), *lines]


def _cell(labels: list[str]) -> int:
    """Cells per grid entry: 2, or 3 when labels need it (the counting task's numbers up to 127)."""
    return 3 if any(cell_width(s) >= 3 for s in labels) else 2


def grid_subset(labels: list[str], probs: list[list[float]], cols: int) -> list[int]:
    """Which tokens a grid ``cols`` cells wide can show: all of them, or the likeliest next tokens
    (largest column mass) in vocabulary order."""
    n = len(labels)
    room = max(1, cols)
    if n <= room:
        return list(range(n))
    mass = [sum(row[j] for row in probs) for j in range(n)]
    best = sorted(range(n), key=lambda j: -mass[j])[:room]
    return sorted(best)


def shade_grid(labels: list[str], probs: list[list[float]]) -> list[str]:
    """The bigram table as text: row = current character, column = next; darker is likelier."""
    labels = shown(labels)
    cell = _cell(labels)
    lw = max(cell, min(6, max(cell_width(s) for s in labels)))
    total = width(400)
    keep = grid_subset(labels, probs, (total - lw - 2) // cell)
    top = max((probs[i][j] for i in keep for j in keep), default=0.0) or 1.0
    lines = [" " * (lw + 1) + "".join(fit(labels[j], cell) for j in keep)]
    for i in keep:
        lines.append(fit(labels[i], lw, ">") + " " + "".join(SHADES[shade_level(probs[i][j], top)] * cell
                                                             for j in keep))
    e = shade_edges(top)
    lines.append(fit(f"rows: current character, columns: next; {SHADES[1]} < {e[1]:.2g} <= {SHADES[2]} < "
                     f"{e[2]:.2g} <= {SHADES[3]} < {e[3]:.2g} <= {SHADES[4]} (max {top:.2f})", total))
    if len(keep) < len(labels):
        lines.append(fit(f"showing {len(keep)} of {len(labels)} tokens (the likeliest next ones) to fit "
                         f"{total} columns; --json has them all.", total))
    return lines


def bars(rows: list[tuple[str, float]], counts: dict[str, int] | None = None, limit: int = 40) -> list[str]:
    """Sorted (label, probability) pairs as bars, labels right-aligned by display width."""
    if not rows:
        return []
    rows = list(zip(shown([lab for lab, _ in rows]), [p for _, p in rows]))
    counts = dict(zip(shown(list(counts)), counts.values())) if counts is not None else None
    lw = min(12, max(cell_width(lab) for lab, _ in rows))
    total = width()
    top = rows[0][1] or 1.0
    bar_w = max(8, min(40, total - lw - 18))
    lines = []
    for lab, p in rows[:limit]:
        n = f"  {counts[lab]:,}" if counts is not None and lab in counts else ""
        length = max(1 if p > 0 else 0, round(p / top * bar_w)) if math.isfinite(p) else 0
        lines.append(fit(f"{fit(lab, lw, '>')} {'█' * length:<{bar_w}} {p:.3f}{n}", total).rstrip())
    if len(rows) > limit:
        lines.append(f"... and {len(rows) - limit} more, together {sum(p for _, p in rows[limit:]):.3f}")
    return lines
