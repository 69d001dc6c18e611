"""seqlm-tui's command line: a front end beside the app, like it a client of ``core``."""
