"""``seqlm-tui train``: the engine headless, its events printed as lines; the run kept in a checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

from seqlm_tui.cli.errors import UsageError
from seqlm_tui.cli.flags import config_from_args, resume_config
from seqlm_tui.cli.output import Progress, live_line, out, output_lost, say, stop_when_output_is_lost, told
from seqlm_tui.cli.stopping import STOP, check
from seqlm_tui.core import checkpoint
from seqlm_tui.core import events as ev
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.run import Run, new_run
from seqlm_tui.core.textsafe import printable
from seqlm_tui.core.train import Trainer


def _check_flags(args) -> str:
    keep = getattr(args, "keep", None)
    if args.no_save and args.save:
        raise UsageError("give --save or --no-save, not both.")
    if args.no_save and keep:
        raise UsageError("--keep says what a checkpoint keeps, and --no-save writes none.")
    if args.quiet and args.json:
        raise UsageError("--quiet has no effect with --json (which prints only the result).")
    return keep or "best"


def save_or_rescue(run: Run, target: str | Path, folder: Path, keep: str) -> tuple[Path | None, str | None]:
    """Save the trained run; if the named place refuses it (read-only, full, not a folder), keep the run in
    the checkpoint folder instead, so minutes of training are not lost to a typo. Returns (path, problem)."""
    try:
        return checkpoint.save(run, target, keep), None
    except SeqlmError as err:
        first = str(err).rstrip(".")
    rescue = checkpoint.fresh_name(run, folder)
    try:
        path = checkpoint.save(run, rescue, keep)
    except SeqlmError as err:
        return None, f"{first}; saving it in {folder} failed too ({str(err).rstrip('.')}): the run is not saved."
    return path, f"{first}; the run was saved to {path} instead."


def run(args) -> int:
    keep = _check_flags(args)
    saving = not args.no_save
    folder = checkpoint.check_folder(checkpoint.default_dir(args.checkpoint_dir)) if saving else None
    if args.resume:
        loaded = checkpoint.load(args.resume, device=getattr(args, "train.device", "auto"))
        loaded.cfg = resume_config(args, loaded.cfg, args.resume)
        run_ = loaded
    else:
        run_ = new_run(config_from_args(args))
    human = not args.json
    progress = Progress(live_line())
    stop_when_output_is_lost(False)  # the run is what matters: it trains on, and is saved, whoever reads
    trainer = Trainer(run_, sample_count=0 if args.quiet or args.json else 3, keep_best=keep == "best", stop=STOP)
    result, failed = None, None
    try:
        for e in trainer.events():
            if isinstance(e, ev.Step):
                progress.update(e, force=e.step == e.total)
            elif isinstance(e, ev.Started) and human:
                budget = run_.cfg.train.time_budget
                length = f"{budget:g} s (at most {e.total_steps:,} steps)" if budget else f"{e.total_steps:,} steps"
                out(f"training {e.model} ({e.params:,} parameters) on {e.dataset}, {length}, "
                    f"device {e.device}; dev loss on {e.eval_targets:,} targets")
            elif isinstance(e, ev.Eval) and human and not args.quiet:
                progress.clear()
                out(f"step {e.step:>8,}  train {e.train_loss:.4f}  dev {e.dev_loss:.4f}  ppl {e.dev_ppl:.3f}")
            elif isinstance(e, ev.Sample) and human:
                for s in e.texts:
                    out("    " + printable(s))
            elif isinstance(e, ev.Finished):
                result = e.result
            elif isinstance(e, ev.Error):
                failed = e
    finally:
        progress.clear()
    check()  # a signal whose exception was lost still ends the command here, before any save
    if failed is not None and not failed.diverged:
        raise SeqlmError(failed.message)
    path, problem = None, None
    if saving:
        target = args.save if args.save else checkpoint.fresh_name(run_, folder)  # "dir/" stays a folder
        path, problem = save_or_rescue(run_, target, folder, keep)
    kept = checkpoint.kept(run_, keep)
    result = dict(result or {}, checkpoint=str(path) if path else None, kept=kept)
    if failed is not None:
        result.update(diverged=True, error=failed.message, steps=run_.step, dev_loss=run_.metrics.get("dev_loss"))
    if args.json:
        out(json.dumps(result))  # a diverged run's too: what happened, and where its weights went
    if failed is not None:
        say(f"{failed.message.rstrip('.')}.")
        if path and kept["rule"] == "best" and kept["step"] != run_.step:
            say(f"the weights of the best dev evaluation (step {kept['step']:,}, dev loss {kept['dev_loss']:.4f}) "
                f"were saved to {path} (--keep last keeps those of the last good step).")
        elif path:
            say(f"the weights of the last good step ({run_.step:,}) were saved to {path}.")
    elif not args.json:
        dev, train = result.get("dev_loss"), result.get("train_loss")
        out(f"done: {result['steps']:,} steps"
            + (f", train loss {train:.4f}" if train is not None else "")
            + (f", dev loss {dev:.4f}, perplexity {result['dev_ppl']:.3f}" if dev is not None else "")
            + f", {result['tokens_per_s']:,.0f} tokens/s, {result['elapsed_s']:.1f} s")
        if kept["rule"] == "best" and kept["step"] != run_.step and path:
            out(f"kept the weights of the best dev evaluation: step {kept['step']:,}, dev loss "
                f"{kept['dev_loss']:.4f} (--keep last keeps the last step)")
        if path:
            out(f"saved {path}")
    if problem:
        say(problem)
    if lost := output_lost():
        told(f"standard output was lost ({lost}); training went on to its end"
             + (f" and the run was saved to {path}." if path else (", and nothing was saved (--no-save)."
                                                                    if not saving else ".")))
    return 1 if failed is not None or problem or lost else 0
