"""One app process for one browser tab, spoken to in Textual's web-driver packets over its stdin and stdout.

The app is started without a shell, in a process group of its own: the process held here is the app itself,
a signal reaches it and whatever it started, and a Ctrl+C meant for ``serve`` does not reach it first.
Ending it always ends it: "quit" (the app saves its run and leaves), then SIGTERM to the group, then SIGKILL,
each after a bounded wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections import deque
from collections.abc import AsyncIterator

PRELUDE = b"__GANGLION__\n"  # the web driver's first line; what comes before it is not the app's screen
PRELUDE_LINES = 200          # lines printed before the driver starts (a warning on stdout) are skipped
QUIT_S = 10.0                # the app leaves on "quit": saving a small run takes well under a second
TERM_S = 5.0


class AppProcess:
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.argv, self.env = argv, env
        self.proc: asyncio.subprocess.Process | None = None
        self.started = False  # the driver's prelude was seen: the app is drawing
        self._stderr: deque[bytes] = deque(maxlen=64)
        self._stderr_task: asyncio.Task | None = None
        self._stopping: asyncio.Task | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    async def start(self) -> None:
        if self._stopping is not None:
            return  # ended before it began (serve stopping): nothing is started
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=self.env, start_new_session=True)
        self._stderr_task = asyncio.create_task(self._drain_stderr())

    async def _drain_stderr(self) -> None:
        """Read stderr as it comes (a full pipe would stop the app) and keep its last lines."""
        assert self.proc and self.proc.stderr
        while line := await self.proc.stderr.readline():
            self._stderr.append(line)

    def stderr_tail(self) -> str:
        return b"".join(self._stderr).decode("utf-8", "replace")

    async def frames(self) -> AsyncIterator[tuple[bytes, bytes]]:
        """(kind, payload) packets from the app until its stdout ends: b"D" screen data, b"M" meta, b"P" packed."""
        if self.proc is None or self.proc.stdout is None:
            return
        out = self.proc.stdout
        try:
            for _ in range(PRELUDE_LINES):
                line = await out.readline()
                if not line:
                    return
                if line == PRELUDE:
                    self.started = True
                    break
            else:
                return
            while True:
                kind = await out.readexactly(1)
                size = int.from_bytes(await out.readexactly(4), "big")
                yield kind, await out.readexactly(size)
        except (asyncio.IncompleteReadError, ConnectionResetError, ValueError):
            return  # the app ended (or printed a line longer than a pipe's buffer before its prelude)

    async def send(self, kind: bytes, payload: bytes) -> bool:
        stdin = self.proc.stdin if self.proc else None
        if stdin is None or stdin.is_closing() or self.proc.returncode is not None:
            return False
        try:
            stdin.write(kind + len(payload).to_bytes(4, "big") + payload)
            await stdin.drain()
        except (ConnectionResetError, BrokenPipeError, RuntimeError):
            return False
        return True

    async def send_meta(self, meta: dict) -> bool:
        return await self.send(b"M", json.dumps(meta).encode())

    async def stop(self, quit_s: float = QUIT_S, term_s: float = TERM_S) -> str:
        """End the app, however long it takes it to agree (bounded); how it ended: "ended" (it had already),
        "quit", "terminated" or "killed". Every caller waits on the same ending."""
        if self._stopping is None:
            self._stopping = asyncio.create_task(self._stop(quit_s, term_s))
        return await asyncio.shield(self._stopping)

    async def _stop(self, quit_s: float, term_s: float) -> str:
        proc = self.proc
        if proc is None:
            return "ended"
        how = "ended"
        if proc.returncode is None and not await self._ended_within(0.1):  # (its end not yet collected)
            how = "quit"
            await self.send_meta({"type": "quit"})
            if not await self._ended_within(quit_s):
                how = "terminated"
                self._signal_group(signal.SIGTERM)
                if not await self._ended_within(term_s):
                    how = "killed"
                    self._signal_group(signal.SIGKILL)
                    await proc.wait()
        self._signal_group(signal.SIGKILL)  # anything the app started and left behind in its group
        if proc.stdin is not None:
            proc.stdin.close()
        if self._stderr_task is not None:
            with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                await asyncio.wait_for(self._stderr_task, 1.0)
        return how

    async def _ended_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(asyncio.shield(self.proc.wait()), seconds)
        except asyncio.TimeoutError:
            return False
        return True

    def _signal_group(self, sig: int) -> None:
        # The group's id is the app's pid (start_new_session); once the group is empty the call finds none.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)
