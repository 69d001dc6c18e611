"""The app's panes: each owns its state and its jobs."""
