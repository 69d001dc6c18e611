"""One message class per fact the app's jobs report. Workers post them from their threads
(``post_message`` is thread-safe); progress that only matters as its latest value replaces an older one
still in the queue (``can_replace``) instead of queueing behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message


@dataclass
class TrainStep(Message):
    """The latest training step (core.events.Step); only the newest one matters."""
    step: Any
    paused: bool = False

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TrainStep)


@dataclass
class TrainEval(Message):
    """A dev evaluation (core.events.Eval), with a copy of the weights evaluated when a view reads them
    (the neuron and attention views: a copy taken while the trainer waits at the evaluation)."""
    eval: Any
    model: Any = None


@dataclass
class TrainHealth(Message):
    """Gradient norms and tanh saturation right after an evaluation (core.insight.Health)."""
    health: Any


@dataclass
class TrainSamples(Message):
    """Samples drawn at an evaluation, each with its mark: where it comes from (lines data), or whether it
    recalls (the memory task: ``recalled`` of them did); None for neither."""
    step: int
    texts: list[str]
    sources: list[str | None] = field(default_factory=list)
    new_share: float | None = None
    recalled: int | None = None


@dataclass
class TrainPaused(Message):
    step: int


@dataclass
class TrainResumed(Message):
    step: int


@dataclass
class TrainFinished(Message):
    """A training run ended: all its steps (or stopped early, ``stopped``)."""
    step: int
    stopped: bool
    result: dict


@dataclass
class TrainFailed(Message):
    """A training run ended on an error a user can cause (one sentence; ``diverged`` keeps its weights)."""
    step: int
    message: str
    diverged: bool = False


@dataclass
class RunAdopted(Message):
    """The Train pane holds a new run (fresh from Setup, or loaded from a checkpoint)."""
    run: Any
    serial: int
    label: str


@dataclass
class ModelReading(Message):
    """What the insight views show of one model's weights (core.insight's EmbeddingMap / BigramTable, or
    None with a note saying why), computed off the UI thread."""
    run: Any
    step: int
    embedding: Any = None
    embedding_note: str = ""
    bigram: Any = None
    bigram_note: str = ""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ModelReading) and message.run is self.run


@dataclass
class SweepPoint(Message):
    point: Any


@dataclass
class SweepDone(Message):
    done: Any


@dataclass
class SweepFailed(Message):
    message: str


@dataclass
class RateCurve(Message):
    """One finished run of the learning-rate comparison (core.compare.RunCurve)."""
    curve: Any


@dataclass
class MemoryResult(Message):
    """One (model, length) of the memory task (core.memory.MemoryResult)."""
    result: Any


@dataclass
class ComparisonEnded(Message):
    """The rate comparison or the memory task ended: ``kind`` "compare" or "memory"."""
    kind: str
    stopped: bool = False
    error: str | None = None


@dataclass
class SummaryReady(Message):
    """The Setup's dataset summary and parameter count, or why there is none (for the request numbered
    ``request``: an older one that ends late is not shown)."""
    request: int
    text: str
    problem: str | None = None
    fit: Any = None  # (config, core.errors.FieldError): a rule that needs the data, broken by this config

    def can_replace(self, message: Message) -> bool:
        # Textual keeps the later of two queued messages when the earlier says it may be replaced; two
        # workers can finish out of order, so only a summary of the same or a newer request may replace
        # this one (else the newest summary was dropped and "loading ..." stayed on screen).
        return isinstance(message, SummaryReady) and message.request >= self.request


@dataclass
class GenToken(Message):
    """What a continuation (number ``job``) did, in order: its generator started from nothing (``reset``),
    took the prompt (``fed``), or drew a token (``text``, with the odds after it when they are shown)."""
    job: int
    text: str = ""
    probs: list | None = None
    fed: str | None = None
    reset: bool = False


@dataclass
class GenDone(Message):
    """Continuation ``job`` ended, its thread about to return: after the whole answer, cut short
    (``stopped``) or not; ``boundary`` when it ended an item (a whole name)."""
    job: int
    boundary: bool = False
    stopped: bool = False
    error: str | None = None
    note: str | None = None


@dataclass
class CheckpointSaved(Message):
    path: Any
    quiet: bool = False


@dataclass
class CheckpointLoaded(Message):
    run: Any
    path: Any


@dataclass
class CheckpointRows(Message):
    """The checkpoint folder's listing (core.checkpoint.CheckpointInfo rows), newest first."""
    folder: Any
    infos: list


@dataclass
class JobState(Message):
    """A pane's worker changed state. Textual's own Worker.StateChanged stays with the widget that started
    the worker; this one goes on up to the app, which reports every failure in one place."""
    worker: Any
    state: Any


@dataclass
class NeuronsRead(Message):
    """The neuron view's text read through one run's model (core.neurons.NeuronReading and the features'
    score table), or the sentence saying why it could not be; ``key`` names the text (its source and
    content), for the scores' history."""
    run: Any
    step: int
    key: Any
    reading: Any = None
    table: Any = None
    error: str | None = None


@dataclass
class AttentionRead(Message):
    """The attention view's text read through one run's Transformer (core.attention.AttentionReading), or
    the sentence saying why it could not be."""
    run: Any
    step: int
    reading: Any = None
    error: str | None = None
