"""Text formatting that both front ends share: times, token labels, shading levels, display widths.

Display width is counted in terminal cells, not characters: a CJK character or an emoji takes two
cells, a combining accent none. Padding with ``len`` would shift every column after such a character.
"""

from __future__ import annotations

import math
import unicodedata

from seqlm_tui.core.textsafe import printable

# Five levels of ink, the same with or without colour: blank, light, medium, dark, full.
SHADES = " ░▒▓█"


def fmt_time(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss``; ``?`` when unknown."""
    if not math.isfinite(seconds):
        return "?"
    s = max(0, int(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def token_label(token: str) -> str:
    """A token as a short visible label: a space, a newline and a tab would be invisible in a chart or a
    grid, so they are shown as ␣ ⏎ ⇥; other control characters are escaped; a combining mark on its own
    sits on a dotted circle (◌́), as type specimens show it, so that it takes a cell of its own."""
    label = printable(token.replace(" ", "␣").replace("\n", "⏎").replace("\t", "⇥"))
    if label and cell_width(label[0]) == 0:
        label = "◌" + label
    return label


def shade_level(p: float, top: float) -> int:
    """0..4: how dark a cell is for probability ``p`` when ``top`` is the darkest. Square-root scale, so the
    rare pairs still show; what smoothing alone gives (a few in ten thousand of ``top``) stays blank."""
    if not (p > 0 and top > 0) or not math.isfinite(p):
        return 0
    level = min(len(SHADES) - 1, round((p / top) ** 0.5 * (len(SHADES) - 1)))
    if level == 0 and p / top >= 0.01:
        level = 1
    return level


def shade_edges(top: float) -> list[float]:
    """The probabilities where ``shade_level`` moves to the next shade (for a legend)."""
    return [top * (k / 4) ** 2 for k in (0.5, 1.5, 2.5, 3.5)]


def char_width(ch: str) -> int:
    """Cells one code point takes: 0 for combining marks and zero-width characters, 2 for wide ones."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def cell_width(text: str) -> int:
    """Cells ``text`` takes on a terminal."""
    return sum(char_width(ch) for ch in text)


def fit(text: str, width: int, align: str = "<") -> str:
    """``text`` padded (or cut, with …) to exactly ``width`` cells: ``<`` left, ``>`` right, ``^`` centred."""
    if width <= 0:
        return ""
    if cell_width(text) > width:
        out, used = "", 0
        for ch in text:
            w = char_width(ch)
            if used + w > width - 1:
                break
            out, used = out + ch, used + w
        text = out + "…"
    gap = width - cell_width(text)
    if align == ">":
        return " " * gap + text
    if align == "^":
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    return text + " " * gap
