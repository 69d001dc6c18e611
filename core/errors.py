"""The one exception type a user can cause. Its message is a single sentence meant for the user."""


class SeqlmError(Exception):
    """An expected failure (bad file, bad value, bad checkpoint...). ``str(err)`` is shown as is."""
