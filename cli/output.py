"""Where the command line writes, and how: plain text in a pipe or with NO_COLOR, the terminal's width."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
import time

from seqlm_tui.core.fmt import fmt_time


def colour(stream=None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org) or TERM is dumb."""
    stream = stream or sys.stdout
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def width(most: int = 100) -> int:
    """Columns to draw in: the terminal's ($COLUMNS when set), at most ``most``."""
    return max(20, min(most, shutil.get_terminal_size((80, 24)).columns))


def out(text: str = "") -> None:
    print(text, flush=True)


def prose(text: str) -> None:
    """A sentence of explanation, wrapped to the terminal's width."""
    print(textwrap.fill(text, width()), flush=True)


def say(text: str) -> None:
    """A line for the user on stderr (notes and problems), prefixed like every message of the command."""
    print(f"seqlm-tui: {text}", file=sys.stderr, flush=True)


class Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal, redrawn at most 10 times a second."""

    def __init__(self, enabled: bool):
        self.enabled, self.last, self.shown = enabled, 0.0, False

    def update(self, e, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.1 and not force):
            return
        self.last = now
        bar = "#" * int(e.step / max(e.total, 1) * 24)
        sys.stderr.write(f"\r[{bar:<24}] {e.step}/{e.total} loss {e.smooth:.4f} "
                         f"{e.tokens_per_s:,.0f} tok/s ETA {fmt_time(e.eta)}  ")
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self.shown = False
