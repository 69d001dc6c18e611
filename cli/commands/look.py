"""``seqlm-tui inspect --neurons`` and ``--attention``: a text run through a checkpoint, each character
coloured by one hidden unit, or the Transformer's attention over it as a grid."""

from __future__ import annotations

import json

from seqlm_tui.cli import looks
from seqlm_tui.cli.output import out, prose, width
from seqlm_tui.core import features
from seqlm_tui.core.attention import check_head, read_attention
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.neurons import pick_group, read_neurons

RANKED = 10  # units listed by --find


def run(args, run_, view: str) -> int:
    return neurons(args, run_) if view == "neurons" else attention(args, run_)


def _where(run_) -> str:
    return f"{run_.cfg.model.model} on {run_.cfg.data.dataset}, step {run_.step:,}"


def _rounded(rows) -> list:
    return [[round(v, 5) for v in row] for row in rows]


def neurons(args, run_) -> int:
    reading = read_neurons(run_.model, run_.vocab, args.prompt)
    group = pick_group(reading, args.cell, args.layer)
    g = reading.group(group)
    table = features.score_table(reading)
    ranking, note = None, ""
    if args.find is not None:
        ranking = features.rank(reading, group, args.find, table)
        unit = ranking[0][0]
    elif args.unit is not None:
        unit = args.unit
        if not 0 <= unit < g.size:
            raise SeqlmError(f"the {reading.title}'s {g.name} has {g.size} units, 0 to {g.size - 1}; there is no "
                             f"unit {unit}.")
    else:
        name, unit, r = features.strongest(table, group) or (None, 0, 0.0)
        note = (f"Unit {unit} is the one that follows a feature best: '{name}' (r = {r:+.2f}); --unit N or "
                "--find FEATURE picks another." if name else
                "No feature varies over this text, so unit 0 is drawn; --unit N picks another.")
    scores = features.unit_scores(reading, group, unit, table)
    if args.json:
        data = {"model": run_.cfg.model.model, "dataset": run_.cfg.data.dataset, "step": run_.step,
                "labels": reading.labels, "group": g.name, "unit": unit,
                "groups": [{"name": x.name, "kind": x.kind, "layer": x.layer + 1, "units": x.size,
                            "activations": _rounded(x.values.tolist())} for x in reading.groups],
                "scores": {name: round(r, 5) for name, r in scores},
                "features": {name: (None if rs[group] is None else _rounded([rs[group].tolist()])[0])
                             for name, rs in table.items()}}
        if ranking is not None:
            data["find"] = {"feature": args.find, "ranking": [[u, round(r, 5)] for u, r in ranking]}
        if args.guesses:
            data["guesses"] = [[[lab, round(p, 5)] for lab, p in row] for row in reading.guesses]
        out(json.dumps(data, ensure_ascii=False))
        return 0
    how, total = looks.mode(), width(160)
    prose(f"{reading.title} {g.name}, unit {unit} of {g.size} ({_where(run_)}), over {len(reading):,} characters:")
    if ranking is not None:
        f = features.get(args.find)
        prose(f"Units ranked by how strongly they follow '{f.name}' ({f.about}); r is Pearson's correlation "
              "over the text:")
        cells = [f"{k + 1:>2}. unit {u:<4} r {r:+.2f}" for k, (u, r) in enumerate(ranking[:RANKED])]
        per = max(1, total // 24)
        for i in range(0, len(cells), per):
            out("  ".join(cells[i:i + per]))
    elif note:
        prose(note)
    if scores:
        prose(f"Unit {unit} follows: " + ", ".join(f"{name} {r:+.2f}" for name, r in scores) + ".")
    for line in looks.neuron_lines(reading, group, unit, total, how, args.guesses):
        out(line)
    prose(looks.neuron_legend(reading, group, unit, how)
          + (". Under each character, the five likeliest next ones, likeliest first." if args.guesses else "."))
    return 0


def attention(args, run_) -> int:
    reading = read_attention(run_.model, run_.vocab, args.prompt)
    layer, head = check_head(reading, args.layer, args.head)
    reach = [[round(reading.reach(k, h), 3) for h in range(reading.heads)] for k in range(reading.layers)]
    if args.json:
        out(json.dumps({"model": run_.cfg.model.model, "dataset": run_.cfg.data.dataset, "step": run_.step,
                        "labels": reading.labels, "window": reading.window, "layers": reading.layers,
                        "heads": reading.heads, "layer": layer + 1, "head": head + 1, "reach": reach,
                        "weights": [[_rounded(reading.weights[k, h].tolist()) for h in range(reading.heads)]
                                    for k in range(reading.layers)]}, ensure_ascii=False))
        return 0
    how, total = looks.mode(), width(200)
    prose(f"{reading.title} attention ({_where(run_)}), {len(reading):,} characters, window "
          f"{reading.window}, {reading.layers} layers x {reading.heads} heads:")
    for line in looks.attention_lines(reading, layer, head, total, how):
        out(line)
    shown, _ = looks.attention_layout(reading, total, how)
    if shown < len(reading):
        prose(f"Showing the last {shown} of {len(reading)} characters to fit {total} columns; --json has them all.")
    prose(looks.attention_legend(reading, how))
    prose(f"How far back each head of layer {layer + 1} looks, on average: "
          + ", ".join(f"head {h + 1} {d:.1f}" for h, d in enumerate(reach[layer])) + " characters.")
    return 0
