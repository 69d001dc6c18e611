"""``seqlm-tui``: the app with no command; headless commands otherwise.

Every way out is one line and a conventional exit code: 0 done, 1 an expected problem, 2 a command line
that cannot be carried out, 128 + N a signal (130 Ctrl+C, 143 SIGTERM, 129 SIGHUP). A signal ends the
command the way Ctrl+C does: what was being written is removed, nothing half-written is left.

The signal handlers go in first, before anything heavy is imported (torch takes a second or two): a
Ctrl+C in the first instants of start-up then ends in the same line as any other, not a traceback.
"""

from __future__ import annotations

import os
import sys

from seqlm_tui.cli.opening import OpenApp
from seqlm_tui.cli.stopping import SIGNALS, Interrupted, catch_signals, handled

COMMANDS = "train, sweep, generate, sample, eval, inspect, compare, memory, bench, serve, learn"


def _command(name: str):
    from seqlm_tui.cli.commands import bench, compare, evaluate, generate, inspect, learn, memory, serve, sweep, train

    return {"learn": learn.run, "train": train.run, "sweep": sweep.run, "generate": generate.generate,
            "sample": generate.sample, "eval": evaluate.run, "inspect": inspect.run, "compare": compare.run,
            "memory": memory.run, "bench": bench.run, "serve": serve.run}[name]


def _wants_app(flags) -> OpenApp:
    """The app's starting setup, checked here (a bad flag is a sentence)."""
    from seqlm_tui.cli.flags import app_start_config

    return OpenApp(app_start_config(flags), checkpoint_dir=getattr(flags, "checkpoint_dir", None))


def main(argv: list[str] | None = None) -> int:
    with catch_signals():
        from seqlm_tui.cli.output import guard_streams

        with guard_streams() as stdout:
            code = _main(argv)
            if stdout.lost is not None and not stdout.reported:
                _say(f"standard output was lost ({stdout.lost}); what came after it was not shown.")
                code = code if isinstance(code, OpenApp) else code or 1
        return _gone(_app(code)) if isinstance(code, OpenApp) else code


def _gone(code: int) -> int:
    """The app has left the screen, its threads have ended and its files are written (its run saved, a
    room's last run kept): end the process here. Python's own teardown frees torch and some 300,000 objects
    one by one, 0.3-0.5 s of a blank terminal before the shell's prompt, for nothing the user keeps. The
    exit handlers still run."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code or 0)


def _say(text: str) -> None:
    try:
        print(f"seqlm-tui: {text}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _app(start: OpenApp) -> int:
    """The app draws on the terminal it reads keys from; with none (a cron job, CI, ``< /dev/null``) it
    would wait for ever, so it is refused. The web driver of ``seqlm-tui serve`` brings its own."""
    if not os.environ.get("TEXTUAL_DRIVER") and not (_tty(sys.stdin) and _tty(sys.__stderr__)):
        line = (f"the app needs a terminal, and this has none; use a command instead ({COMMANDS}: "
                "seqlm-tui --help lists them).")
        _say(line)
        if not _tty(sys.__stderr__) and _tty(sys.stdout):  # stderr sent away: the one who typed it still hears
            print(f"seqlm-tui: {line}", flush=True)
        return 2
    if start.checkpoint_dir:
        os.environ["SEQLM_CHECKPOINT_DIR"] = start.checkpoint_dir  # where the app looks for its folder
    try:
        from seqlm_tui.tui.app import run_app

        return run_app(start.cfg, lesson=start.lesson)
    except (Interrupted, KeyboardInterrupt) as err:
        return _interrupted(err)


def _tty(stream) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (OSError, ValueError):
        return False


def _interrupted(err: BaseException) -> int:
    import signal

    handled()
    signum = getattr(err, "signum", signal.SIGINT)
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    _say(f"{SIGNALS.get(signum, 'stopped')}.")
    return 128 + int(signum)


def _main(argv: list[str]) -> int | OpenApp:
    from seqlm_tui.cli.errors import UsageError
    from seqlm_tui.core.errors import SeqlmError, out_of_memory

    try:
        # Inside the try: building the parser imports torch (a second or two), and Ctrl+C then is common.
        from seqlm_tui.cli.flags import app_flags
        from seqlm_tui.cli.parser import build_parser

        args = build_parser().parse_args(argv)
        flags = app_flags(args)
        if args.command is None:
            return _wants_app(flags)
        return _command(args.command)(args) or 0
    except UsageError as err:
        _say(str(err))
        return 2
    except SeqlmError as err:
        _say(str(err))
        return 1
    except (Interrupted, KeyboardInterrupt) as err:
        return _interrupted(err)
    except SystemExit as err:  # argparse: --help, --version, or its own usage error (its message is out)
        return err.code if isinstance(err.code, int) else (0 if err.code is None else 2)
    except Exception as err:  # a bug: one line (SEQLM_DEBUG=1 shows the traceback), never a wall of text
        if message := out_of_memory(err):
            _say(message)
            return 1
        if os.environ.get("SEQLM_DEBUG"):
            raise
        _say(f"unexpected error, a bug ({type(err).__name__}: {err}); run again with SEQLM_DEBUG=1 to see where.")
        return 70


if __name__ == "__main__":
    sys.exit(main())
