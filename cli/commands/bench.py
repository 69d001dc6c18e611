"""``seqlm-tui bench``: the performance suite, printed as a Markdown table or JSON."""

from __future__ import annotations

import json
import sys

from seqlm_tui.cli.output import out


def run(args) -> int:
    from seqlm_tui.cli.bench.suite import fmt_value, run_all

    def progress(key):
        if not args.json:
            print(f"... {key}", file=sys.stderr, flush=True)

    rows = run_all(args.quick, args.only, progress)
    if args.json:
        out(json.dumps([r.__dict__ for r in rows], default=str))
        return 0
    out("| item | measured | value | goal | met |")
    out("| --- | --- | --- | --- | --- |")
    for r in rows:
        met = "-" if r.met is None else "yes" if r.met else "NO"
        out(f"| {r.title} | {r.figure} | {fmt_value(r.value)} | {r.goal} | {met} |")
    return 0
