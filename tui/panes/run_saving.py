"""The Train pane's saves: a checkpoint of the run on request (ctrl+s) and of its best dev evaluation so far
(the autosave switch), written in workers while the trainer stands still between two steps."""

from __future__ import annotations

from pathlib import Path

from textual import work

from seqlm_tui.core import checkpoint
from seqlm_tui.core.run import Run
from seqlm_tui.tui.jobs import is_running
from seqlm_tui.tui.messages import CheckpointSaved


class SavesTheRun:
    """Mixed into the Train pane, which holds ``run``, ``trainer``, ``saved_step`` (the run's latest step a
    file holds), ``best_dev``, ``autosave_wanted`` and the ``autosave`` switch."""

    @property
    def unsaved(self) -> bool:
        """Whether the current run has trained steps that no checkpoint holds (safe from any thread)."""
        run = self.run
        return run is not None and run.step > self.saved_step

    def save(self, path: Path, quiet: bool = False) -> None:
        self.save_worker(path, quiet)

    def keep_if_best(self, dev_loss: float) -> None:
        if self.autosave and dev_loss < self.best_dev:
            self.best_dev = dev_loss
            self.autosave_wanted = True
            if not is_running(self.app, "save"):
                self.autosave_worker()

    def payload(self):
        """(what a checkpoint of the current run holds, the run), taken while the trainer stands still
        between two steps; from any thread."""
        trainer, run = self.trainer, self.run
        if trainer is not None and trainer.run is run:
            with trainer.still():
                return checkpoint.to_payload(run), run
        return checkpoint.to_payload(run), run

    def _written(self, payload: dict, run: Run, path: Path) -> Path:
        saved = checkpoint.write_payload(payload, path)
        if run is self.run:
            self.saved_step = max(self.saved_step, int(payload["step"]))
        return saved

    @work(thread=True, group="save", exit_on_error=False)
    def save_worker(self, path: Path, quiet: bool) -> None:
        payload, run = self.payload()
        saved = self._written(payload, run, checkpoint.target(path, run))
        self.post_message(CheckpointSaved(saved, quiet))

    @work(thread=True, group="save", exit_on_error=False)
    def autosave_worker(self) -> None:
        """Keeps the best dev evaluation so far; a newer best that arrives during a write is written next."""
        while self.autosave_wanted:
            self.autosave_wanted = False
            payload, run = self.payload()
            path = checkpoint.default_dir() / f"{run.name}-best{checkpoint.SUFFIX}"
            saved = self._written(payload, run, path)
            self.post_message(CheckpointSaved(saved, quiet=True))

    def on_checkpoint_saved(self, msg: CheckpointSaved) -> None:
        if not msg.quiet:
            self.app.notify(f"saved {msg.path}")
