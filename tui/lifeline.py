"""The app's way out when its terminal goes away (SIGHUP: a dropped SSH connection, a closed window) or it is
told to stop (SIGTERM, or SIGINT from outside): the run being trained is saved, and the process ends.

Nothing here may count on Textual's event loop. Once the terminal is gone, Textual's writer thread dies on
the first failed write, its queue (30 writes) fills, and the next write of the event loop blocks for ever;
so does the app's shutdown, which waits for the writer to take one more item. The work is done in a thread
of its own: stop the training at its next step, write the unsaved run into the checkpoint folder under a
fresh name (the rescue rule of ``seqlm-tui train``), ask the app to leave, and, if it has not left a few
seconds later, end the process. A watch notices a writer that died without a signal.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from seqlm_tui.core import checkpoint
from seqlm_tui.core.errors import SeqlmError

NAMES = {signal.SIGHUP: "SIGHUP", signal.SIGTERM: "SIGTERM", signal.SIGINT: "SIGINT"}
LEAVE_WITHIN_S = 5.0     # after the save: the app's own shutdown gets this long, then the process ends
SAVE_AT_MOST_S = 120.0   # a save that hangs (a dead network file system) does not keep the process for ever
WATCH_EVERY_S = 0.5


class Lifeline:
    """Installed (from the main thread) before the app runs; ``finish`` after it returns."""

    def __init__(self, app) -> None:
        self.app = app
        self.signum: int | None = None
        self.line: str | None = None      # what to say on stderr once the app has left the screen
        self.rescued = threading.Event()  # the save is done (or was not needed, or failed)
        self.left = threading.Event()     # the app has returned and the line is out
        self._start = threading.Lock()

    def install(self) -> None:
        for sig in NAMES:
            signal.signal(sig, self._on_signal)
        threading.Thread(target=self._watch_the_writer, daemon=True, name="seqlm-terminal-watch").start()

    # -- in the main thread (a signal handler) or the watch ----------------------------------------
    def _on_signal(self, signum, _frame) -> None:
        self.begin(signum)

    def begin(self, signum: int) -> None:
        """The first call starts the rescue; later ones change nothing (it is already under way, and it
        ends the process within seconds either way)."""
        with self._start:
            if self.signum is not None:
                return
            self.signum = signum
        threading.Thread(target=self._rescue, daemon=True, name="seqlm-rescue").start()

    def _watch_the_writer(self) -> None:
        """A terminal that vanished without a hang-up signal shows as Textual's writer thread dead."""
        while self.signum is None and not self.left.is_set():
            driver = getattr(self.app, "_driver", None)
            writer = getattr(driver, "_writer_thread", None)
            if writer is not None and writer.ident is not None and not writer.is_alive() and self.app.is_running:
                self.begin(signal.SIGHUP)
                return
            self.left.wait(WATCH_EVERY_S)

    # -- in the rescue thread ----------------------------------------------------------------------
    def _rescue(self) -> None:
        signum = self.signum
        code = 128 + signum
        guard = threading.Timer(SAVE_AT_MOST_S, self._end, (code,))
        guard.daemon = True
        guard.start()
        try:
            self.line = self._save(NAMES[signum])
        except BaseException as err:  # noqa: BLE001 - whatever happens, the process must still end
            self.line = f"stopped by {NAMES[signum]}; the run could not be saved ({err})."
        finally:
            guard.cancel()
            self.rescued.set()
        loop = getattr(self.app, "_loop", None)
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._leave, code)
            except RuntimeError:
                pass
        if not self.left.wait(LEAVE_WITHIN_S):
            self._end(code)

    def _save(self, name: str) -> str:
        """Stop every long job; write the current run if it has steps no file holds. Returns the line."""
        app = self.app
        train = getattr(app, "train", None)
        trainer = getattr(train, "trainer", None)
        if trainer is not None:
            trainer.stop()  # thread-safe: the loop ends at its next step
        for worker in list(getattr(app, "workers", [])):
            stop = getattr(worker, "cancelled_event", None)
            if stop is not None and worker.group != "save":
                stop.set()  # a sweep or a comparison ends without a save (only the run is kept)
        if train is None or not train.unsaved:
            return f"stopped by {name}."
        payload, run = train.payload()
        path = checkpoint.fresh_name(run, checkpoint.default_dir())
        try:
            checkpoint.write_payload(payload, path)
        except SeqlmError as err:
            return f"stopped by {name}; the run (step {run.step:,}) could not be saved: {err}"
        return f"stopped by {name}; the run (step {payload['step']:,}) was saved to {path}."

    def _leave(self, code: int) -> None:
        from seqlm_tui.tui import quitting

        quitting.stop_everything(self.app)
        self.app.exit(return_code=code)

    def _end(self, code: int) -> None:
        """The last resort: the app's shutdown is stuck (its terminal is gone); say it and end."""
        self._say()
        os._exit(code)

    # -- in the main thread, after the app has returned ----------------------------------------------
    def finish(self, code: int | None) -> int:
        if self.signum is None:
            self.left.set()
            return code or 0
        self.rescued.wait(SAVE_AT_MOST_S)
        self._say()
        self.left.set()
        return 128 + self.signum

    def _say(self) -> None:
        if not self.line:
            return
        line, self.line = self.line, None
        try:
            os.write(sys.__stderr__.fileno(), f"seqlm-tui: {line}\n".encode("utf-8", "backslashreplace"))
        except (OSError, ValueError, AttributeError):
            pass  # the terminal is gone: the file is there all the same
