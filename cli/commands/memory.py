"""``seqlm-tui memory``: the memory task, Elman RNN against LSTM, recall accuracy against length."""

from __future__ import annotations

import json

from seqlm_tui.cli.lists import split_list
from seqlm_tui.cli.output import out
from seqlm_tui.core.memory import chance, compare_memory


def run(args) -> int:
    models = list(dict.fromkeys(split_list(args.models, str, "models")))
    lengths = split_list(args.lengths, int, "lengths")
    steps = args.steps
    results = []
    runs = compare_memory(models, lengths, steps, seed=args.seed, hidden=args.hidden, lr=args.lr,
                          batch_size=args.batch_size)  # checks every setting first
    w = max(len(m) for m in models + ["model"])
    if not args.json:
        out(f"memory task: recall the first of N random symbols; {steps:,} steps per run, seed {args.seed}, "
            f"chance {chance():.3f}")
        out(f"{'model':<{w}}  length  accuracy  dev loss  seconds")
    for r in runs:
        results.append(r)
        if not args.json:
            dev = f"{r.dev_loss:8.4f}" if r.dev_loss is not None else "       -"
            out(f"{r.model:<{w}}  {r.length:>6}  {r.accuracy:>8.3f}  {dev}  {r.seconds:>7.1f}")
    if args.json:
        out(json.dumps({"chance": chance(), "steps": steps, "seed": args.seed,
                        "results": [r.__dict__ for r in results]}))
        return 0
    ordered = sorted(set(lengths))
    acc = {(r.model, r.length): r.accuracy for r in results}
    out("")
    out(f"{'accuracy':<{w}}  " + "  ".join(f"{n:>6}" for n in ordered))
    for m in models:
        out(f"{m:<{w}}  " + "  ".join(f"{acc[m, n]:>6.3f}" for n in ordered))
    return 0
