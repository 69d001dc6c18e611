"""Leaving the app: at once when nothing runs, else after asking (save the run, quit anyway, or stay)."""

from __future__ import annotations

from seqlm_tui.core import checkpoint
from seqlm_tui.tui import jobs, session
from seqlm_tui.tui.screens.quit import QuitScreen


def stop_everything(app) -> None:
    for w in jobs.running(app):
        if w.group != "save":  # a save in progress finishes: its file is atomic either way
            w.cancel()


async def quit_or_ask(app) -> None:
    await app.setup.wait_ready()  # leaving while the Setup's Selects mount leaves a traceback behind
    running = jobs.running(app, *jobs.LONG)
    if not running:
        stop_everything(app)
        app.exit()
        return
    names = sorted({jobs.NAMES[w.group] for w in running})
    run = app.train.run
    what = " and ".join(names).capitalize() + (" is" if len(names) == 1 else " are") + " running"
    if app.train.busy and run is not None:
        what += f" (step {run.step:,} of {run.cfg.train.steps:,})"

    def chosen(choice: str | None) -> None:
        if choice == "quit":
            stop_everything(app)
            app.exit()
        elif choice == "save":
            app.quit_after_save = True  # the app leaves once CheckpointSaved comes back
            app.train.save(checkpoint.fresh_name(run, checkpoint.default_dir()))

    # In a room the session keeps its run when the app ends (session.keep_last_run): a sweep is still lost.
    kept = session.current() is not None and run is not None and app.train.busy and names == ["training"]
    app.push_screen(QuitScreen(what + ".", can_save=run is not None and app.train.busy, kept=kept), chosen)
