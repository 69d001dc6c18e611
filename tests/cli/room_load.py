"""A room under load, by hand (not a test: its figures depend on the machine): ``python -m tests.cli.room_load``.

One ``seqlm-tui serve --max-sessions 5``; one headless Chromium trains the app's first run (counting-watch)
alone, then five at once, then one alone again; a sixth browser is told the room is full; a refresh gets a
run back; the process table is read after the tabs close and after serve stops. Each session's time is from
its ``s`` to the words "finished at step" in the screen data its page received (a small hook on the page's
WebSocket, so that no OCR competes with the sessions for the CPU).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from tests.cli.room import apps_of, served, wait_for
from tests.cli.test_serve_browser import chromium, press

HOOK = r"""
const Native = window.WebSocket;
window.__screen = "";
window.WebSocket = function (url, protocols) {
  const ws = new Native(url, protocols);
  const decoder = new TextDecoder();
  ws.addEventListener("message", (e) => {
    if (typeof e.data !== "string") {
      window.__screen = (window.__screen + decoder.decode(e.data, {stream: true})
        .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "")).slice(-200000);
    }
  });
  return ws;
};
window.WebSocket.prototype = Native.prototype;
"""


def hooked(driver):
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": HOOK})
    return driver


def shows(driver, text: str) -> bool:
    return text in (driver.execute_script("return window.__screen || ''") or "")


def clear(driver) -> None:
    driver.execute_script("window.__screen = ''")


def train_all(drivers) -> list[float]:
    for d in drivers:
        wait_for(lambda d=d: shows(d, "Press s"), "the app drawn", timeout=300)
    starts = []
    for d in drivers:
        clear(d)
        press(d, "s")
        starts.append(time.monotonic())
    times = [None] * len(drivers)
    while None in times:
        for i, d in enumerate(drivers):
            if times[i] is None and shows(d, "finished at step"):
                times[i] = time.monotonic() - starts[i]
        time.sleep(0.1)
    return times


async def train_all_ws(base: str, n: int) -> list[float]:
    """The same with n websocket clients instead of browsers: only the apps load the machine, as in a room
    whose browsers run on the students' machines. Every app is drawn before any trains."""
    import asyncio
    import json

    import aiohttp

    drawn, go = [], asyncio.Event()

    async def until(ws, needle: bytes) -> None:
        seen = b""
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.BINARY:
                seen = (seen + msg.data)[-20000:]
                if needle in seen:
                    return

    async def one() -> float:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
            while True:  # the previous round's places are freed a moment after their apps have gone
                try:
                    await (await s.get(base)).release()
                    ws = await s.ws_connect(base.replace("http://", "ws://").rstrip("/") + "/ws?width=137&height=37")
                    break
                except aiohttp.WSServerHandshakeError:
                    await asyncio.sleep(0.2)
            await until(ws, b"Press s")
            drawn.append(1)
            if len(drawn) == n:
                go.set()
            await go.wait()
            t0 = time.monotonic()
            await ws.send_str(json.dumps(["stdin", "s"]))
            await until(ws, b"finished")
            took = time.monotonic() - t0
            await ws.close()
            return took

    return list(await asyncio.gather(*(one() for _ in range(n))))


def ps() -> str:
    out = subprocess.run(["ps", "-eo", "pid,ppid,etime,args"], capture_output=True, text=True).stdout
    return "\n".join(line for line in out.splitlines() if "seqlm_tui.cli.main" in line and "serve" not in line)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=5)
    ap.add_argument("--ws", action="store_true", help="time websocket clients instead of browsers")
    opts = ap.parse_args()
    n = opts.sessions
    tmp = Path(tempfile.mkdtemp(prefix="room-load-"))
    with served(tmp / "room", "--max-sessions", str(n), "--preset", "counting-watch") as room:
        print(f"serve: {room.url}  (max {n} sessions)")
        if opts.ws:
            import asyncio

            for k in (1, n, 1):
                times = asyncio.run(train_all_ws(room.base, k))
                wait_for(lambda: not apps_of(room.folder), "the apps to end")
                print(f"{k} websocket session(s) at once: " + ", ".join(f"{t:.1f}" for t in times) + " s")
            return
        with chromium(tmp / "alone") as d:
            hooked(d).get(room.url)
            alone = train_all([d])[0]
        wait_for(lambda: not apps_of(room.folder), "the lone session's app to end")
        print(f"1 session alone: {alone:.1f} s from s to finished")

        with ExitStack() as stack:
            drivers = [hooked(stack.enter_context(chromium(tmp / f"b{i}"))) for i in range(n)]
            for d in drivers:
                d.get(room.url)
            times = train_all(drivers)
            print(f"{n} sessions at once: " + ", ".join(f"{t:.1f}" for t in times)
                  + f" s (mean {sum(times) / n:.1f})")
            print(f"apps of the room in the process table: {len(apps_of(room.folder))}")
            with chromium(tmp / "sixth") as sixth:
                sixth.get(room.url)
                print("sixth browser:", "told the room is full" if "The room is full" in sixth.page_source
                      else "NOT told the room is full")
            clear(drivers[0])
            drivers[0].refresh()
            wait_for(lambda: shows(drivers[0], "loaded last-run.pt"), "the refreshed tab's run back", timeout=300)
            print("refresh: 'loaded last-run.pt' shown, run back")
        wait_for(lambda: not apps_of(room.folder), "every app to end once the browsers closed", timeout=300)
        print("after every tab closed, ps shows:", ps() or "(no seqlm-tui app)")

        with chromium(tmp / "again") as d:
            hooked(d).get(room.url)
            again = train_all([d])[0]
        print(f"1 session alone again: {again:.1f} s")
    print("after serve stopped, ps shows:", ps() or "(no seqlm-tui app)")


if __name__ == "__main__":
    main()
