"""The Textual app of seqlm-tui: a client of ``core`` like the CLI."""
