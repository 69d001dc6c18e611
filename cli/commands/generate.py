"""``seqlm-tui generate`` and ``seqlm-tui sample``: a model's text, one token at a time."""

from __future__ import annotations

import json
import sys

from seqlm_tui.cli.errors import UsageError
from seqlm_tui.cli.output import out, say
from seqlm_tui.core import checkpoint
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.generate import TINY_TEMPERATURE, Generator, Sampling, render
from seqlm_tui.core.textsafe import printable


def _generator(args):
    typed = [f for f, name in (("--temperature", "temperature"), ("--top-k", "top_k"), ("--seed", "seed"))
             if hasattr(args, name)]
    if args.greedy and typed:
        raise UsageError(f"{typed[0]} has no effect with --greedy (which always takes the most likely token).")
    if args.length < 1:
        raise SeqlmError(f"length must be at least 1, not {args.length}.")
    sampling = Sampling(getattr(args, "temperature", 1.0), getattr(args, "top_k", 0), args.greedy)
    sampling.check()
    if not args.greedy and sampling.temperature < TINY_TEMPERATURE:
        say(f"temperature {sampling.temperature:g} is too small to sample with: the most likely token is taken "
            "every time, as with --greedy.")
    run = checkpoint.load(args.checkpoint, device=args.device)
    return run, Generator(run.model, run.vocab, sampling, seed=getattr(args, "seed", None))


def generate(args) -> int:
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
    finally:
        sys.stdout.write("\n")  # the line ends even when a signal cuts the continuation short
    return 0


def sample(args) -> int:
    from seqlm_tui.core.novelty import Novelty

    run, g = _generator(args)
    if args.num < 1:
        raise SeqlmError(f"num must be at least 1, not {args.num}.")
    novelty = Novelty.for_run(run) if run.vocab.boundary is not None else None
    items = []
    for _ in range(10 * args.num):  # an item that ends at once is drawn again
        if len(items) == args.num:
            break
        g.reset()  # each item is drawn from a fresh state, as the model was trained
        if run.vocab.boundary is None:
            g.feed(run.vocab.tokens[1] if run.vocab.kind == "chars" else "0")
        ids = [i for i in g.stream(args.length) if i != run.vocab.boundary]
        if not ids:
            continue
        text = render(run.vocab, ids)
        where = novelty.where(text) if novelty is not None else None
        items.append((text, where))
        if not args.json:
            out(printable(text) + (f"  ({where})" if where and where != "new" else ""))
    if args.json:
        out(json.dumps({"samples": [{"text": t, "source": w} for t, w in items],
                        "new_share": novelty.share_new([t for t, _ in items]) if novelty else None}))
    elif novelty is not None:
        out(f"{novelty.share_new([t for t, _ in items]):.0%} new; the others are names of the training or "
            "held-out data")
    return 0
