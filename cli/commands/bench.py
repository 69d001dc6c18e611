"""``seqlm-tui bench``: the performance suite, printed as a Markdown table or JSON."""

from __future__ import annotations

import json
import sys

from seqlm_tui.cli.output import out


def run(args) -> int:
    from seqlm_tui.cli.bench.suite import fmt_value, run_all
    from seqlm_tui.cli.errors import UsageError

    if args.plot and args.only and "frontier" not in args.only:
        raise UsageError("--plot draws the frontier item, which --only leaves out.")
    if args.plot and args.json:
        raise UsageError("--plot draws a chart, and --json prints only JSON: give one of them.")

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
    if args.plot:
        plot_frontier([r for r in rows if r.key.startswith("frontier_")])
    return 0


def plot_frontier(rows) -> None:
    import math

    from seqlm_tui.cli.draw import line_chart

    mine = sorted((r.detail["seconds"], r.detail["test_loss"]) for r in rows)
    theirs = sorted((r.detail["baseline"]["seconds"], r.detail["baseline"]["test_loss"]) for r in rows)
    series = [("seqlm-tui presets", [math.log10(s) for s, _ in mine], [v for _, v in mine]),
              ("makemore's Transformer recipe", [math.log10(s) for s, _ in theirs], [v for _, v in theirs])]
    out(line_chart(series, "names: test loss against wall time", "log10 seconds", height=16))
