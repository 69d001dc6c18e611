"""Lists typed as one flag: ``--lrs 0.01,0.1,1``, ``--lengths 5,10,20``."""

from __future__ import annotations

from seqlm_tui.core.errors import SeqlmError


def _parses(kind: type, word: str) -> bool:
    try:
        kind(word)
    except ValueError:
        return False
    return True


def split_list(text: str, kind: type, what: str) -> list:
    """``"5,10 20"`` -> [5, 10, 20]; one sentence if a word is not a ``kind``."""
    words = text.replace(",", " ").split()
    if not words:
        raise SeqlmError(f"give at least one of the {what}.")
    bad = next((w for w in words if not _parses(kind, w)), None)
    if bad is not None:
        noun = "whole numbers" if kind is int else "numbers" if kind is float else "names"
        raise SeqlmError(f"{what} must be {noun} separated by commas, not {bad[:20]!r}.")
    return [kind(w) for w in words]
