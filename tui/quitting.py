"""Leaving the app: at once when nothing runs, else after asking (save the run, quit anyway, or stay).

Textual runs a thread worker in the event loop's default executor, and cancelling the worker does not stop
its thread: a training thread ends at its next step, or after the evaluation it is in. ``asyncio.run``
waits for those threads once the app has left the screen, so the wait used to happen on a blank terminal
with no word (2.6-7 s measured with a run going). Here it happens before: the jobs are stopped, the screen
says so ("stopping the run..."), the executor is drained, and only then does the app leave."""

from __future__ import annotations

import asyncio

from seqlm_tui.core import checkpoint
from seqlm_tui.tui import jobs, session
from seqlm_tui.tui.screens.quit import QuitScreen

STOPPING = {"train": "the run", "sweep": "the sweep", "compare": "the learning-rate comparison",
            "memory": "the memory task"}


def stop_everything(app) -> None:
    for w in jobs.running(app):
        if w.group != "save":  # a save in progress finishes: its file is atomic either way
            w.cancel()


def farewell(app) -> str:
    """What the screen says while the app waits for its jobs to end."""
    long = [STOPPING[g] for g in jobs.LONG if jobs.is_running(app, g)]
    saving = jobs.is_running(app, "save")
    if long:
        return "stopping " + " and ".join(long) + ("; the save finishes first" if saving else "") + "..."
    return "finishing the save..." if saving else "quitting..."


async def leave(app) -> None:
    """Stop every job, say so, wait for their threads to end (a save finishes), then leave the screen."""
    if app.leaving:
        return
    word = farewell(app)
    stop_everything(app)
    app.notify(word, timeout=3600)
    app.leaving = True  # later notifications ("training stopped at step ...") do not replace the word
    # Public asyncio: the same wait asyncio.run does at the end, done while the screen still shows the app.
    # No worker can start after it; the app is leaving.
    await asyncio.get_running_loop().shutdown_default_executor()
    app.exit()


async def quit_or_ask(app) -> None:
    await app.setup.wait_ready()  # leaving while the Setup's Selects mount leaves a traceback behind
    running = jobs.running(app, *jobs.LONG)
    if not running:
        await leave(app)
        return
    names = sorted({jobs.NAMES[w.group] for w in running})
    run = app.train.run
    what = " and ".join(names).capitalize() + (" is" if len(names) == 1 else " are") + " running"
    if app.train.busy and run is not None:
        what += f" (step {run.step:,} of {run.cfg.train.steps:,})"

    async def chosen(choice: str | None) -> None:
        if choice == "quit":
            await leave(app)
        elif choice == "save":
            app.quit_after_save = True  # the app leaves once CheckpointSaved comes back
            app.train.save(checkpoint.fresh_name(run, checkpoint.default_dir()))

    # In a room the session keeps its run when the app ends (session.keep_last_run): a sweep is still lost.
    kept = session.current() is not None and run is not None and app.train.busy and names == ["training"]
    app.push_screen(QuitScreen(what + ".", can_save=run is not None and app.train.busy, kept=kept), chosen)
