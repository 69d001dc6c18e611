"""seqlm-tui core: data, models, training, generation and checkpoints. Never imports textual."""

__version__ = "0.1.0"
