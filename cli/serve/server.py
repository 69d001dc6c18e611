"""The room's web server: the page, one websocket (and one app process) per tab, and nothing else.

Routes: ``/`` the page (or the "room is full" page), ``/ws`` the terminal of one session, ``/download/{key}``
(textual.js asks there for files an app delivers; this app delivers none), ``/static`` textual-serve's
JavaScript, stylesheet and fonts. Without the token, the page, the websocket and the download route answer
403 and start nothing. A session is known by its code (a cookie): a tab that opens with the code of a live
session replaces it (a refresh), after the old process has saved its run and ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from seqlm_tui.cli.serve import room as rooms
from seqlm_tui.cli.serve.app_process import AppProcess

COOKIE_DAYS = 7
PAGE = Template(files("seqlm_tui.cli.serve").joinpath("page.html").read_text(encoding="utf-8"))
NOTE = Template("""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>seqlm-tui</title>
<style>body{background:#0c181f;color:#eee;font-family:monospace;font-size:18px;display:flex;align-items:center;
justify-content:center;height:90vh}</style></head><body><p>$text</p></body></html>""")
FULL = "The room is full: all $n sessions are in use. Try again in a few minutes."
FORBIDDEN = "This room needs its access token: open the link you were given (it ends in ?token=...)."
UNSET_FOR_THE_APP = ("NO_COLOR", rooms.TOKEN_ENV)  # a browser has colours; a student has no use for the token


def note(text: str, status: int) -> web.Response:
    return web.Response(text=NOTE.substitute(text=html.escape(text)), status=status, content_type="text/html")


def log(text: str) -> None:
    print(f"seqlm-tui serve: {text}", file=sys.stderr, flush=True)


@dataclass
class Session:
    code: str
    process: AppProcess
    ws: web.WebSocketResponse
    last_input: float
    release: Callable[[Session], None]  # gives the session's place back once its app has ended
    reason: str = ""

    async def end(self, reason: str) -> str:
        """Ends the app (it saves its run), frees the place, then closes the tab's connection; how the app
        ended ("quit", "terminated", "killed")."""
        self.reason = self.reason or reason
        how = await self.process.stop()
        self.release(self)
        if not self.ws.closed:
            await self.ws.close()
        return how


class RoomServer:
    def __init__(self, rules: rooms.Rules, static: Path) -> None:
        self.rules, self.static = rules, static
        self.live: dict[str, Session] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.closing = False

    def web_app(self) -> web.Application:
        app = web.Application()
        app.add_routes([web.get("/", self.page), web.get("/ws", self.websocket),
                        web.get("/download/{key}", self.download),
                        web.static("/static", self.static, show_index=False)])
        return app

    # -- who may come in ------------------------------------------------------------------------------
    def refused(self, request: web.Request) -> web.Response | None:
        given = request.query.get("token") or request.cookies.get(self.token_cookie)
        if not self.rules.token_ok(given) or not self.rules.host_ok(request.host):
            return note(FORBIDDEN, 403)
        return None

    def full(self, code: str) -> bool:
        return code not in self.live and len(self.live) >= self.rules.max_sessions

    # Cookies are kept per host, not per port: each room's are named with its port, or two rooms on one
    # machine would take each other's token and session codes.
    @property
    def code_cookie(self) -> str:
        return f"seqlm_session_{self.rules.port}"

    @property
    def token_cookie(self) -> str:
        return f"seqlm_token_{self.rules.port}"

    def code_of(self, request: web.Request) -> str | None:
        code = request.cookies.get(self.code_cookie)
        return code if rooms.valid_code(code) else None

    # -- routes ---------------------------------------------------------------------------------------
    async def page(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        asked = request.query.get("session")  # a code typed in to get a session back on another machine
        code = asked if rooms.valid_code(asked) else self.code_of(request) or rooms.new_code()
        if self.full(code):
            return note(FULL.replace("$n", str(self.rules.max_sessions)), 503)
        body = PAGE.substitute(title=f"seqlm-tui {code}", websocket_url=html.escape(self.websocket_url(request)),
                               font_size=_int(request.query.get("fontsize"), 16, 8, 48))
        response = web.Response(text=body, content_type="text/html")
        secure = (self.rules.public_url or "").startswith("https:") or request.secure
        cookie = dict(max_age=COOKIE_DAYS * 86400, httponly=True, samesite="Strict", secure=secure, path="/")
        response.set_cookie(self.code_cookie, code, **cookie)
        if self.rules.token is not None:
            response.set_cookie(self.token_cookie, self.rules.token, **cookie)
        return response

    def websocket_url(self, request: web.Request) -> str:
        """Absolute (textual.js appends its own query): the public URL's when there is one, else the address
        this request came to, so that a room bound to 0.0.0.0 works under whatever name students use."""
        if self.rules.public_url:
            parts = urlsplit(self.rules.public_url)
            scheme = "wss" if parts.scheme == "https" else "ws"
            return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}/ws"
        return f"{'wss' if request.secure else 'ws'}://{request.host}/ws"

    async def download(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        return web.Response(text="nothing to download\n", status=404)

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        if (refusal := self.refused(request)) is not None:
            return refusal
        if not self.rules.origin_ok(request.headers.get("Origin"), request.host):
            return note("This room's sessions open from its own page.", 403)
        code = self.code_of(request) or rooms.new_code()
        lock = self.locks.setdefault(code, asyncio.Lock())
        async with lock:  # one tab of a code at a time: a refresh waits for the old process to save and end
            if self.closing or self.full(code):
                return note(FULL.replace("$n", str(self.rules.max_sessions)), 503)
            old = self.live.get(code)
            if old is not None:
                await old.end("opened again")
            ws = web.WebSocketResponse(heartbeat=30)
            await ws.prepare(request)
            size = (_int(request.query.get("width"), 80, 20, 500), _int(request.query.get("height"), 24, 8, 300))
            process = AppProcess(self.app_argv(), self.app_env(code, *size))
            session = Session(code, process, ws, time.monotonic(), self.release)
            self.live[code] = session
            try:
                await process.start()
            except OSError:
                self.release(session)
                raise
        if self.closing:  # serve began to stop while this one started
            await session.end("serve stopped")
        log(f"session {code} started (pid {process.pid}; {len(self.live)} of {self.rules.max_sessions} in use)")
        pump = asyncio.create_task(self.pump(session))
        idle = asyncio.create_task(self.watch_idle(session))
        try:
            await self.read_browser(session)
        finally:
            idle.cancel()
            how = await session.end("tab closed")
            await pump
            code_ = process.proc.returncode if process.proc else "-"
            log(f"session {code} ended ({session.reason}; the app {how}, exit code {code_})")
        return ws

    # -- one session ----------------------------------------------------------------------------------
    async def read_browser(self, session: Session) -> None:
        """Keys, clicks and sizes from the page to the app (a key or a click counts as activity)."""
        process = session.process
        async for message in session.ws:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                kind, data = json.loads(message.data)[:2]
            except (ValueError, TypeError):
                continue
            if kind == "stdin" and isinstance(data, str):
                session.last_input = time.monotonic()
                await process.send(b"D", data.encode("utf-8", "replace"))
            elif kind == "resize" and isinstance(data, dict):
                await process.send_meta({"type": "resize", "width": _int(data.get("width"), 80, 20, 500),
                                         "height": _int(data.get("height"), 24, 8, 300)})
            elif kind in ("focus", "blur"):
                await process.send_meta({"type": kind})
            elif kind == "ping":
                await session.ws.send_json(["pong", data])

    async def pump(self, session: Session) -> None:
        """The app's screen to the page; when the app ends (or never started) the page is told."""
        ws = session.ws
        async for kind, payload in session.process.frames():
            if ws.closed:
                continue  # read on to the end, or a full pipe would hold the app as it saves its run
            with contextlib.suppress(ConnectionResetError, RuntimeError, ValueError, AttributeError):
                if kind == b"D":
                    await ws.send_bytes(payload)
                elif kind == b"M" and json.loads(payload).get("type") == "exit":
                    await ws.close()
        if not session.process.started and not ws.closed:
            tail = session.process.stderr_tail().strip() or "it ended before drawing anything"
            with contextlib.suppress(ConnectionResetError, RuntimeError):
                await ws.send_bytes(("seqlm-tui could not start:\r\n" + tail.replace("\n", "\r\n")).encode())
            log(f"session {session.code}: the app did not start: {tail.splitlines()[-1] if tail else ''}")
        session.reason = session.reason or "the app ended"
        if not ws.closed:
            await ws.close()

    async def watch_idle(self, session: Session) -> None:
        every = min(30.0, max(0.5, self.rules.idle_s / 10))
        while True:
            await asyncio.sleep(every)
            if time.monotonic() - session.last_input >= self.rules.idle_s:
                await session.end(f"idle for {self.rules.idle_s / 60:g} minutes")
                return

    def release(self, session: Session) -> None:
        if self.live.get(session.code) is session:
            del self.live[session.code]

    def app_argv(self) -> list[str]:
        # The interpreter running serve, and no shell: the process held is the app itself.
        return [sys.executable, "-m", "seqlm_tui.cli.main", *self.rules.app_args]

    def app_env(self, code: str, width: int, height: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in UNSET_FOR_THE_APP}
        threads = str(self.rules.threads)
        env.update({
            "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver", "TEXTUAL_FPS": "30",
            "TEXTUAL_COLOR_SYSTEM": "truecolor", "TERM_PROGRAM": "textual", "COLUMNS": str(width), "ROWS": str(height),
            "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "SEQLM_MAX_THREADS": threads,
            "SEQLM_CHECKPOINT_DIR": str(self.rules.session_folder(code)), "SEQLM_ROOM_SESSION": code,
            "SEQLM_ROOM_SHARED": str(self.rules.folder)})
        return env

    async def end_all(self, reason: str) -> int:
        """Every session's app ended (in parallel); how many there were."""
        self.closing = True
        count = 0
        while self.live:  # a tab that was starting as serve stopped is in the next round
            sessions = list(self.live.values())
            count += len(sessions)
            await asyncio.gather(*(s.end(reason) for s in sessions), return_exceptions=True)
            for s in sessions:
                self.release(s)
        return count


def _int(text, default: int, lo: int, hi: int) -> int:
    try:
        return min(hi, max(lo, int(text)))
    except (TypeError, ValueError):
        return default
