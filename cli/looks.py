"""The neuron and attention pictures as terminal text (``seqlm-tui inspect --neurons / --attention``).

Three ways to draw, chosen by the terminal: colour (16 ANSI colours, which every colour terminal has),
plain (NO_COLOR or a pipe: the same pictures in glyphs, a sign/strength row under the text), and ASCII
(TERM=dumb). Every line fits the width given, counted in display cells.
"""

from __future__ import annotations

import os
import re

from seqlm_tui.cli.output import colour
from seqlm_tui.core.attention import ASCII_SHADES, COLOURS, MASKED, SHADES, AttentionReading
from seqlm_tui.core.fmt import cell_width, fit, shade_edges
from seqlm_tui.core.neurons import (
    ASCII_GLYPHS,
    GLYPHS,
    LEVEL_COLOURS,
    STRONG,
    WEAK,
    NeuronReading,
    coloured_label,
    guess_style,
    wrap,
)

ANSI = {"black": 0, "red": 1, "green": 2, "yellow": 3, "blue": 4, "magenta": 5, "cyan": 6, "white": 7}
ATTRS = {"bold": "1", "dim": "2", "reverse": "7", "": ""}
ASCII_LABELS = {"⏎": "$", "⇥": ">", "␣": "_", "◌": "", "·": "."}


def mode() -> str:
    """"ascii" on a dumb terminal, "colour" on a colour one, "plain" otherwise (NO_COLOR, a pipe)."""
    if os.environ.get("TERM") == "dumb":
        return "ascii"
    return "colour" if colour() else "plain"


def sgr(fg: str | None = None, bg: str | None = None, attr: str = "") -> str:
    codes = [ATTRS[attr]] if ATTRS.get(attr) else []
    for name, base in ((fg, 30), (bg, 40)):
        if name:
            bright = name.startswith("bright_")
            codes.append(str(base + (60 if bright else 0) + ANSI[name.removeprefix("bright_")]))
    return f"\x1b[{';'.join(codes)}m" if codes else ""


def paint(text: str, code: str) -> str:
    return f"{code}{text}\x1b[0m" if code else text


def asciified(label: str) -> str:
    for k, v in ASCII_LABELS.items():
        label = label.replace(k, v)
    return label or "?"


# -- neurons --------------------------------------------------------------------------------------


def neuron_lines(reading: NeuronReading, group: int, unit: int, width: int, how: str,
                 guesses: bool = False) -> list[str]:
    """The text, each character coloured by the unit (or with a glyph row under it), wrapped to ``width``."""
    labels = [asciified(lab) for lab in reading.labels] if how == "ascii" else list(reading.labels)
    sep = 1 if reading.numbers else 0
    lv = reading.levels(group, unit)
    glyphs = ASCII_GLYPHS if how == "ascii" else GLYPHS
    out = []
    for line in wrap(labels, width, sep):
        text, marks = "", ""
        for i in line:
            w = max(1, cell_width(labels[i]))
            cell = fit(labels[i], w)
            if how == "colour":
                fg, bg = LEVEL_COLOURS[lv[i] + 2]
                text += paint(coloured_label(cell, lv[i]), sgr(fg, bg)) + " " * sep
            else:
                text += cell + " " * sep
            marks += glyphs[lv[i] + 2] * w + " " * sep
        out.append(text)
        if how != "colour":
            out.append(marks.rstrip())
        if guesses:
            for rank in range(len(reading.guesses[0])):
                row = ""
                for i in line:
                    w = max(1, cell_width(labels[i]))
                    label, p = reading.guesses[i][rank]
                    cell = fit(asciified(label) if how == "ascii" else label, w)
                    row += (paint(cell, sgr(attr=guess_style(p))) if how == "colour" else cell) + " " * sep
                out.append(row.rstrip())
    return out


def neuron_legend(reading: NeuronReading, group: int, unit: int, how: str) -> str:
    g = reading.group(group)
    bound = g.bound(unit)
    scale = "tanh's bound, 1" if g.bounded else f"{bound:.3g}, the largest |{g.kind}| of this unit on the text"
    if how == "colour":
        keys = [paint(" ", sgr(*LEVEL_COLOURS[k])) if LEVEL_COLOURS[k][1] else paint("a", sgr(LEVEL_COLOURS[k][0]))
                for k in (0, 1, 3, 4)]
    else:
        glyphs = ASCII_GLYPHS if how == "ascii" else GLYPHS
        keys = [glyphs[k] for k in (0, 1, 3, 4)]
    return (f"{keys[0]} <= -{STRONG:g} < {keys[1]} <= -{WEAK:g}, blank between, +{WEAK:g} <= {keys[2]} < "
            f"+{STRONG:g} <= {keys[3]}, of {scale}")


# -- attention ------------------------------------------------------------------------------------


def _cell_width(labels: list[str]) -> int:
    return max(1, max((cell_width(lab) for lab in labels), default=1))


def attention_fit(reading: AttentionReading, width: int, how: str, grids: int = 2) -> int:
    """How many positions (the last ones) ``grids`` grids side by side can show in ``width`` cells."""
    cw = _cell_width(reading.labels)
    lw = cw * (2 if how == "colour" else 1)
    return max(1, min(len(reading), (width - 3 * (grids - 1) - grids * (lw + 1)) // (grids * cw)))


def attention_layout(reading: AttentionReading, width: int, how: str) -> tuple[int, bool]:
    """(positions shown, side by side): the two grids side by side when the whole text fits so, else one
    above the other, each as wide as the terminal allows."""
    if attention_fit(reading, width, how, 2) >= len(reading):
        return len(reading), True
    return attention_fit(reading, width, how, 1), False


def attention_lines(reading: AttentionReading, layer: int, head: int, width: int, how: str) -> list[str]:
    """One head's grid and the average of the layer's heads, side by side or one above the other."""
    labels = [asciified(lab) for lab in reading.labels] if how == "ascii" else list(reading.labels)
    labels = [("_" if how == "ascii" else "␣") if lab == " " else lab for lab in labels]
    n, side = attention_layout(reading, width, how)
    start = len(reading) - n
    titles = [f"layer {layer + 1} head {head + 1}", f"layer {layer + 1}, average of {reading.heads} heads"]
    grids = [_grid(reading.grid(layer, h, start, len(reading)), labels[start:], title, how)
             for h, title in ((head, titles[0]), (None, titles[1]))]
    if not side:
        return grids[0] + [""] + grids[1]
    gw = max(_visible_width(line) for line in grids[0])
    return [a + " " * (gw - _visible_width(a)) + "   " + b for a, b in zip(*grids)]


def _visible_width(line: str) -> int:
    return cell_width(re.sub(r"\x1b\[[0-9;]*m", "", line))


def _grid(g: list[list[int]], shown: list[str], title: str, how: str) -> list[str]:
    n = len(shown)
    cw = _cell_width(shown)
    lw = cw * (2 if how == "colour" else 1)
    lines = [fit(title, lw + 1 + n * cw), " " * (lw + 1) + "".join(fit(lab, cw) for lab in shown)]
    shades = ASCII_SHADES if how == "ascii" else SHADES
    for r in range(0, n, 2 if how == "colour" else 1):
        if how == "colour":
            label = "".join(fit(lab, cw) for lab in shown[r:r + 2])
            lower = g[r + 1] if r + 1 < n else [MASKED] * n
            body = "".join(_half(a, b) + " " * (cw - 1) for a, b in zip(g[r], lower))
        else:
            label = fit(shown[r], cw)
            body = "".join((" " if v == MASKED else shades[v]) * cw for v in g[r])
        lines.append(fit(label, lw, ">") + " " + body)
    return lines


def _half(upper: int, lower: int) -> str:
    """Two query rows in one cell: the upper half block in the upper row's colour on the lower's."""
    if upper == MASKED and lower == MASKED:
        return " "
    if upper == MASKED:
        return paint("▄", sgr(COLOURS[lower]))
    return paint("▀", sgr(COLOURS[upper], None if lower == MASKED else COLOURS[lower]))


def attention_legend(reading: AttentionReading, how: str) -> str:
    e = shade_edges(1.0)
    if how == "colour":
        keys = [paint("█", sgr(c)) for c in COLOURS]
    else:
        keys = list(ASCII_SHADES if how == "ascii" else SHADES)
    return (f"rows: the character read (query); columns: the characters it attends to (keys); blank: outside "
            f"the causal window of {reading.window}. Weight {keys[0]} < 0.01 <= {keys[1]} < {e[1]:.2g} <= "
            f"{keys[2]} < {e[2]:.2g} <= {keys[3]} < {e[3]:.2g} <= {keys[4]}.")
