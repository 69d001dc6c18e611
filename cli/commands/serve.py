"""``seqlm-tui serve``: the app in a room's browsers, one app process per tab (see cli/serve/)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
from pathlib import Path
from urllib.parse import urlsplit

from seqlm_tui.cli.errors import UsageError
from seqlm_tui.cli.flags import app_start_config, as_flags
from seqlm_tui.cli.stopping import SIGNALS, Interrupted
from seqlm_tui.core import checkpoint
from seqlm_tui.core.errors import SeqlmError

INSTALL = "seqlm-tui serve needs the 'serve' extra: pip install 'seqlm-tui[serve]'."


def _static() -> Path:
    try:
        import aiohttp  # noqa: F401
        import textual_serve
    except ImportError:
        raise SeqlmError(INSTALL) from None
    return Path(textual_serve.__file__).parent / "static"  # its textual.js, xterm.css and Roboto Mono


def rules_from(args: argparse.Namespace):
    from seqlm_tui.cli.serve import room

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {args.port}.")
    if args.max_sessions is not None and args.max_sessions < 1:
        raise UsageError(f"--max-sessions must be at least 1, not {args.max_sessions}.")
    if not args.idle_minutes > 0:
        raise UsageError(f"--idle-minutes must be more than 0, not {args.idle_minutes:g}.")
    if args.public_url and (urlsplit(args.public_url).scheme not in ("http", "https")
                            or not urlsplit(args.public_url).netloc):
        raise UsageError(f"--public-url must be an http:// or https:// address, not {args.public_url!r}.")
    setup = argparse.Namespace(**{k: v for k, v in vars(args).items() if "." in k or k == "preset"})
    app_start_config(setup)  # a bad flag is said once, here, and not in every student's tab
    folder = checkpoint.check_folder(checkpoint.default_dir(args.checkpoint_dir)).resolve()
    return room.Rules(host=args.host, port=args.port,
                      max_sessions=args.max_sessions or room.default_max_sessions(),
                      idle_s=args.idle_minutes * 60, folder=folder,
                      token=room.choose_token(args.host, args.public_url, args.token),
                      public_url=args.public_url, app_args=as_flags(setup))


def run(args: argparse.Namespace) -> int:
    static = _static()
    rules = rules_from(args)
    return asyncio.run(_serve(rules, static))


async def _serve(rules, static: Path) -> int:
    from aiohttp import web

    from seqlm_tui.cli.serve.server import RoomServer, log

    server = RoomServer(rules, static)
    runner = web.AppRunner(server.web_app(), handle_signals=False, access_log=None)
    await runner.setup()
    stop = asyncio.Event()
    received: list[int] = []
    loop = asyncio.get_running_loop()
    for sig in SIGNALS:  # Ctrl+C, SIGTERM and a closed terminal end every session, then serve
        loop.add_signal_handler(sig, lambda s=sig: (received.append(s), stop.set()))
    try:
        try:
            site = web.TCPSite(runner, rules.host, rules.port)
            await site.start()
        except OSError as err:
            raise SeqlmError(f"cannot listen on {rules.host}:{rules.port} ({err.strerror or err}).") from None
        rules.port = runner.addresses[0][1]  # the port chosen when 0 was asked for
        _announce(rules)
        await stop.wait()
    finally:
        count = await server.end_all("serve stopped")
        await runner.cleanup()
        count += await server.end_all("serve stopped")
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)
    log(f"stopped; {count} session{'s' if count != 1 else ''} ended, no app left running.")
    raise Interrupted(received[0] if received else signal.SIGINT)


def _announce(rules) -> None:
    shown = socket.gethostname() if rules.host in ("0.0.0.0", "::", "") else None
    print(f"seqlm-tui serve: open {rules.url(shown)}", flush=True)
    print(f"  up to {rules.max_sessions} sessions at once, {rules.threads} torch thread"
          f"{'s' if rules.threads != 1 else ''} each; a session idle for {rules.idle_s / 60:g} minutes ends "
          f"(its run is kept)", flush=True)
    print(f"  checkpoints: {rules.folder} (each session saves into its own session-CODE folder there and can "
          "load the files in it); Ctrl+C stops every session", flush=True)
