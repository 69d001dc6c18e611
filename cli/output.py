"""Where the command line writes, and how: plain text in a pipe or with NO_COLOR, the terminal's width,
ASCII stand-ins where the stream cannot show the drawing characters, and a stream that may go away.

The output side of a command is the world's, not ours: a pipe whose reader left (``| head -1``), a full
disk (``> /dev/full``), an ASCII-only locale. None of these may decide whether a trained run is saved, so
standard output and standard error are wrapped (``guard_streams``): a write that fails marks the stream
lost and goes nowhere from then on, and what cannot be encoded is drawn in ASCII or escaped.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager

from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.fmt import fmt_time
from seqlm_tui.core.glyphs import can_show, dumb_terminal, to_ascii


class OutputLost(SeqlmError):
    """Standard output went away and the command has nothing else to give (see ``Guarded.keep_going``)."""


def _reason(err: OSError) -> str:
    if err.errno == errno.EPIPE:
        return "the pipe's reader left"
    return err.strerror or type(err).__name__


class Guarded(io.TextIOBase):
    """A text stream that never raises for the world's sake: a failed write marks it lost (the file
    descriptor is then pointed at /dev/null, so the interpreter's last flush cannot fail either), and what
    the stream cannot encode is drawn in ASCII or escaped. ``keep_going``: whether the command goes on
    once the stream is lost (training does, to save its run) or ends at once (its output was all it had)."""

    def __init__(self, raw, name: str) -> None:
        super().__init__()
        self.raw, self.name = raw, name
        self.lost: str | None = None
        self.reported = False  # the command has said so itself (with what it saved)
        self.lines = 0
        self.keep_going = False
        self.ascii = dumb_terminal() or not can_show(getattr(raw, "encoding", None))
        if raw is None:  # started with the descriptor closed (>&-): Python gives no stream at all
            self.lost = "it was closed before the command started"

    # what callers ask of a stream
    @property
    def encoding(self):
        return getattr(self.raw, "encoding", "utf-8")

    def isatty(self) -> bool:
        try:
            return self.lost is None and self.raw.isatty()
        except (OSError, ValueError, AttributeError):
            return False

    def fileno(self) -> int:
        if self.raw is None:
            raise OSError("the stream was closed before the command started")
        return self.raw.fileno()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.lost is not None:
            return self._after_loss(len(text))
        shown = to_ascii(text) if self.ascii else text
        enc = self.encoding or "utf-8"
        shown = shown.encode(enc, "backslashreplace").decode(enc, "replace")
        try:
            self.raw.write(shown)
            if "\n" in text:
                self.raw.flush()
        except (OSError, ValueError) as err:  # ValueError: a stream closed under us
            if not isinstance(err, OSError):
                err = OSError(errno.EBADF, "closed")
            self._lose(err)
            return self._after_loss(len(text))
        self.lines += text.count("\n")
        return len(text)

    def flush(self) -> None:
        if self.lost is not None or self.raw is None:
            return
        try:
            self.raw.flush()
        except OSError as err:
            self._lose(err)
            self._after_loss(0)

    def _lose(self, err: OSError) -> None:
        self.lost = _reason(err)
        if err.errno == errno.EBADF:
            self.lost = "it was closed"
        try:  # what is still in the buffer goes nowhere, and so does everything after it
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.raw.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass

    def _after_loss(self, n: int) -> int:
        if not self.keep_going:
            self.reported = True  # the exception's sentence says it
            raise OutputLost(f"standard output was lost ({self.lost}); stopped.")
        return n


STDOUT: Guarded | None = None


@contextmanager
def guard_streams() -> Iterator[Guarded]:
    """For one command: stdout and stderr wrapped (see ``Guarded``), the originals back afterwards."""
    global STDOUT
    before = sys.stdout, sys.stderr
    STDOUT = Guarded(sys.stdout, "stdout")
    stderr = Guarded(sys.stderr, "stderr")
    stderr.keep_going = True  # the notes and problems: when they cannot be told, the work still ends well
    sys.stdout, sys.stderr = STDOUT, stderr
    try:
        yield STDOUT
    finally:
        try:
            sys.stdout.flush()
        finally:
            sys.stdout, sys.stderr = before
            STDOUT = None


def output_lost() -> str | None:
    """Why standard output was lost during this command (None while it is fine)."""
    return STDOUT.lost if STDOUT is not None else None


def told(text: str) -> None:
    """Say (on stderr) what became of a command whose output was lost, instead of the general line."""
    say(text)
    if STDOUT is not None:
        STDOUT.reported = True


def stop_when_output_is_lost(stop: bool = True) -> None:
    """A command whose whole result is its output ends when the output goes away (``sample | head``)."""
    if STDOUT is not None:
        STDOUT.keep_going = not stop


def ascii_only(stream=None) -> bool:
    """Whether drawings on ``stream`` (stdout) must be made of ASCII characters."""
    stream = stream or sys.stdout
    return getattr(stream, "ascii", None) or dumb_terminal() or not can_show(getattr(stream, "encoding", None))


def colour(stream=None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org) or TERM is dumb."""
    stream = stream or sys.stdout
    return stream.isatty() and not os.environ.get("NO_COLOR") and not dumb_terminal()


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
    try:
        print(f"seqlm-tui: {text}", file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr itself is gone (2>&-, a closed terminal): nothing to tell it with
        pass


def live_line(stream=None) -> bool:
    """Whether a line may be redrawn in place (``\\r`` and erase): a terminal that is not dumb."""
    stream = stream or sys.stderr
    return stream.isatty() and not dumb_terminal()


class Progress:
    """A one-line progress bar on stderr, only on a terminal that can redraw a line, at most 10 times a
    second."""

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
