"""The one exception type a user can cause. Its message is a single sentence meant for the user."""


class SeqlmError(Exception):
    """An expected failure (bad file, bad value, bad checkpoint...). ``str(err)`` is shown as is."""


class FieldError(SeqlmError):
    """A setting that does not go with the others; ``key`` ("section.name") is the field that can fix it
    (the app's Setup shows the sentence there; the command line shows it as any other)."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


def out_of_memory(err: BaseException) -> str | None:
    """One sentence for an allocation that failed (a model or a batch too big for this machine's memory),
    else None. torch reports it as ``OutOfMemoryError`` on a GPU, as a RuntimeError from its CPU allocator,
    or Python as ``MemoryError``."""
    text = str(err)
    if not (isinstance(err, MemoryError) or type(err).__name__ == "OutOfMemoryError"
            or isinstance(err, RuntimeError) and ("can't allocate memory" in text or "out of memory" in text)):
        return None
    return ("out of memory: this machine could not hold the model and its batch; make the batch size, the "
            "block size (or sequence length) or the model (embedding, hidden size, layers) smaller.")
