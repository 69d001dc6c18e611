"""``seqlm-tui sweep``: the learning-rate range test, drawn in the terminal."""

from __future__ import annotations

import json
import math
import sys

from seqlm_tui.cli.draw import line_chart
from seqlm_tui.cli.flags import config_from_args
from seqlm_tui.cli.output import live_line, out
from seqlm_tui.cli.stopping import STOP, check
from seqlm_tui.core import events as ev
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.run import new_run
from seqlm_tui.core.sweep import RULE, Sweep, SweepConfig


def run(args) -> int:
    scfg = SweepConfig(args.lr_min, args.lr_max, args.steps)
    scfg.check()
    run_ = new_run(config_from_args(args))
    done = None
    tty = live_line()
    for e in Sweep(run_, scfg, stop=STOP).events():
        if isinstance(e, ev.Error):
            raise SeqlmError(e.message)
        if isinstance(e, ev.SweepPoint) and tty and (e.index % 20 == 0 or e.index == e.total):
            sys.stderr.write(f"\rsweep {e.index}/{e.total} lr {e.lr:.2e} loss {e.smooth:.4f}   ")
            sys.stderr.flush()
        if isinstance(e, ev.SweepDone):
            done = e
    check()
    if tty:
        sys.stderr.write("\r\033[K")
    if args.json:
        out(json.dumps({"lrs": done.lrs, "losses": done.losses, "smoothed": done.smoothed,
                        "suggested_lr": done.suggested_lr, "rule": RULE, "stopped": done.reason}))
        return 0
    xs = [math.log10(v) for v in done.lrs]
    out(line_chart([("loss", xs, done.losses), ("smoothed", xs, done.smoothed)],
                   f"learning-rate range test: {run_.cfg.model.model} on {run_.cfg.data.dataset}",
                   "log10 learning rate", vline=math.log10(done.suggested_lr) if done.suggested_lr else None))
    stop = {"diverged": "stopped early: the loss diverged", "done": "tried every rate"}.get(done.reason, done.reason)
    out(f"{stop}; {len(done.lrs)} rates")
    if done.suggested_lr:
        out(f"suggested learning rate: {done.suggested_lr:.3g} ({RULE}; the vertical line)")
    else:
        out("no suggestion: the curve is too short or never falls.")
    return 0
