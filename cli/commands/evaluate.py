"""``seqlm-tui eval``: a checkpoint's loss and perplexity on a split of the data it was trained on."""

from __future__ import annotations

import json
import math

from seqlm_tui.cli.errors import UsageError
from seqlm_tui.cli.output import out
from seqlm_tui.core import checkpoint
from seqlm_tui.core.batches import make_batcher
from seqlm_tui.core.train import evaluate


def run(args) -> int:
    run_ = checkpoint.load(args.checkpoint, device=args.device)
    if args.file is not None:
        if run_.cfg.data.dataset != "file":
            raise UsageError(f"--file does not apply: {args.checkpoint} was trained on {run_.cfg.data.dataset}, "
                             "not on a file.")
        run_.cfg.data.file = args.file
    ds = run_.ensure_dataset()
    model = run_.model
    b = make_batcher(ds, args.split, model.batch_kind, model.context, 1, run_.cfg.data.num_steps,
                     "sequential", None, str(model.device))
    loss, n = evaluate(model, b.eval_batches(0))
    res = {"split": args.split, "loss": loss, "perplexity": math.exp(min(loss, 50)), "targets": n,
           "step": run_.step}
    if args.json:
        out(json.dumps(res))
    else:
        out(f"{args.split}: loss {loss:.4f}, perplexity {res['perplexity']:.3f} on {n:,} targets "
            f"({run_.cfg.model.model} on {run_.cfg.data.dataset}, step {run_.step:,})")
    return 0
