"""The lessons' checks: small named functions of what the front end shows (core/lesson_facts.py).

A lesson step names its check and gives its arguments (lessons/*.toml); ``CHECKS`` maps the names to the
functions. Each returns a ``Verdict``: passed or not, and one short line of what it sees (the numbers the
learner compares with the reference, or what is still missing). A check must fail before the learner acts:
most look only at records made since the step began (``Facts.new``).

``config`` arguments are flat tables of settings that a run must have (``{model = "elman", clip = 0}``);
the names are the configuration's field names, unique across its sections.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields

from seqlm_tui.core.config import SECTIONS, RunConfig
from seqlm_tui.core.lesson_facts import Facts, Training


@dataclass
class Verdict:
    passed: bool
    said: str


CHECKS: dict[str, Callable[..., Verdict]] = {}


def check(fn: Callable[..., Verdict]) -> Callable[..., Verdict]:
    CHECKS[fn.__name__] = fn
    return fn


FIELDS = {f.name: section for section, kind in SECTIONS.items() for f in fields(kind)}


def setting(cfg: RunConfig, name: str):
    return getattr(getattr(cfg, FIELDS[name]), name)


def matches(cfg: RunConfig | None, config: dict) -> bool:
    return cfg is not None and all(setting(cfg, k) == v for k, v in config.items())


def describe(config: dict) -> str:
    def value(v) -> str:
        return ("on" if v else "off") if isinstance(v, bool) else f"{v:g}" if isinstance(v, float) else str(v)

    return ", ".join(f"{k.replace('_', ' ')} {value(v)}" for k, v in config.items()) or "a model"


def _num(v: float | None, spec: str = ".3f") -> str:
    return "-" if v is None or not math.isfinite(v) else format(v, spec)


def _ppl(loss: float | None) -> str:
    ppl = math.exp(min(loss, 50)) if loss is not None else None
    return _num(ppl, ".2f" if ppl is not None and ppl < 1000 else ".2g")


def _latest(facts: Facts, config: dict, diverged: bool | None = False) -> Training | None:
    found = [t for t in facts.new(facts.trainings) if matches(t.cfg, config)
             and (diverged is None or t.diverged == diverged)]
    return found[-1] if found else None


def _not_yet(facts: Facts, what: str) -> Verdict:
    return Verdict(False, "training..." if facts.training else f"not yet: {what}")


@check
def trained(facts: Facts, config: dict | None = None, min_steps: int = 1, max_dev: float | None = None,
            max_train: float | None = None, max_last: float | None = None, min_first: float | None = None,
            max_first: float | None = None, speed: bool = False) -> Verdict:
    """A training of this setup ended during the step, long enough and to these losses (``speed``: say its
    tokens per second too)."""
    config = config or {}
    t = _latest(facts, config)
    if t is None:
        return _not_yet(facts, f"s on the Train pane trains it ({describe(config)})")
    parts = [f"{t.step:,} steps"]
    if min_first is not None or max_first is not None:
        parts.append(f"first loss {_num(t.first_loss, '.2f')}")
    if max_last is not None:
        parts.append(f"last batch {_num(t.last_loss)}")
    parts.append(f"train {_num(t.train_loss)}")
    parts.append(f"dev {_num(t.dev_loss)} (ppl {_ppl(t.dev_loss)})")
    if speed:
        parts.append(f"{t.tokens_per_s or 0:,.0f} tok/s")
    needs = []
    if t.step < min_steps:
        needs.append(f"at least {min_steps:,} steps")
    for value, bound, name, below in ((t.dev_loss, max_dev, "dev", True), (t.train_loss, max_train, "train", True),
                                      (t.last_loss, max_last, "last batch", True),
                                      (t.first_loss, min_first, "first loss", False),
                                      (t.first_loss, max_first, "first loss", True)):
        if bound is None:
            continue
        ok = value is not None and math.isfinite(value) and (value < bound if below else value > bound)
        if not ok:
            needs.append(f"{name} {'<' if below else '>'} {bound:g}")
    said = ", ".join(parts)
    return Verdict(not needs, said if not needs else f"{said}; needs {', '.join(needs)}")


@check
def diverged(facts: Facts, config: dict | None = None) -> Verdict:
    """A training of this setup blew up during the step, and the trainer caught it."""
    config = config or {}
    t = _latest(facts, config, diverged=True)
    if t is None:
        ended = _latest(facts, config)
        if ended is not None:
            return Verdict(False, f"it trained {ended.step:,} steps without diverging (dev {_num(ended.dev_loss)})")
        return _not_yet(facts, f"train {describe(config)} until it diverges")
    return Verdict(True, f"caught at step {t.step + 1:,}: {t.error or 'diverged'}")


@check
def trained_each(facts: Facts, models: list, config: dict | None = None, min_steps: int = 1) -> Verdict:
    """Each of ``models`` trained on this setup during the step; their speeds side by side."""
    config = config or {}
    got = {m: _latest(facts, {**config, "model": m}) for m in models[-1:]}
    for m in models[:-1]:  # trained in an earlier step of the lesson will do: the last is this step's
        earlier = [t for t in facts.trainings if matches(t.cfg, {**config, "model": m}) and not t.diverged]
        got[m] = earlier[-1] if earlier else None
    got = {m: got[m] for m in models if got[m] is not None and got[m].step >= min_steps}
    said = " · ".join(f"{m} {t.tokens_per_s or 0:,.0f} tok/s, dev {_num(t.dev_loss)}" for m, t in got.items())
    missing = [m for m in models if m not in got]
    if missing:
        return Verdict(False, (said + "; " if said else "") + f"not yet: train {', '.join(missing)}"
                       + (" (training...)" if facts.training else ""))
    first, last = got[models[0]], got[models[-1]]
    if first.tokens_per_s and last.tokens_per_s:
        said += f" ({first.tokens_per_s / last.tokens_per_s:.2f}x)"
    return Verdict(True, said)


@check
def matches_counts(facts: Facts, config: dict | None = None, tolerance: float = 0.05) -> Verdict:
    """The neural bigram's dev loss within ``tolerance`` of the counting bigram's (trained any time)."""
    config = {"model": "bigram-neural", **(config or {})}
    counts = [t for t in facts.trainings if t.cfg.model.model == "bigram-counts" and not t.diverged
              and t.cfg.data.dataset == config.get("dataset", t.cfg.data.dataset)]
    t = _latest(facts, config)
    if not counts:
        return Verdict(False, "train the counting bigram first (the lesson's first step)")
    ref = counts[-1].dev_loss
    if t is None:
        return _not_yet(facts, f"train the neural bigram (counts: dev {_num(ref)})")
    said = f"neural dev {_num(t.dev_loss)} vs counts {_num(ref)}"
    ok = t.dev_loss is not None and ref is not None and abs(t.dev_loss - ref) <= tolerance
    return Verdict(ok, said if ok else f"{said}; needs within {tolerance:g}")


def _numbers(text: str) -> list[int] | None:
    try:
        return [int(w) for w in text.split()]
    except ValueError:
        return None


@check
def counts_on(facts: Facts, prompt: str | None = None, min_len: int = 1, max_len: int = 100_000,
              fresh: bool = False) -> Verdict:
    """A prompt of consecutive numbers (this one, or min_len..max_len of them) answered by the next number."""
    want = f"the prompt {prompt}" if prompt else (f"a prompt of {min_len} number" + ("s" if min_len > 1 else "")
                                                  + (" or more" if max_len > min_len else ""))
    tried = []
    for e in facts.new(facts.exchanges):
        nums = _numbers(e.prompt)
        if not e.done or not nums or (prompt and nums != _numbers(prompt)) or not min_len <= len(nums) <= max_len:
            continue
        if fresh and not e.fresh:
            tried.append(f"{e.prompt[:20]}: not after /reset")
            continue
        if any(b != a + 1 for a, b in zip(nums, nums[1:])):
            tried.append(f"{e.prompt[:20]}: not consecutive")
            continue
        answer = _numbers(e.answer) or []
        shown = f"{_short(e.prompt)} → {' '.join(map(str, answer[:3])) or '(nothing)'}"
        if answer and answer[0] == nums[-1] + 1:
            return Verdict(True, shown)
        tried.append(f"{shown}, not {nums[-1] + 1}")
    return Verdict(False, tried[-1] if tried else f"not yet: {want} in the Prompt pane"
                   + (" (after /reset)" if fresh else ""))


def _short(text: str, width: int = 24) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else "…" + text[-(width - 1):]


@check
def answered(facts: Facts, prompt: str = "", min_step: int = 0, max_step: int | None = None,
             min_count: int = 1) -> Verdict:
    """The current model, at this point of its training, answered this prompt (or, with ``prompt`` empty,
    ``min_count`` prompts of any kind: Enter on an empty line draws a whole name); the answers are shown."""
    stage = "untrained" if max_step == 0 else f"trained {min_step:,}+ steps" if min_step else "current"
    got, problem = [], ""
    for e in facts.new(facts.exchanges):
        if not e.done or not e.prompt.strip().lower().startswith(prompt.lower()):
            continue
        if e.serial != facts.serial:
            problem = "that answer came from another model; ask the current one"
        elif e.step < min_step or (max_step is not None and e.step > max_step):
            problem = f"that was the model at step {e.step:,}; ask the {stage} one"
        else:
            got.append(e)
    shown = " · ".join(f"{e.prompt.strip()}{' '.join(e.answer.split())}"[:50] for e in got[-3:])
    if len(got) >= min_count:
        return Verdict(True, shown)
    if got:
        return Verdict(False, f"{shown}; {len(got)} of {min_count} so far")
    what = f"prompt {prompt!r} to" if prompt else f"{min_count} prompts (or Enter on an empty line) for"
    return Verdict(False, problem or f"not yet: {what} the {stage} model (Prompt pane)")


@check
def recalls(facts: Facts, min_len: int = 20, correct: bool = True) -> Verdict:
    """The memory task in the Prompt pane: a sequence of at least ``min_len`` symbols and a ``?``, answered
    (correctly, unless ``correct`` is false) with the sequence's first symbol."""
    tried = ""
    for e in reversed(facts.new(facts.exchanges)):
        seq = e.prompt.strip().lstrip(".")
        if not e.done or not seq.endswith("?") or len(seq) - 1 < min_len or e.serial != facts.serial:
            continue
        got = e.answer.strip()[:1]
        said = f"{seq[:8]}…{seq[-4:]} → {got or '(nothing)'} (the first was {seq[0]})"
        if got == seq[0] or not correct:
            return Verdict(True, said)
        tried = tried or said
    return Verdict(False, tried or f"not yet: a sequence of {min_len}+ symbols and ? in the Prompt pane")


@check
def view_open(facts: Facts, view: str, config: dict | None = None, min_steps: int = 1) -> Verdict:
    """The Insight pane shows this view of the current, trained run."""
    config = config or {}
    run = facts.run
    if run is None or not matches(run.cfg, config) or run.step < min_steps:
        return _not_yet(facts, f"train {describe(config)} first")
    if facts.pane != "insight" or facts.view != view:
        return Verdict(False, f"not yet: open Insight/{view.capitalize()} (F7, then [ or ])")
    return Verdict(True, f"Insight/{view.capitalize()} of {run.cfg.model.model} at step {run.step:,}")


VOWELS = "aeiou"


@check
def vowels_grouped(facts: Facts, max_ratio: float = 0.8) -> Verdict:
    """The 2-D embedding of the current run is on screen, and its vowels lie closer to each other than the
    letters do on average (mean pairwise distance, vowels / all letters)."""
    run = facts.run
    emb = run.model.char_embedding() if run is not None else None
    if emb is None or emb.shape[1] != 2 or run.step < 1:
        return _not_yet(facts, "train a model with a 2-D embedding (emb 2)")
    if facts.pane != "insight" or facts.view != "embeddings":
        return Verdict(False, "not yet: open Insight/Embeddings (F7)")
    import torch  # here: the lesson files and the rest of this module need no torch

    tokens = run.vocab.tokens
    letters = [i for i, t in enumerate(tokens) if len(t) == 1 and t.isalpha()]
    vowels = [i for i in letters if tokens[i] in VOWELS]
    if len(vowels) < 2:
        return Verdict(False, "this vocabulary has no vowels to group")
    pts = emb.detach().float().cpu()

    def spread(ix: list[int]) -> float:
        d = torch.cdist(pts[ix], pts[ix])
        return float(d.sum() / (len(ix) * (len(ix) - 1)))

    v, a = spread(vowels), spread(letters)
    ratio = v / a if a else math.inf
    said = f"vowels {v:.2f} apart on average, all letters {a:.2f} ({ratio:.2f}x)"
    return Verdict(ratio <= max_ratio, said if ratio <= max_ratio else f"{said}; needs <= {max_ratio:g}x")


@check
def swept(facts: Facts, config: dict | None = None, low: float = 0.0, high: float = math.inf,
          min_points: int = 1) -> Verdict:
    """The learning-rate range test ran on this setup during the step; its suggestion is in [low, high]."""
    config = config or {}
    found = [s for s in facts.new(facts.sweeps) if matches(s.cfg, config)]
    if not found:
        return Verdict(False, f"not yet: w on the Sweep pane ({describe(config)})")
    s = found[-1]
    if s.points < min_points:
        return Verdict(False, f"it stopped after {s.points} rates; let it try at least {min_points}")
    if s.suggested is None:
        return Verdict(False, "no suggestion: the curve never fell")
    ok = low <= s.suggested <= high
    said = f"suggested {s.suggested:.3g} after {s.points:,} rates"
    return Verdict(ok, said if ok else f"{said}; expected {low:g}..{high:g}")


@check
def memory_compared(facts: Facts, models: list, min_length: int = 20, margin: float = 0.0) -> Verdict:
    """The memory task ran both models at a length of at least ``min_length`` during the step; at the longest
    length, the last model recalls at least ``margin`` more often than the first."""
    rows = facts.new(facts.memory)
    acc: dict[int, dict[str, float]] = {}
    for r in rows:
        acc.setdefault(r.length, {})[r.model] = r.accuracy
    both = [n for n, by in acc.items() if n >= min_length and all(m in by for m in models)]
    if not both:
        return Verdict(False, "running..." if rows else f"not yet: m on Insight/Memory, lengths up to "
                       f"{min_length} or more")
    n = max(both)
    by = acc[n]
    said = f"length {n}: " + ", ".join(f"{m} {by[m]:.0%}" for m in models)
    ok = by[models[-1]] - by[models[0]] >= margin
    return Verdict(ok, said if ok else f"{said}; expected {models[-1]} ahead by {margin:.0%}")


@check
def result(facts: Facts, name: str, below: dict | None = None) -> Verdict:
    """A lesson experiment (t) ran on the current run during the step; each value named in ``below`` is
    under its bound."""
    found = [r for r in facts.new(facts.results) if r.name == name and r.serial == facts.serial]
    if not found:
        return Verdict(False, "not yet: press t to run it on the current model")
    r = found[-1]
    said = r.values.get("said", "")
    bad = [f"{k} < {b:g}" for k, b in (below or {}).items() if not r.values.get(k, math.inf) < b]
    return Verdict(not bad, said if not bad else f"{said}; needs {', '.join(bad)}")


@check
def view_shows(facts: Facts, view: str, equals: dict | None = None, at_least: dict | None = None) -> Verdict:
    """The Insight view ``view`` is open and says of itself (``Facts.view_facts``) these values. For views
    that report what they show: a unit chosen, its feature and score, a layer and head."""
    if facts.pane != "insight" or facts.view != view:
        return Verdict(False, f"not yet: open Insight/{view.capitalize()} (F7, then [ or ])")
    said = facts.view_facts.get("said") or ", ".join(f"{k} {v}" for k, v in facts.view_facts.items())
    for k, v in (equals or {}).items():
        if facts.view_facts.get(k) != v:
            return Verdict(False, f"{said}; needs {k} {v}" if said else f"not yet: {k} {v}")
    for k, v in (at_least or {}).items():
        got = facts.view_facts.get(k)
        if not isinstance(got, (int, float)) or got < v:
            return Verdict(False, f"{said}; needs {k} >= {v:g}" if said else f"not yet: {k} >= {v:g}")
    return Verdict(True, said or f"Insight/{view.capitalize()}")


# The checks of what the Neurons and Attention views showed (lesson 7) live in their own module; importing it
# here registers them in CHECKS with the others.
from seqlm_tui.core import lesson_looks  # noqa: E402, F401
