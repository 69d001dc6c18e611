"""The command line's own kind of error: light to import, since ``main`` needs it before anything else."""

from seqlm_tui.core.errors import SeqlmError


class UsageError(SeqlmError):
    """A command line that cannot mean what it says (exit code 2, like argparse's own errors)."""
