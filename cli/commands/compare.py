"""``seqlm-tui compare``: one setup at several learning rates, the dev curves overlaid."""

from __future__ import annotations

import json
import math

from seqlm_tui.cli.draw import line_chart
from seqlm_tui.cli.flags import config_from_args
from seqlm_tui.cli.lists import split_list
from seqlm_tui.cli.output import out
from seqlm_tui.core.compare import check_rates, lr_comparison


def run(args) -> int:
    rates = check_rates(split_list(args.lrs, float, "learning rates"))
    cfg = config_from_args(args)
    human = not args.json
    curves = []
    runs = lr_comparison(cfg, rates, args.steps)  # checks every setting first
    if human:
        out(f"{cfg.model.model} on {cfg.data.dataset}: {args.steps:,} steps at each of {len(rates)} learning rates, "
            f"seed {cfg.train.seed}")
    for curve in runs:
        curves.append(curve)
        if human:
            final = curve.final_dev
            what = (f"{'last ' if curve.status != 'done' else ''}dev loss {final:.4f}" if final is not None
                    else "no dev loss")
            out(f"lr {curve.lr:<8g} {what}" + (f"  diverged: {curve.message}" if curve.status != "done" else ""))
    done = [c for c in curves if c.status == "done" and c.final_dev is not None and math.isfinite(c.final_dev)]
    best = min(done, key=lambda c: c.final_dev) if done else None
    if args.json:
        out(json.dumps({"curves": [{"label": c.label, "lr": c.lr, "status": c.status, "message": c.message,
                                    "final_dev": c.final_dev, "dev": c.dev, "train": c.train} for c in curves],
                        "best_lr": best.lr if best else None}))
        return 0
    # A diverged rate's losses would squash the curves worth comparing into one line: the y range is that of
    # the rates that finished, and a diverged curve shows only the points inside it (the text lists them all).
    top = max(v for c in done for _, v in c.dev) * 1.05 if done else math.inf
    series = []
    for c in curves:
        pts = [(s, v) for s, v in c.dev if v <= top]
        tag = "" if c.status == "done" else f" ({c.status})"
        series.append((f"lr {c.lr:g}{tag}", [s for s, _ in pts], [v for _, v in pts]))
    out(line_chart(series, f"dev loss at each learning rate: {cfg.model.model} on {cfg.data.dataset}", "step"))
    if best:
        out(f"lowest final dev loss: lr {best.lr:g} ({best.final_dev:.4f})")
    else:
        out("every rate diverged; try lower ones.")
    return 0
