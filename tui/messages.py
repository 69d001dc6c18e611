"""Messages the background workers post to the app (thread-safe ``post_message``)."""

from __future__ import annotations

from textual.message import Message


class EngineEvent(Message):
    """A core event (training or sweep) from a worker thread."""

    def __init__(self, event, source: str) -> None:
        super().__init__()
        self.event = event
        self.source = source  # "train" or "sweep"


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
