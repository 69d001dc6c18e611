"""Plain-ASCII stand-ins for the drawing characters (box lines, blocks, shades, braille), for terminals and
streams that cannot show them: an ASCII-only locale (``LANG=C``), ``PYTHONIOENCODING=ascii``, ``TERM=dumb``.

A picture drawn with these stand-ins keeps its shape; text that is not drawing (a sample with an accent)
is left alone here and escaped by whoever writes it, so nothing is silently changed into something else.
"""

from __future__ import annotations

import codecs
import os

# Shades keep their order of ink: blank < light < medium < dark < full.
_MAP = {
    "─": "-", "━": "-", "│": "|", "┃": "|", "┌": "+", "┐": "+", "└": "+", "┘": "+", "├": "+", "┤": "+",
    "┬": "+", "┴": "+", "┼": "+", "╭": "+", "╮": "+", "╯": "+", "╰": "+", "═": "=", "║": "|",
    "░": ".", "▒": ":", "▓": "%", "█": "#", "▉": "#", "▊": "#", "▋": "#", "▌": "|", "▍": "|", "▎": "|",
    "▏": "|", "▐": "|", "▀": "^", "▄": "_", "▁": "_", "▂": "_", "▃": "_", "▅": "=", "▆": "=", "▇": "#",
    "▔": "-", "•": "*", "·": ".", "…": "...", "×": "x", "→": "->", "←": "<-", "↑": "^", "↓": "v",
    "≤": "<=", "≥": ">=", "–": "-", "—": "-", "␣": "_", "⏎": "\\n", "⇥": "\\t", "◌": "", "✓": "v", "✗": "x",
    "▲": "^", "▼": "v", "▶": ">", "◀": "<", "●": "o", "○": "o", "■": "#", "□": "o",
}
# The sign probe: if a stream can write these, it can show every drawing of ours.
PROBE = "█░▒▓─│┌⠿…"
_TABLE = str.maketrans({**_MAP, **{chr(c): "*" for c in range(0x2801, 0x2900)}, "\u2800": " "})


def to_ascii(text: str) -> str:
    """``text`` with every drawing character replaced by its ASCII stand-in (other characters untouched)."""
    return text.translate(_TABLE)


def can_show(encoding: str | None) -> bool:
    """Whether a stream with ``encoding`` can carry the drawing characters."""
    try:
        codecs.encode(PROBE, encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def dumb_terminal() -> bool:
    """``TERM=dumb``: the terminal says it can do nothing but print characters (no colour, no cursor moves)."""
    return os.environ.get("TERM") == "dumb"
