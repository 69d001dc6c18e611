"""What a lesson's checks look at: the state of a front end, gathered into plain records.

The app fills a ``Facts`` from its panes a few times a second (the Train pane's run, what the Prompt pane was
asked and answered, the sweep, the memory task, the Insight view shown); the checks (core/lesson_checks.py)
are pure functions of it. Every record carries ``seq``, the order in which the front end saw it, so that a
check can insist on work done since its step began (``Facts.since``): a check must fail before the learner
acts, and a run trained two steps ago is not this step's action.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seqlm_tui.core.config import RunConfig


@dataclass
class Exchange:
    """One prompt typed in the Prompt pane and the model's answer to it."""
    prompt: str
    answer: str = ""
    fresh: bool = True       # the model's state was fresh (no conversation before this prompt)
    serial: int = 0          # which run answered (the Train pane numbers its runs)
    step: int = 0            # that run's training step when it answered
    done: bool = False       # the answer is complete
    seq: int = 0


@dataclass
class Training:
    """A training job that ended: finished, stopped early, or failed (diverged)."""
    cfg: RunConfig
    serial: int
    step: int
    first_loss: float | None = None
    last_loss: float | None = None        # the raw loss of the last step (one batch)
    train_loss: float | None = None       # smoothed
    dev_loss: float | None = None
    tokens_per_s: float | None = None
    seconds: float | None = None
    stopped: bool = False
    diverged: bool = False
    error: str | None = None
    seq: int = 0


@dataclass
class SweepResult:
    cfg: RunConfig
    suggested: float | None
    points: int
    seq: int = 0


@dataclass
class MemoryRow:
    model: str
    length: int
    accuracy: float
    seq: int = 0


@dataclass
class Result:
    """A lesson experiment's numbers (core/equivalence.py), and the run they were measured on."""
    name: str
    serial: int
    values: dict
    seq: int = 0


@dataclass
class Facts:
    pane: str = ""                        # the pane in view
    setup: RunConfig | None = None        # the Setup form's configuration (None while it is invalid)
    run: Any = None                       # the Train pane's current run (core.run.Run), if any
    serial: int = 0                       # its number
    training: bool = False                # a training job is running or paused
    view: str = ""                        # the Insight view shown
    view_facts: dict = field(default_factory=dict)  # what that view says of itself (the unit chosen, ...)
    since: int = 0                        # records with seq >= since happened during this step
    trainings: list[Training] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    sweeps: list[SweepResult] = field(default_factory=list)
    memory: list[MemoryRow] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)

    def new(self, records: list) -> list:
        """The records of this step, oldest first."""
        return [r for r in records if r.seq >= self.since]
