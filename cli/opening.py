"""What a command line returns when it asks for the app rather than for a command's work: the app starts only
once the command's output guard is off and the command's own checks have passed (Textual owns the terminal)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class OpenApp:
    cfg: Any = None                   # the starting setup (None: the app's own)
    lesson: str | None = None         # open the Learn pane on this lesson ("": where the learner stands)
    checkpoint_dir: str | None = None
