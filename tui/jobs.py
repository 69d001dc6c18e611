"""The app's background jobs are Textual workers, one named group each. This module knows their names and
answers the questions every part of the app asks about them: what is running, and what to say when one
fails. Cancelling a job is cancelling its worker (core's loops watch the worker's ``cancelled_event``)."""

from __future__ import annotations

import functools
import inspect

from textual.worker import Worker, WorkerState

from seqlm_tui.core.errors import SeqlmError, out_of_memory
from seqlm_tui.tui.messages import JobState

NAMES = {
    "train": "training", "sweep": "the sweep", "compare": "the learning-rate comparison",
    "memory": "the memory task", "generate": "the continuation", "summary": "the Setup summary",
    "save": "saving", "load": "loading the checkpoint", "browse": "reading the checkpoint folder",
    "reading": "reading the model", "neurons": "the neuron view", "attention": "the attention view",
    "warm-up": "warming up", "lessons": "reading the lessons", "lesson": "the lesson's experiment",
    "lesson-save": "saving the lesson progress",
}
LONG = ("train", "sweep", "compare", "memory")  # what x stops and quitting asks about
ACTIVE = (WorkerState.PENDING, WorkerState.RUNNING)


def running(app, *groups: str) -> list[Worker]:
    """The app's workers of these groups (all groups when none is named) that have not ended."""
    return [w for w in app.workers if w.state in ACTIVE and (not groups or w.group in groups)]


def is_running(app, *groups: str) -> bool:
    return bool(running(app, *groups))


def failure_text(worker: Worker) -> str:
    """One sentence for a job that ended on an exception: the sentence itself for an error a user can
    cause, else what failed and how (a bug; the app stays up)."""
    err = worker.error
    if isinstance(err, SeqlmError):
        return str(err)
    if message := out_of_memory(err):
        return message
    what = NAMES.get(worker.group, worker.group or "a job")
    return f"{what} failed (a bug: {type(err).__name__}: {err})."


class ReportsJobs:
    """Mixed into a pane: the state of each of its workers goes on to the app (see ``JobState``). Textual
    calls this handler as well as the pane's own ``on_worker_state_changed``, if it has one."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.post_message(JobState(event.worker, event.state))


def while_running(handler):
    """Drop the message once the app has begun to close (its panes may already be gone)."""
    if inspect.iscoroutinefunction(handler):
        @functools.wraps(handler)
        async def guarded_async(self, msg):
            if self.is_running:
                await handler(self, msg)
        return guarded_async

    @functools.wraps(handler)
    def guarded(self, msg):
        if self.is_running:
            handler(self, msg)
    return guarded
