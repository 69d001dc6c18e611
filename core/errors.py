"""The one exception type a user can cause. Its message is a single sentence meant for the user."""


class SeqlmError(Exception):
    """An expected failure (bad file, bad value, bad checkpoint...). ``str(err)`` is shown as is."""


class FieldError(SeqlmError):
    """A setting that does not go with the others; ``key`` ("section.name") is the field that can fix it
    (the app's Setup shows the sentence there; the command line shows it as any other)."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key
