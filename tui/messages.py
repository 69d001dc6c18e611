"""Messages the background workers post to the app (thread-safe ``post_message``)."""

from __future__ import annotations

from textual.message import Message


class EngineEvent(Message):
    """What core yields in a worker thread: a training or sweep event, a memory-task result
    (core.memory.MemoryResult) or a learning-rate comparison's curve (core.compare.RunCurve)."""

    def __init__(self, event, source: str) -> None:
        super().__init__()
        self.event = event
        self.source = source  # "train", "sweep", "memory" or "compare"


class DatasetLoaded(Message):
    def __init__(self, key: tuple, dataset=None, error: str | None = None) -> None:
        super().__init__()
        self.key, self.dataset, self.error = key, dataset, error


class GenText(Message):
    """Text streamed by the prompt pane's generator (one token at a time)."""

    def __init__(self, text: str, probs: list | None = None, done: bool = False, error: str | None = None,
                 boundary: bool = False):
        super().__init__()
        self.text, self.probs, self.done, self.error = text, probs, done, error
        self.boundary = boundary  # the continuation ended with the end of an item (a whole name)


class ModelInsight(Message):
    """What the insight views show of one model's weights (computed off the UI thread while it trains).

    ``embedding``/``bigram`` are core.insight's EmbeddingMap / BigramTable, or None with a note saying why."""

    def __init__(self, serial: int, step: int, embedding=None, embedding_note: str = "", bigram=None,
                 bigram_note: str = "") -> None:
        super().__init__()
        self.serial, self.step = serial, step
        self.embedding, self.embedding_note = embedding, embedding_note
        self.bigram, self.bigram_note = bigram, bigram_note


class JobDone(Message):
    """A background comparison (``source`` "memory" or "compare") ended: finished, stopped or failed."""

    def __init__(self, source: str, stopped: bool = False, error: str | None = None) -> None:
        super().__init__()
        self.source, self.stopped, self.error = source, stopped, error
