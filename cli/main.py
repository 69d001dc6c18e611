"""``seqlm-tui``: the app with no command; headless commands otherwise.

Every way out is one line and a conventional exit code: 0 done, 1 an expected problem, 2 a command line
that cannot be carried out, 128 + N a signal (130 Ctrl+C, 143 SIGTERM, 129 SIGHUP). A signal ends the
command the way Ctrl+C does: what was being written is removed, nothing half-written is left.
"""

from __future__ import annotations

import os
import signal
import sys

from seqlm_tui.cli.stopping import SIGNALS, Interrupted, catch_signals, handled


def _command(name: str):
    from seqlm_tui.cli.commands import bench, compare, evaluate, generate, inspect, learn, memory, sweep, train

    return {"learn": learn.run, "train": train.run, "sweep": sweep.run, "generate": generate.generate,
            "sample": generate.sample, "eval": evaluate.run, "inspect": inspect.run, "compare": compare.run,
            "memory": memory.run, "bench": bench.run}[name]


def main(argv: list[str] | None = None) -> int:
    with catch_signals():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    from seqlm_tui.cli.errors import UsageError
    from seqlm_tui.core.errors import SeqlmError

    try:
        from seqlm_tui.cli.parser import build_parser

        # Inside the try: building the parser imports torch (a second or two), and Ctrl+C then is common.
        args = build_parser().parse_args(argv)
        if args.command is None:
            from seqlm_tui.tui.app import run_app

            return run_app()
        return _command(args.command)(args) or 0
    except UsageError as err:
        print(f"seqlm-tui: {err}", file=sys.stderr)
        return 2
    except SeqlmError as err:
        print(f"seqlm-tui: {err}", file=sys.stderr)
        return 1
    except (Interrupted, KeyboardInterrupt) as err:
        handled()
        signum = getattr(err, "signum", signal.SIGINT)
        sys.stdout.flush()
        print(f"seqlm-tui: {SIGNALS.get(signum, 'stopped')}.", file=sys.stderr)
        return 128 + int(signum)
    except BrokenPipeError:
        # The reader went away (`| head`): what it wanted was printed. Point stdout at nothing so the
        # interpreter's final flush does not fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as err:  # a bug: one line (SEQLM_DEBUG=1 shows the traceback), never a wall of text
        if os.environ.get("SEQLM_DEBUG"):
            raise
        print(f"seqlm-tui: unexpected error, a bug ({type(err).__name__}: {err}); run again with SEQLM_DEBUG=1 "
              "to see where.", file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
