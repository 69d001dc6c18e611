"""``seqlm-tui serve`` as a browser meets it, without the browser: HTTP and the websocket from aiohttp,
the app processes read from the process table. (tests/cli/test_serve_browser.py drives real Chromium.)"""

from __future__ import annotations

import asyncio
import json
import signal

import aiohttp
import pytest
from yarl import URL

from seqlm_tui.cli.serve import room as rooms
from seqlm_tui.core import checkpoint
from tests.cli.room import SAFETY_S, apps_of, environ_of, served, wait_for


def client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # unsafe: cookies of an IP address


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://").rstrip("/") + "/ws?width=100&height=30"


async def screen_until(ws, needle: bytes) -> bytes:
    """The app's screen bytes until ``needle`` shows in them."""
    seen = b""

    async def read() -> None:
        nonlocal seen
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.BINARY:
                seen += msg.data
                if needle in seen:
                    return
        raise AssertionError(f"the session ended before {needle!r} showed; it showed {seen[-300:]!r}")

    await asyncio.wait_for(read(), SAFETY_S)
    return seen


async def until_page(s: aiohttp.ClientSession, url: str, status: int) -> None:
    async def poll() -> None:
        while True:
            async with s.get(url) as r:
                if r.status == status:
                    return
            await asyncio.sleep(0.1)

    await asyncio.wait_for(poll(), SAFETY_S)


async def closed_by_server(ws) -> None:
    async def read() -> None:
        async for _ in ws:
            pass

    await asyncio.wait_for(read(), SAFETY_S)


def test_without_the_token_nothing_opens_and_no_app_starts_and_an_idle_tab_ends(tmp_path):
    with served(tmp_path / "room", "--token", "sesame", "--idle-minutes", "0.05") as room:
        base = room.base.rstrip("/")

        async def visit() -> None:
            async with client() as s:
                for path in ("/", "/?token=wrong", "/download/abc"):
                    async with s.get(base + path) as r:
                        assert r.status == 403 and "access token" in await r.text(), path
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await s.ws_connect(ws_url(base))
                assert refused.value.status == 403
                assert apps_of(room.folder) == []  # refused before anything started

                async with s.get(room.url) as r:  # the link with the token: the page, and the token kept
                    assert r.status == 200 and "static/js/textual.js" in await r.text()
                async with s.get(base + "/download/abc") as r:
                    assert r.status == 404  # in, by the cookie, and there is nothing to download
                code = rooms.new_code()  # a student continues on another machine with the code on screen
                async with s.get(f"{room.url}&session={code}") as r:
                    assert r.status == 200 and r.cookies[f"seqlm_session_{room.port}"].value == code
                with pytest.raises(aiohttp.WSServerHandshakeError) as elsewhere:  # a page elsewhere, same cookie
                    await s.ws_connect(ws_url(base), headers={"Origin": "http://elsewhere.example"})
                assert elsewhere.value.status == 403
                assert apps_of(room.folder) == []

                ws = await s.ws_connect(ws_url(base))  # nobody types: the session ends after 3 s idle
                await closed_by_server(ws)
            wait_for(lambda: not apps_of(room.folder), "the idle session's app to end")

        asyncio.run(visit())
        room.proc.send_signal(signal.SIGTERM)
        room.proc.wait(SAFETY_S)
        log = room.proc.stderr.read()
        assert log.count("started") == 1 and "idle for 0.05 minutes" in log


def test_a_tab_trains_keeps_its_run_the_full_room_says_so_and_a_killed_serve_leaves_no_app(tmp_path):
    with served(tmp_path / "room", "--max-sessions", "1", "--preset", "counting-elman", "--steps", "300") as room:
        base = room.base.rstrip("/")

        async def visit() -> str:
            async with client() as s, client() as other:
                async with s.get(base + "/") as r:
                    assert r.status == 200
                code = s.cookie_jar.filter_cookies(URL(base))[f"seqlm_session_{room.port}"].value
                ws = await s.ws_connect(ws_url(base))
                await screen_until(ws, b"counting")
                (pid,) = apps_of(room.folder)
                env = environ_of(pid)
                assert env["SEQLM_CHECKPOINT_DIR"] == str(room.folder / f"session-{code}")
                assert env["OMP_NUM_THREADS"] == env["SEQLM_MAX_THREADS"] == str(rooms.thread_share(1))

                async with other.get(base + "/") as r:  # a second student: the room has one place
                    assert r.status == 503 and "The room is full" in await r.text()
                with pytest.raises(aiohttp.WSServerHandshakeError) as full:
                    await other.ws_connect(ws_url(base))
                assert full.value.status == 503

                await ws.send_str(json.dumps(["stdin", "s"]))
                await screen_until(ws, b"finished")
                await ws.close()  # the tab is closed: its app saves the run and ends
                wait_for(lambda: not apps_of(room.folder), "the closed tab's app to end")

                await until_page(other, base + "/", 200)  # the place is free again (once serve has seen it end)
                ws = await other.ws_connect(ws_url(base))
                await screen_until(ws, b"counting")
                return code

        code = asyncio.run(visit())
        kept = checkpoint.load(room.folder / f"session-{code}" / "last-run.pt")
        assert kept.step == 300 and kept.cfg.data.dataset == "counting"
        assert len(apps_of(room.folder)) == 1
        room.proc.kill()  # serve killed outright: it cannot end its sessions; they end on their own
        wait_for(lambda: not apps_of(room.folder), "the orphaned app to end")


def test_stopping_serve_ends_every_session(tmp_path):
    with served(tmp_path / "room", "--max-sessions", "3") as room:
        base = room.base.rstrip("/")

        async def visit() -> None:
            async with client() as a, client() as b:
                tabs = []
                for s in (a, b):
                    async with s.get(base + "/") as r:
                        assert r.status == 200
                    tabs.append(await s.ws_connect(ws_url(base)))
                for ws in tabs:
                    await screen_until(ws, b"counting")
                assert len(apps_of(room.folder)) == 2
                room.proc.send_signal(signal.SIGTERM)
                for ws in tabs:
                    await closed_by_server(ws)

        asyncio.run(visit())
        assert room.proc.wait(SAFETY_S) == 128 + signal.SIGTERM
        log = room.proc.stderr.read()
        assert "stopped; 2 sessions ended" in log and log.count("(serve stopped; the app") == 2, log
        assert apps_of(room.folder) == []  # at once: serve waits for its apps before it leaves
