"""``seqlm-tui inspect``: a checkpoint's embedding map and bigram table, drawn in the terminal; its neurons
and attention over a text (``cli.commands.look``)."""

from __future__ import annotations

import json

from seqlm_tui.cli import draw
from seqlm_tui.cli.commands import look
from seqlm_tui.cli.errors import UsageError
from seqlm_tui.cli.output import out, prose
from seqlm_tui.core import checkpoint, insight
from seqlm_tui.core.equivalence import elman_vs_torch
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.rules import LOOK_OPTIONS, inspect_unused

OPTIONS = ("embeddings", "bigram", "row", *LOOK_OPTIONS)


def typed(args) -> list[str]:
    """The options given on the command line (a flag set, or a value given)."""
    return [o for o in OPTIONS if getattr(args, o) not in (None, False)]


def refuse_unused(args, view: str, model: str = "") -> None:
    """A flag that would change nothing is refused in one sentence (as every command does)."""
    if args.unit is not None and args.find is not None:
        raise UsageError("give --unit or --find, not both.")
    for option in typed(args):
        reason = inspect_unused(model, view, option)
        if reason:
            raise UsageError(f"--{option} {reason}.")


def run(args) -> int:
    if args.neurons and args.attention:
        raise UsageError("give --neurons or --attention, not both: inspect draws one picture at a time.")
    view = "neurons" if args.neurons else "attention" if args.attention else ""
    refuse_unused(args, view)
    if view and args.prompt is None:
        raise UsageError(f"--{view} needs --prompt TEXT, the text to run through the model.")
    run_ = checkpoint.load(args.checkpoint, device="cpu")
    if args.against_torch:
        if view or typed(args):
            raise UsageError("--against-torch compares the model with torch.nn.RNN on its own: give it without "
                             "a picture's flags.")
        return against_torch(run_, args)
    refuse_unused(args, view, run_.cfg.model.model)
    if view:
        return look.run(args, run_, view)
    model, vocab = run_.model, run_.vocab
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
    where = f"{run_.cfg.model.model} on {run_.cfg.data.dataset}, step {run_.step:,}"
    if args.json:
        data: dict = {"model": run_.cfg.model.model, "dataset": run_.cfg.data.dataset, "step": run_.step}
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
        for line in draw.scatter(emap.labels, emap.x, emap.y, f"character embedding: {where}"):
            out(line)
        prose(f"{len(emap.labels)} characters; {emap.method}. Characters the model treats alike lie close together.")
    if table is not None and row is None:
        kind = "counts with add-k smoothing" if table.counts is not None else "softmax of the learned logits"
        prose(f"bigram table of {where} ({kind}):")
        for line in draw.shade_grid(table.labels, table.probs.tolist()):
            out(line)
    if row is not None:
        i = table.index(args.row)
        counts = None
        if table.counts is not None:
            counts = {lab: int(c) for lab, c in zip(table.labels, table.counts[i].tolist())}
        prose(f"after {table.labels[i]} ({where}):")
        for line in draw.bars(row, counts):
            out(line)
    return 0


def against_torch(run_, args) -> int:
    if args.embeddings or args.bigram or args.row is not None:
        raise UsageError("--against-torch is a check of its own: give it without --embeddings, --bigram or --row.")
    found = elman_vs_torch(run_)
    if args.json:
        out(json.dumps({k: v for k, v in found.items() if k != "said"}))
    else:
        prose(f"{run_.cfg.model.model} on {run_.cfg.data.dataset}, step {run_.step:,}, against torch.nn.RNN with the "
              f"same weights: {found['said']} (hidden states {found['hidden_diff']:.1e}, logits "
              f"{found['logits_diff']:.1e}).")
    return 0
