"""The lessons' checks of what the Insight pane's Neurons and Attention views showed (lesson 7): a unit
found that follows a feature, heads looked at. Registered in ``lesson_checks.CHECKS`` like the others."""

from __future__ import annotations

from seqlm_tui.core.lesson_checks import Verdict, _not_yet, _short, check
from seqlm_tui.core.lesson_facts import Facts


def _unit(f: dict) -> str:
    first = f", {f['first']:+.2f} at step {f['first_step']:,}" if f["first_step"] < f["step"] else ""
    return f"unit {f['unit']} ({f['state']}): {f['feature']} r {f['score']:+.2f} at step {f['step']:,}{first}"


@check
def unit_found(facts: Facts, found_by: str = "find", feature: str | None = None, min_step: int = 0,
               max_step: int = 10**12, min_r: float = 0.0, min_rise: float = -1.0) -> Verdict:
    """Insight/Neurons pinned a unit during the step, found by f ("find") or a span ("span") on the model
    trained ``min_step``..``max_step`` steps, following ``feature`` with |r| >= ``min_r``, ``min_rise`` above
    its |r| at the run's first reading (a detector made by training, not by the luck of the initial weights)."""
    key = {"find": "f", "span": "a span and Enter"}.get(found_by, found_by)
    stage = "untrained" if max_step == 0 else f"trained {min_step:,}+ steps" if min_step else "current"
    tried = ""
    for f in reversed(facts.looked("neurons")):
        if f.get("found_by") != found_by or f.get("score") is None:
            continue
        needs = [need for bad, need in (
            (not min_step <= f["found_step"] <= max_step, f"{key} on the {stage} model"),
            (feature is not None and f["feature"] != feature, f"feature {feature} (t)"),
            (abs(f["score"]) < min_r, f"|r| >= {min_r:g}"),
            (abs(f["score"]) - abs(f["first"]) < min_rise, f"|r| up {min_rise:g} since step {f['first_step']:,}"))
            if bad]
        if not needs:
            return Verdict(True, _unit(f))
        tried = tried or f"{_unit(f)}; needs {', '.join(needs)}"
    feature = f", feature {feature}" if feature else ""
    return Verdict(False, tried or _not_yet(facts, f"{key} on Insight/Neurons ({stage} model{feature})").said)


@check
def heads_seen(facts: Facts, min_heads: int = 1, min_length: int = 1, max_length: int = 100_000,
               source: str = "", min_step: int = 0, min_apart: float = 0.0) -> Verdict:
    """Insight/Attention showed ``min_heads`` different heads during the step, read with the model trained
    ``min_step``+ steps on a text (from ``source``: typed, dev, prompt) of ``min_length`` to ``max_length``
    positions; one of them ``min_apart`` from its layer's average (total variation)."""
    seen, problem = {}, ""
    for f in facts.looked("attention"):
        problem = (f"that was the model at step {f['step']:,}: train it {min_step:,}+ steps" if f["step"] < min_step
                   else f"that was the {f['source']} text, not the {source} one" if source and f["source"] != source
                   else f"that text has {f['length']} characters: {min_length} to {max_length} are wanted"
                   if not min_length <= f["length"] <= max_length else "")
        if not problem:
            seen.pop((f["layer"], f["head"]), None)  # a head looked at again is the latest look
            seen[(f["layer"], f["head"])] = f
    if not seen:
        return Verdict(False, problem or _not_yet(facts, f"Insight/Attention on a {source or 'dev'} text").said)
    heads, last = list(seen.values()), list(seen.values())[-1]
    text, apart = f"{_short(last['text'], 20)} ({last['length']} chars)", max(f["apart"] for f in heads)
    back = "/".join(f"{f['reach']:.1f}" for f in heads[-6:])
    said = (f"layer {last['layer']} head {last['head']} on {text}: looks back {back} chars" if len(heads) == 1 else
            f"{len(heads)} heads on {text}: look back {back}; apart from the average up to {apart:.2f}")
    needs = [need for bad, need in ((len(heads) < min_heads, f"{min_heads} heads (. next head, l next layer)"),
                                    (apart < min_apart, f"a head {min_apart:g} apart from the average")) if bad]
    return Verdict(not needs, said if not needs else f"{said}; needs {', '.join(needs)}")
