"""What the terminal can show, decided once from the environment: Unicode glyphs or plain ASCII, colour or
none. ``TERM=dumb`` asks for neither; a locale that is not UTF-8 (``LANG=C``) for ASCII. The app applies the
answer to everything it draws (``AsciiFilter``), Textual's own borders and bars included; ``to_ascii`` is the
same translation for any other text (a front end printing lines of its own).

Python hides ``LANG=C``: at start-up it sets ``LC_CTYPE=C.UTF-8`` in the environment (PEP 538), so that case
is read back from ``LANG``. Nothing set at all counts as UTF-8: most terminals are, and SSH often forwards no
locale. This module imports nothing from Textual but the filter's base class.
"""

from __future__ import annotations

import functools
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from rich.segment import Segment
from textual.filter import LineFilter


@dataclass(frozen=True)
class Terminal:
    ascii: bool = False   # only 7-bit characters reach the screen
    colour: bool = True   # colours (a terminal without them still gets bold, underline and reverse video)


def _locale(env: Mapping[str, str]) -> str:
    """The locale that decides the character set: LC_ALL, else LC_CTYPE, else LANG (POSIX order)."""
    if env.get("LC_ALL"):
        return env["LC_ALL"]
    ctype, lang = env.get("LC_CTYPE", ""), env.get("LANG", "")
    if ctype and not (ctype == "C.UTF-8" and lang in ("C", "POSIX")):  # C.UTF-8 over LANG=C: Python's coercion
        return ctype
    return lang


def detect(env: Mapping[str, str] | None = None) -> Terminal:
    env = os.environ if env is None else env
    dumb = env.get("TERM", "") == "dumb"
    loc = _locale(env).lower().replace("-", "")
    ascii_only = dumb or (bool(loc) and "utf8" not in loc)
    return Terminal(ascii=ascii_only, colour=not dumb)


# One ASCII character for each one-cell glyph the app (or Textual, or plotext) draws; the width of every
# segment must stay the same, or the columns after it shift.
_TABLE = {
    "…": "~", "␣": "_", "⏎": "$", "⇥": ">", "◌": "o", "·": ".", "•": "*", "∙": ".", "●": "*", "○": "o",
    "⭘": "o", "◦": "o", "▸": "|", "▶": ">", "►": ">", "◂": "<", "◀": "<", "▼": "v", "▲": "^", "→": ">",
    "←": "<", "↑": "^", "↓": "v", "✓": "v", "✔": "v", "✗": "x", "✘": "x", "×": "x", "−": "-", "–": "-",
    "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "≤": "<", "≥": ">", "≈": "~", "±": "+", "°": "o",
    "█": "#", "▉": "#", "▊": "#", "▋": "#", "▌": "]", "▐": "[", "▍": "|", "▎": "|", "▏": "|", "▕": "|",
    "▔": "-", "▁": "_", "▂": "_", "▃": "_", "▄": "#", "▅": "#", "▆": "#", "▇": "#", "▀": "#",
    "░": ".", "▒": ":", "▓": "%", "■": "#", "□": "o", "▪": "#", "▫": "o",
}


@functools.lru_cache(maxsize=4096)
def _char(ch: str) -> str:
    if ch.isascii():
        return ch
    if ch in _TABLE:
        return _TABLE[ch]
    code = ord(ch)
    if 0x2500 <= code <= 0x257F:  # box drawing: by the lines that leave the cell
        name = unicodedata.name(ch, "")
        across, down = any(w in name for w in ("HORIZONTAL", "LEFT", "RIGHT")), any(
            w in name for w in ("VERTICAL", "UP", "DOWN"))
        return "+" if across and down else "-" if across else "|" if down else "+"
    if 0x2580 <= code <= 0x259F:  # quadrant blocks (plotext's fine markers)
        return "*"
    if 0x2800 <= code <= 0x28FF:  # braille dots (plotext's lines)
        return " " if code == 0x2800 else "."
    width = 0 if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf") else (
        2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1)
    return "?" * width


def to_ascii(text: str) -> str:
    """``text`` in 7-bit characters, each glyph replaced by one that takes as many cells."""
    return text if text.isascii() else "".join(map(_char, text))


class AsciiFilter(LineFilter):
    """Every line the app draws, in ASCII (Textual applies its line filters to every widget's lines)."""

    def apply(self, segments: list[Segment], background) -> list[Segment]:
        return [seg if seg.control or seg.text.isascii() else Segment(to_ascii(seg.text), seg.style, seg.control)
                for seg in segments]
