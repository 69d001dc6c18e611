"""``seqlm-tui``: the app with no command; headless commands otherwise. Renders core's events as text."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import fields
from datetime import datetime
from pathlib import Path

from core import __version__
from core.config import SECTIONS, field_type, flag
from core.errors import SeqlmError

TRAIN_ONLY = {"steps", "epochs", "eval_every", "eval_cap", "schedule", "decay_at", "warmup"}


# -- flags derived from the config dataclasses ---------------------------------------------------


def add_config_flags(p: argparse.ArgumentParser, sections=("data", "model", "train"), skip=()) -> None:
    """One flag per config field; defaults are left unset so presets and model defaults apply."""
    for section in sections:
        group = p.add_argument_group(f"{section} options")
        for f in fields(SECTIONS[section]):
            if f.name in skip:
                continue
            m, kind = f.metadata, field_type(f)
            dest = f"{section}.{f.name}"
            if kind is bool:
                group.add_argument(flag(f), dest=dest, action=argparse.BooleanOptionalAction,
                                   default=None, help=m["help"])
                continue
            extra = {"choices": m["choices"]} if m.get("choices") else {}
            if f.name == "model":
                from core.models.registry import MODELS
                extra = {"choices": list(MODELS)}
            group.add_argument(flag(f), dest=dest, type=kind, default=None, metavar=f.name.upper()
                               if not extra else None, help=m["help"], **extra)


def config_from_args(args, base=None):
    """Preset (or ``base``), then the model's defaults, then the flags the user gave."""
    from core import presets

    explicit = {k: v for k, v in vars(args).items() if "." in k and v is not None}
    model = explicit.get("model.model")
    cfg = base.copy() if base is not None else presets.config_for(getattr(args, "preset", None), model)
    values: dict = {}
    for key, v in explicit.items():
        section, name = key.split(".")
        values.setdefault(section, {})[name] = v
    return presets.apply(cfg, values)


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint-dir", default=None,
                   help="folder of checkpoints (default ./checkpoints or $SEQLM_CHECKPOINT_DIR)")


def add_sampling(p: argparse.ArgumentParser, length: int) -> None:
    p.add_argument("--checkpoint", required=True, help="checkpoint file to load")
    p.add_argument("--greedy", action="store_true", help="always take the most likely token")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=0, help="sample among the k most likely tokens (0: all)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--length", type=int, default=length, help="at most this many tokens")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))


def build_parser() -> argparse.ArgumentParser:
    from core.presets import PRESETS

    p = argparse.ArgumentParser(prog="seqlm-tui", description="A terminal playground for small sequence "
                                "language models. With no command, opens the app.")
    p.add_argument("--version", action="version", version=f"seqlm-tui {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    preset_help = "start from a named recipe: " + "; ".join(f"{k} ({v[0]})" for k, v in PRESETS.items())

    t = sub.add_parser("train", help="train a model headless", description="Train a model headless.")
    t.add_argument("--preset", choices=list(PRESETS), help=preset_help)
    add_config_flags(t)
    t.add_argument("--save", help="checkpoint file to write (default: a new file in the checkpoint folder)")
    t.add_argument("--no-save", action="store_true", help="do not write a checkpoint")
    t.add_argument("--resume", help="checkpoint to continue training from")
    t.add_argument("--json", action="store_true", help="print the result as one JSON object")
    t.add_argument("--quiet", action="store_true", help="no evaluation lines or samples")
    add_common(t)

    s = sub.add_parser("sweep", help="learning-rate range test", description="Learning-rate range test: "
                       "one minibatch per rate on an exponential grid, on a fresh copy of the model.")
    s.add_argument("--preset", choices=list(PRESETS), help=preset_help)
    add_config_flags(s, skip=TRAIN_ONLY | {"lr"})
    s.add_argument("--lr-min", type=float, default=1e-3)
    s.add_argument("--lr-max", type=float, default=1.0)
    s.add_argument("--steps", type=int, default=1000, help="learning rates to try")
    s.add_argument("--json", action="store_true")
    add_common(s)

    g = sub.add_parser("generate", help="stream a continuation of a prompt",
                       description="Stream a continuation of a prompt, one token at a time.")
    add_sampling(g, 100)
    g.add_argument("--prompt", default="", help="text to continue (numbers separated by spaces for counting)")

    sa = sub.add_parser("sample", help="draw whole items (names) from a checkpoint")
    add_sampling(sa, 60)
    sa.add_argument("--num", type=int, default=20)

    e = sub.add_parser("eval", help="loss and perplexity of a checkpoint on a split")
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--split", default="dev", choices=("train", "dev", "test"))
    e.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    e.add_argument("--json", action="store_true")
    i = sub.add_parser("inspect", help="look inside a checkpoint: embedding map, bigram table",
                       description="Draw a checkpoint's character embedding (the raw 2-D one, or a PCA "
                       "projection) and, for bigram models, its table of next-character probabilities. "
                       "With no choice, shows what the model has.")
    i.add_argument("--checkpoint", required=True, help="checkpoint file to load")
    i.add_argument("--embeddings", action="store_true", help="the character embedding as a labelled scatter")
    i.add_argument("--bigram", action="store_true", help="the bigram table as a shaded grid")
    i.add_argument("--row", metavar="CH", help="one row of the bigram table, most likely next character first "
                   "(a space may be given as '␣', a newline as '\\n')")
    i.add_argument("--json", action="store_true", help="print the data as one JSON object")
    c = sub.add_parser("compare", help="train one setup at several learning rates and overlay the dev curves",
                       description="Train the same setup from the same seed once per learning rate (same "
                       "initial weights, same minibatches) and overlay the dev-loss curves.")
    c.add_argument("--preset", choices=list(PRESETS), help=preset_help)
    add_config_flags(c, skip={"lr", "steps", "epochs", "eval_every"})
    c.add_argument("--lrs", default="0.01,0.1,1", help="learning rates, separated by commas (default 0.01,0.1,1)")
    c.add_argument("--steps", type=int, default=1000, help="training steps per rate (default 1000)")
    c.add_argument("--json", action="store_true", help="print the curves as one JSON object")

    m = sub.add_parser("memory", help="the memory task: Elman RNN vs LSTM, recall accuracy against length",
                       description="Train each model on the memory task (recall the first symbol of a "
                       "random sequence) at each length, same seed and steps, and print the test accuracy.")
    m.add_argument("--models", default="elman,lstm", help="models, separated by commas (default elman,lstm)")
    m.add_argument("--lengths", default="5,10,20,40", help="sequence lengths (default 5,10,20,40)")
    m.add_argument("--steps", type=int, default=None, help="training steps per run (default 1000)")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--hidden", type=int, default=None, help="hidden size (default 64)")
    m.add_argument("--lr", type=float, default=None, help="Adam learning rate (default 0.003)")
    m.add_argument("--batch-size", type=int, default=None, help="sequences per minibatch (default 64)")
    m.add_argument("--json", action="store_true", help="print the results as one JSON object")

    b = sub.add_parser("bench", help="the performance suite (ratios measured side by side)")
    b.add_argument("--quick", action="store_true", help="smaller runs (under two minutes)")
    b.add_argument("--json", action="store_true")
    b.add_argument("--only", nargs="+", metavar="ITEM", help="run only these items")
    return p


# -- rendering ----------------------------------------------------------------------------------


def fmt_time(s: float) -> str:
    if not math.isfinite(s):
        return "?"
    s = int(s)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal, redrawn at most 10 times a second."""

    def __init__(self, enabled: bool):
        self.enabled, self.last, self.shown = enabled, 0.0, False

    def update(self, e, force=False) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.1 and not force):
            return
        self.last = now
        frac = e.step / e.total
        bar = "#" * int(frac * 24)
        sys.stderr.write(f"\r[{bar:<24}] {e.step}/{e.total} loss {e.smooth:.4f} "
                         f"{e.tokens_per_s:,.0f} tok/s ETA {fmt_time(e.eta)}  ")
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self.shown = False


def out(text: str = "") -> None:
    print(text, flush=True)


# -- commands -----------------------------------------------------------------------------------


def default_save_path(run, folder) -> Path:
    from core import checkpoint

    base = Path(folder) if folder else checkpoint.default_dir()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = base / f"{run.name}-{stamp}.pt"
    n = 1
    while path.exists():
        n += 1
        path = base / f"{run.name}-{stamp}-{n}.pt"
    return path


def cmd_train(args) -> int:
    from core import checkpoint
    from core import events as ev
    from core.run import new_run
    from core.textsafe import printable
    from core.train import Trainer

    if args.resume:
        run = checkpoint.load(args.resume, device=getattr(args, "train.device") or "auto")
        run.cfg = config_from_args(args, base=run.cfg)
        from core.config import validate
        validate(run.cfg)
    else:
        run = new_run(config_from_args(args))
    human = not args.json
    progress = Progress(sys.stderr.isatty())
    trainer = Trainer(run, sample_count=0 if args.quiet or args.json else 3)
    result, failed = None, None
    try:
        for e in trainer.events():
            if isinstance(e, ev.Step):
                progress.update(e, force=e.step == e.total)
            elif isinstance(e, ev.Started) and human:
                out(f"training {e.model} ({e.params:,} parameters) on {e.dataset}, {e.total_steps:,} steps, "
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
                failed = e.message
    except KeyboardInterrupt:
        progress.clear()
        print("seqlm-tui: interrupted; no checkpoint written.", file=sys.stderr)
        return 130
    progress.clear()
    if failed:
        raise SeqlmError(failed)
    path, save_error = None, None
    if not args.no_save:
        target = Path(args.save) if args.save else default_save_path(run, args.checkpoint_dir)
        path, save_error = save_or_rescue(run, target)
    result = dict(result or {}, checkpoint=str(path) if path else None)
    if args.json:
        out(json.dumps(result))
    else:
        dev, train = result.get("dev_loss"), result.get("train_loss")
        out(f"done: {result['steps']:,} steps"
            + (f", train loss {train:.4f}" if train is not None else "")
            + (f", dev loss {dev:.4f}, perplexity {result['dev_ppl']:.3f}" if dev is not None else "")
            + f", {result['tokens_per_s']:,.0f} tokens/s, {result['elapsed_s']:.1f} s")
        if path:
            out(f"saved {path}")
    if save_error:
        print(f"seqlm-tui: {save_error}", file=sys.stderr)
        return 1
    return 0


def save_or_rescue(run, target: Path) -> tuple[Path | None, str | None]:
    """Save the trained run; if the named place fails (read-only, full, not a folder), keep the run in the
    checkpoint folder instead, so minutes of training are not lost to a typo. Returns (path, error)."""
    from core import checkpoint

    try:
        return checkpoint.save(run, target), None
    except SeqlmError as err:
        first = str(err).rstrip(".")
    rescue = default_save_path(run, None)
    if rescue.resolve().parent == target.expanduser().resolve().parent:
        return None, f"{first}."
    try:
        path = checkpoint.save(run, rescue)
    except SeqlmError:
        return None, f"{first}."
    return path, f"{first}; the run was saved to {path} instead."


def cmd_sweep(args) -> int:
    from core import events as ev
    from core.run import new_run
    from core.sweep import Sweep, SweepConfig

    scfg = SweepConfig(args.lr_min, args.lr_max, args.steps)
    scfg.check()
    run = new_run(config_from_args(args))
    done = None
    for e in Sweep(run, scfg).events():
        if isinstance(e, ev.Error):
            raise SeqlmError(e.message)
        if isinstance(e, ev.SweepPoint) and sys.stderr.isatty() and (e.index % 20 == 0 or e.index == e.total):
            sys.stderr.write(f"\rsweep {e.index}/{e.total} lr {e.lr:.2e} loss {e.smooth:.4f}   ")
            sys.stderr.flush()
        if isinstance(e, ev.SweepDone):
            done = e
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
    if args.json:
        out(json.dumps({"lrs": done.lrs, "losses": done.losses, "smoothed": done.smoothed,
                        "suggested_lr": done.suggested_lr, "stopped": done.reason}))
        return 0
    import plotext as plt

    xs = [math.log10(v) for v in done.lrs]
    plt.clear_figure()
    plt.plot(xs, done.losses, label="loss", marker="dot")
    plt.plot(xs, done.smoothed, label="smoothed")
    if done.suggested_lr:
        plt.vline(math.log10(done.suggested_lr), "red")
    plt.title(f"learning-rate range test: {run.cfg.model.model} on {run.cfg.data.dataset}")
    plt.xlabel("log10 learning rate")
    plt.plotsize(min(100, plt.terminal_width() or 80), 22)
    chart = plt.build()
    out(chart if sys.stdout.isatty() else plt.uncolorize(chart))  # no colour codes in a pipe or a file
    stop = {"diverged": "stopped early: the loss diverged", "done": "tried every rate"}.get(done.reason, done.reason)
    out(f"{stop}; {len(done.lrs)} rates")
    if done.suggested_lr:
        out(f"suggested learning rate: {done.suggested_lr:.3g} (steepest descent of the smoothed loss)")
    else:
        out("no suggestion: the curve is too short or never falls.")
    return 0


def _generator(args):
    from core import checkpoint
    from core.generate import Generator, Sampling

    run = checkpoint.load(args.checkpoint, device=args.device)
    sampling = Sampling(args.temperature, args.top_k, args.greedy)
    sampling.check()
    if args.length < 1:
        raise SeqlmError(f"length must be at least 1, not {args.length}.")
    return run, Generator(run.model, run.vocab, sampling, seed=args.seed)


def cmd_generate(args) -> int:
    from core.generate import render
    from core.textsafe import printable

    run, g = _generator(args)
    g.feed(args.prompt)
    first = True
    try:
        for i in g.stream(args.length):
            if i == run.vocab.boundary:
                break
            sys.stdout.write(printable(render(run.vocab, [i], first)))
            sys.stdout.flush()
            first = False
    except KeyboardInterrupt:
        print("\nseqlm-tui: interrupted.", file=sys.stderr)
        return 130
    sys.stdout.write("\n")
    return 0


def cmd_sample(args) -> int:
    from core.generate import render
    from core.textsafe import printable

    run, g = _generator(args)
    if args.num < 1:
        raise SeqlmError(f"num must be at least 1, not {args.num}.")
    shown = 0
    for _ in range(10 * args.num):  # an item that ends at once is drawn again
        if shown == args.num:
            break
        g.reset()  # each item is drawn from a fresh state, as the model was trained
        if run.vocab.boundary is None:
            g.feed(run.vocab.tokens[1] if run.vocab.kind == "chars" else "0")
        ids = [i for i in g.stream(args.length) if i != run.vocab.boundary]
        if ids:
            out(printable(render(run.vocab, ids)))
            shown += 1
    return 0


def cmd_eval(args) -> int:
    import math as m

    from core import checkpoint
    from core.batches import make_batcher
    from core.train import evaluate

    run = checkpoint.load(args.checkpoint, device=args.device)
    ds = run.ensure_dataset()
    model = run.model
    b = make_batcher(ds, args.split, model.batch_kind, model.context, 1, run.cfg.data.num_steps,
                     "sequential", None, str(model.device))
    loss, n = evaluate(model, b.eval_batches(0))
    res = {"split": args.split, "loss": loss, "perplexity": m.exp(min(loss, 50)), "targets": n,
           "step": run.step}
    if args.json:
        out(json.dumps(res))
    else:
        out(f"{args.split}: loss {loss:.4f}, perplexity {res['perplexity']:.3f} on {n:,} targets "
            f"({run.cfg.model.model} on {run.cfg.data.dataset}, step {run.step:,})")
    return 0


SHADES = " ░▒▓█"


def shade_grid(table) -> list[str]:
    """The bigram table as text: row = current character, column = next; two cells per entry, darker is
    likelier (square-root scale, so the rare pairs still show)."""
    labels, probs = table.labels, table.probs.tolist()
    w = max(2, max(len(lab) for lab in labels))
    top = max(max(row) for row in probs) or 1.0

    def cell(p: float) -> str:
        level = 0 if p <= 0 else min(4, max(1, round((p / top) ** 0.5 * 4)))
        return SHADES[level] * w

    lines = [" " * (w + 1) + "".join(f"{lab:<{w}}" for lab in labels)]
    lines += [f"{lab:>{w}} " + "".join(cell(p) for p in row) for lab, row in zip(labels, probs)]
    edges = [top * (k / 4) ** 2 for k in (0.5, 1.5, 2.5, 3.5)]  # where round() moves to the next shade
    lines.append(f"rows: current character, columns: next; {SHADES[1]} < {edges[1]:.2g} <= {SHADES[2]} < "
                 f"{edges[2]:.2g} <= {SHADES[3]} < {edges[3]:.2g} <= {SHADES[4]} (max {top:.2f})")
    return lines


def row_bars(table, token: str, width: int = 40, limit: int = 40) -> list[str]:
    """One row of the table as a sorted bar list (the first ``limit`` entries)."""
    row = table.row(token)
    counts = table.counts[table.index(token)] if table.counts is not None else None
    top = row[0][1] or 1.0
    w = max(len(lab) for lab, _ in row)
    lines = []
    for lab, p in row[:limit]:
        n = f"  {int(counts[table.labels.index(lab)]):,}" if counts is not None else ""
        lines.append(f"{lab:>{w}} {'█' * max(1 if p > 0 else 0, round(p / top * width)):<{width}} {p:.3f}{n}")
    if len(row) > limit:
        lines.append(f"... and {len(row) - limit} more, together {sum(p for _, p in row[limit:]):.3f}")
    return lines


def draw_embedding(emap, title: str) -> None:
    import plotext as plt

    plt.clear_figure()
    plt.scatter(emap.x, emap.y, marker="dot", color="gray")
    for label, x, y in zip(emap.labels, emap.x, emap.y):  # the label is the point
        plt.text(label, x, y, color="blue", alignment="left")
    plt.title(title)
    plt.plotsize(min(100, plt.terminal_width() or 80), 30)
    chart = plt.build()
    # clear_color() leaves the labels' explicit colours in: strip the codes for a pipe or a file
    out(chart if sys.stdout.isatty() else plt.uncolorize(chart))


def cmd_inspect(args) -> int:
    from core import checkpoint, insight

    run = checkpoint.load(args.checkpoint, device="cpu")
    model, vocab = run.model, run.vocab
    title = insight.model_title(model)
    want_table = args.bigram or args.row is not None
    want_emb = args.embeddings
    if not want_emb and not want_table:
        want_emb = insight.has_embedding(model)
        want_table = insight.has_bigram_table(model)
        if not want_emb and not want_table:
            raise SeqlmError(f"{title} has neither a character embedding (one-hot input has none) nor a "
                             "bigram table to show.")
    emap = insight.embedding_map(model, vocab) if want_emb else None
    table = insight.bigram_table(model, vocab) if want_table else None
    row = table.row(args.row) if table is not None and args.row is not None else None
    where = f"{run.cfg.model.model} on {run.cfg.data.dataset}, step {run.step:,}"
    if args.json:
        data: dict = {"model": run.cfg.model.model, "dataset": run.cfg.data.dataset, "step": run.step}
        if emap is not None:
            data["embedding"] = {"method": emap.method, "labels": emap.labels, "x": emap.x, "y": emap.y}
        if table is not None:
            data["bigram"] = {"labels": table.labels, "probs": table.probs.tolist(),
                              "counts": None if table.counts is None else table.counts.long().tolist()}
        if row is not None:
            data["row"] = {"token": table.labels[table.index(args.row)], "next": [list(kv) for kv in row]}
        out(json.dumps(data))
        return 0
    if emap is not None:
        draw_embedding(emap, f"character embedding: {where}")
        out(f"{len(emap.labels)} characters; {emap.method}. Characters the model treats alike lie close together.")
    if table is not None and row is None:
        kind = "counts with add-k smoothing" if table.counts is not None else "softmax of the learned logits"
        out(f"bigram table of {where} ({kind}):")
        for line in shade_grid(table):
            out(line)
    if row is not None:
        label = table.labels[table.index(args.row)]
        out(f"after {label!r} ({where}):")
        for line in row_bars(table, args.row):
            out(line)
    return 0


def split_list(text: str, kind: type, what: str) -> list:
    """``"5,10 20"`` -> [5, 10, 20]; one sentence if a word is not a ``kind``."""
    words = text.replace(",", " ").split()
    if not words:
        raise SeqlmError(f"give at least one of the {what}.")
    try:
        return [kind(w) for w in words]
    except ValueError:
        bad = next(w for w in words if not _parses(kind, w))
        raise SeqlmError(f"{what} must be {'whole numbers' if kind is int else 'numbers' if kind is float else 'names'}"
                         f" separated by commas, not {bad[:20]!r}.") from None


def _parses(kind: type, word: str) -> bool:
    try:
        kind(word)
    except ValueError:
        return False
    return True


def cmd_compare(args) -> int:
    from core.compare import check_rates, lr_comparison

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
    import plotext as plt

    plt.clear_figure()
    # A diverged rate's losses would squash the curves worth comparing into one line: the y range is that of
    # the rates that finished, and a diverged curve shows only the points inside it (the text lists them all).
    top = max(v for c in done for _, v in c.dev) * 1.05 if done else math.inf
    for c in curves:
        pts = [(s, v) for s, v in c.dev if v <= top]
        if pts:
            tag = "" if c.status == "done" else f" ({c.status})"
            plt.plot([s for s, _ in pts], [v for _, v in pts], label=f"lr {c.lr:g}{tag}", marker="dot")
    if done:
        plt.ylim(min(v for c in done for _, v in c.dev) * 0.95, top)
    plt.title(f"dev loss at each learning rate: {cfg.model.model} on {cfg.data.dataset}")
    plt.xlabel("step")
    plt.plotsize(min(100, plt.terminal_width() or 80), 22)
    chart = plt.build()
    out(chart if sys.stdout.isatty() else plt.uncolorize(chart))
    if best:
        out(f"lowest final dev loss: lr {best.lr:g} ({best.final_dev:.4f})")
    else:
        out("every rate diverged; try lower ones.")
    return 0


def cmd_memory(args) -> int:
    from core.memory import DEFAULT_STEPS, chance, compare_memory

    models = list(dict.fromkeys(split_list(args.models, str, "models")))
    lengths = split_list(args.lengths, int, "lengths")
    overrides = {k: v for k, v in (("hidden", args.hidden), ("lr", args.lr), ("batch_size", args.batch_size))
                 if v is not None}
    steps = args.steps if args.steps is not None else DEFAULT_STEPS
    results = []
    runs = compare_memory(models, lengths, steps, seed=args.seed, **overrides)  # checks every setting first
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


def cmd_bench(args) -> int:
    from core.bench.suite import ITEMS, fmt_value, run_all

    if args.only and set(args.only) - set(ITEMS):
        raise SeqlmError(f"unknown bench item(s) {', '.join(sorted(set(args.only) - set(ITEMS)))}; "
                         f"choose from {', '.join(ITEMS)}.")

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


COMMANDS = {"bench": cmd_bench, "train": cmd_train, "sweep": cmd_sweep, "generate": cmd_generate, "sample": cmd_sample,
            "eval": cmd_eval, "inspect": cmd_inspect, "compare": cmd_compare, "memory": cmd_memory}


def main(argv: list[str] | None = None) -> int:
    try:
        # Inside the try: building the parser imports torch (a second or two), and Ctrl+C then is common.
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            from tui.app import run_app

            return run_app()
        return COMMANDS[args.command](args) or 0
    except SeqlmError as err:
        print(f"seqlm-tui: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("seqlm-tui: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): what it wanted was printed. Point stdout at nothing so the
        # interpreter's final flush does not fail a second time.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
