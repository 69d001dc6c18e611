"""A labelled scatter laid out in terminal cells (the embedding map), for both front ends.

Each point is drawn as its own label. Labels are placed by display width (a wide character takes two
cells) and never over one another: a label that would land on another is moved to the nearest free
place, and one that finds none within reach is reported as not placed, so that what is drawn is never
silently fewer points than the model has.
"""

from __future__ import annotations

from dataclasses import dataclass

from seqlm_tui.core.fmt import cell_width, char_width, fit

NUDGE = 3  # how many rows and columns away a label may move from its point


@dataclass
class Placed:
    label: str
    row: int
    col: int
    moved: bool


@dataclass
class Scatter:
    cells: list[list[str]]        # rows of cells: a wide character's second cell is ""
    placed: list[Placed]
    unplaced: list[str]
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    def row_text(self, r: int) -> str:
        return "".join(self.cells[r])


def _span(values: list[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:
        lo, hi = lo - 1.0, hi + 1.0
    return lo, hi


def layout(labels: list[str], xs: list[float], ys: list[float], width: int, height: int) -> Scatter:
    """Place every label in a ``width`` x ``height`` grid of cells (x grows right, y grows up)."""
    width, height = max(width, 4), max(height, 2)
    cells = [[" "] * width for _ in range(height)]
    taken = [[False] * width for _ in range(height)]
    (x0, x1), (y0, y1) = _span(xs or [0.0]), _span(ys or [0.0])
    placed, unplaced = [], []

    def free(r: int, c: int, w: int) -> bool:
        # one blank cell on either side keeps neighbouring labels apart
        lo, hi = max(0, c - 1), min(width, c + w + 1)
        return 0 <= r < height and c >= 0 and c + w <= width and not any(taken[r][lo:hi])

    order = sorted(range(len(labels)), key=lambda i: (-cell_width(labels[i]), i))
    for i in order:
        label = labels[i] if cell_width(labels[i]) <= width else fit(labels[i], width)
        w = max(1, cell_width(label))
        c0 = round((xs[i] - x0) / (x1 - x0) * (width - w))
        r0 = round((y1 - ys[i]) / (y1 - y0) * (height - 1))
        spot = None
        for d in range(NUDGE + 1):
            ring = [(dr, dc) for dr in range(-d, d + 1) for dc in range(-2 * d, 2 * d + 1)
                    if max(abs(dr), (abs(dc) + 1) // 2) == d]
            ring.sort(key=lambda p: (abs(p[0]) + abs(p[1]), p))
            for dr, dc in ring:
                if free(r0 + dr, c0 + dc, w):
                    spot = (r0 + dr, c0 + dc)
                    break
            if spot:
                break
        if spot is None:
            unplaced.append(labels[i])
            continue
        r, c = spot
        k = c
        for ch in label:
            cw = char_width(ch)
            if cw == 0 and k > c:  # a combining mark joins the character before it
                cells[r][k - 1] += ch
                continue
            cells[r][k] = ch
            if cw == 2:
                cells[r][k + 1] = ""
            k += max(cw, 1)
        for j in range(c, c + w):
            taken[r][j] = True
        placed.append(Placed(labels[i], r, c, spot != (r0, c0)))
    return Scatter(cells, placed, unplaced, (x0, x1), (y0, y1))


def framed(labels: list[str], xs: list[float], ys: list[float], width: int, height: int) -> tuple[list[str], Scatter]:
    """The scatter in a frame with its axis values, every line exactly ``width`` cells; a last line lists the
    labels that found no room (when any did not)."""
    margin = 8
    inner = max(4, width - margin - 2)
    plot = layout(labels, xs, ys, inner, max(2, height - 3 - (1 if labels else 0)))
    rows = len(plot.cells)
    (x0, x1), (y0, y1) = plot.x_range, plot.y_range
    lines = [" " * margin + "┌" + "─" * inner + "┐"]
    for r in range(rows):
        tick = f"{y1 - (y1 - y0) * r / max(rows - 1, 1):.3g}" if r in (0, rows // 2, rows - 1) else ""
        lines.append(fit(tick, margin - 1, ">") + " │" + plot.row_text(r) + "│")
    lines.append(" " * margin + "└" + "─" * inner + "┘")
    left, right = f"{x0:.3g}", f"{x1:.3g}"
    lines.append(fit(" " * (margin + 1) + left + " " * max(1, inner - len(left) - len(right)) + right, width))
    if plot.unplaced:
        lines.append(fit(f"no room for {len(plot.unplaced)}: {' '.join(plot.unplaced)}", width))
    return lines, plot
