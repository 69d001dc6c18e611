"""The benchmark items. Each returns a Row: a figure measured side by side with its reference."""

from __future__ import annotations

import copy
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import torch

from seqlm_tui.cli.bench.baselines import d2l_rnn_epoch, seed_mlp_loop
from seqlm_tui.core import events as ev
from seqlm_tui.core.batches import make_batcher
from seqlm_tui.core.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from seqlm_tui.core.generate import Generator, Sampling
from seqlm_tui.core.models import registry
from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.core.run import new_run
from seqlm_tui.core.train import Trainer


@dataclass
class Row:
    key: str
    title: str
    figure: str          # what was measured, human readable
    value: float | None  # the number compared with the goal
    goal: str
    met: bool | None
    detail: dict = field(default_factory=dict)


def _median_ratio(a: list[float], b: list[float]) -> float:
    return statistics.median(a) / statistics.median(b)


def train_steps(run, steps: int) -> tuple[float, int]:
    """Seconds the trainer takes for ``steps`` steps (set-up and the final evaluation excluded)."""
    run.cfg.train.steps = run.step + steps
    run.cfg.train.eval_every = 10 ** 8
    run.cfg.train.eval_cap = 1
    t0 = t1 = None
    for e in Trainer(run, sample_count=0).events():
        if isinstance(e, ev.Started):
            t0 = time.perf_counter()
        elif isinstance(e, ev.Step):
            t1 = time.perf_counter()
        elif isinstance(e, ev.Error):
            raise RuntimeError(e.message)
    return t1 - t0, steps


def engine_mlp(quick: bool) -> Row:
    """1. core's trainer vs the seed's hand-written loop on the seed MLP (same init, same batches)."""
    n, repeats = (300, 4) if quick else (2000, 6)
    cfg = apply(config_for("names-mlp-seed"), {"train": {"schedule": "constant"}})
    base = new_run(cfg)
    init = copy.deepcopy(base.model.state_dict())
    ds = base.dataset
    b = make_batcher(ds, "train", "window", 3, 32, gen=torch.Generator().manual_seed(cfg.train.seed))
    xs, ys = b.all()
    eng, plain = [], []

    def engine():
        run = new_run(cfg)
        run.model.load_state_dict(init)
        secs, _ = train_steps(run, n)
        eng.append(n / secs)

    def seed_loop():
        m = base.model
        m.load_state_dict(init)
        params = [t.detach().clone().requires_grad_(True) for t in
                  (m.C.weight, m.hidden.weight.t(), m.hidden.bias, m.out.weight.t(), m.out.bias)]
        t0 = time.perf_counter()
        seed_mlp_loop(params, xs, ys, n, torch.Generator().manual_seed(cfg.train.seed), 0.1, 3)
        plain.append(n / (time.perf_counter() - t0))

    for i in range(repeats):  # alternate which goes first: neither side gets the warmer machine
        for fn in (engine, seed_loop) if i % 2 == 0 else (seed_loop, engine):
            fn()
    r = _median_ratio(eng, plain)
    return Row("engine_mlp", "Engine overhead, MLP (names, seed config)",
               f"{statistics.median(eng):,.0f} vs {statistics.median(plain):,.0f} steps/s", r, ">= 1.0", r >= 1.0,
               {"engine_steps_per_s": eng, "plain_steps_per_s": plain})


def _tm_config(model: str) -> RunConfig:
    cfg = config_for("timemachine-rnn", model=model)
    return apply(cfg, {"model": {"hidden": 256, "one_hot": True}, "train": {"epochs": 0}})


def engine_rnn(quick: bool) -> Row:
    """2. core's trainer vs d2l's train_epoch_ch8 loop, torch RNN 256 on the Time Machine."""
    n, repeats = (40, 4) if quick else (150, 4)
    cfg = _tm_config("rnn")
    base = new_run(cfg)
    ds, init = base.dataset, copy.deepcopy(base.model.state_dict())
    tokens = n * 32 * 35
    eng, plain = [], []

    def engine():
        run = new_run(cfg)
        run.model.load_state_dict(init)
        secs, _ = train_steps(run, n)
        eng.append(tokens / secs)

    def d2l_loop():
        m = copy.deepcopy(base.model)
        m.load_state_dict(init)
        sb = make_batcher(ds, "train", "sequence", 1, 32, 35, "sequential",
                          torch.Generator().manual_seed(cfg.train.seed))
        batches = [sb.next()[:2] for _ in range(n)]
        t0 = time.perf_counter()
        d2l_rnn_epoch(m.rnn, m.head, batches, len(ds.vocab), 1.0, 1.0)
        plain.append(tokens / (time.perf_counter() - t0))

    for i in range(repeats):
        for fn in (engine, d2l_loop) if i % 2 == 0 else (d2l_loop, engine):
            fn()
    r = _median_ratio(eng, plain)
    return Row("engine_rnn", "Engine overhead, RNN (timemachine, RNN 256, 32x35)",
               f"{statistics.median(eng):,.0f} vs {statistics.median(plain):,.0f} tokens/s", r, ">= 1.0", r >= 1.0,
               {"engine_tokens_per_s": eng, "plain_tokens_per_s": plain})


def elman_vs_torch(quick: bool) -> Row:
    """3. The hand-written Elman RNN against torch's RNN, same sizes, same trainer."""
    n, repeats = (30, 3) if quick else (120, 3)
    runs = {m: new_run(_tm_config(m)) for m in ("elman", "rnn")}
    rates: dict[str, list[float]] = {"elman": [], "rnn": []}
    for _ in range(repeats):
        for m, run in runs.items():
            secs, _ = train_steps(run, n)
            rates[m].append(n * 32 * 35 / secs)
    r = _median_ratio(rates["elman"], rates["rnn"])
    return Row("elman_vs_torch", "Elman from scratch vs torch RNN (training tokens/s)",
               f"{statistics.median(rates['elman']):,.0f} vs {statistics.median(rates['rnn']):,.0f} tokens/s",
               r, ">= 0.5", r >= 0.5, rates)


def _latencies(g: Generator, steps: int) -> list[float]:
    out = []
    it = g.stream(steps, stop_at_boundary=False)
    for _ in range(steps):
        t0 = time.perf_counter()
        next(it)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _recompute(model, history: torch.Tensor, steps: int) -> list[float]:
    out = []
    x = history
    with torch.no_grad():
        for _ in range(steps):
            t0 = time.perf_counter()
            logits, _ = model(x)
            nxt = logits[:, -1].argmax(-1, keepdim=True)
            x = torch.cat([x, nxt], 1)
            out.append((time.perf_counter() - t0) * 1000)
    return out


def streaming(quick: bool) -> list[Row]:
    """5. Per-character latency after a short and a long history, and recomputing from the start."""
    steps = 50 if quick else 200
    vocab_size = 28
    from seqlm_tui.core.vocab import Vocab
    vocab = Vocab(("<unk>", " ", *"etaoinshrdlucmfwgypbvkxjqz"), unk=0)
    rows = []
    torch.manual_seed(0)
    for name in registry.MODELS:
        model = registry.build(registry.defaults_for(name), vocab_size, 0).eval()
        lat: dict[int, list[float]] = {10: [], 2000: []}
        for _ in range(3):  # short and long interleaved, so machine noise hits both alike
            for hist in (10, 2000):
                g = Generator(model, vocab, Sampling(), seed=0)
                g.feed("".join(vocab.tokens[1 + i % 27] for i in range(hist)))
                lat[hist] += _latencies(g, steps)
        med = {h: statistics.median(v) for h, v in lat.items()}
        p95 = {h: sorted(v)[int(0.95 * len(v)) - 1] for h, v in lat.items()}
        history = torch.randint(1, vocab_size, (1, 2000))
        rec = statistics.median(_recompute(model, history, max(5, steps // 10)))
        goal_ms = 3.0 if name == "transformer" else 1.0
        ratio = med[2000] / med[10]
        met = med[10] <= goal_ms and med[2000] <= goal_ms and ratio <= 1.2
        rows.append(Row(f"stream_{name}", f"Streaming, {name}",
                        f"median {med[10]:.3f} / {med[2000]:.3f} ms (10 / 2000 chars), p95 {p95[10]:.3f} / "
                        f"{p95[2000]:.3f}, recompute {rec:.2f} ms",
                        ratio, f"<= {goal_ms:g} ms, long/short <= 1.2", met,
                        {"median_ms": med, "p95_ms": p95, "recompute_ms_2000": rec}))
    return rows


def time_to_quality(preset: str, target: float = 2.20, limit_s: float = 600.0) -> tuple[float | None, float]:
    """Wall seconds of training (data already loaded) until the dev loss reaches ``target``."""
    cfg = config_for(preset)
    if cfg.train.eval_every > 1000:
        cfg.train.eval_every = 1000
    run = new_run(cfg)
    trainer = Trainer(run, sample_count=0)
    t0 = time.perf_counter()
    best = float("inf")
    for e in trainer.events():
        if isinstance(e, ev.Eval):
            best = min(best, e.dev_loss)
            if e.dev_loss <= target:
                trainer.stop()
                return time.perf_counter() - t0, best
        if time.perf_counter() - t0 > limit_s:
            trainer.stop()
    return None, best


def quality(quick: bool) -> Row:
    """6. Time to dev loss 2.20 on names: the seed recipe against the fast preset.

    Timed from the trainer's start (data loaded; torch's one-time optimizer import done beforehand)."""
    import torch._dynamo  # noqa: F401  (Adam's first construction imports it: ~2 s, once per process)

    fast, fast_best = time_to_quality("names-fast")
    if quick:
        return Row("time_to_quality", "Time to dev loss <= 2.20, names (fast preset only in --quick)",
                   f"names-fast {fast:.1f} s" if fast else f"names-fast never got there (best {fast_best:.3f})",
                   fast, "<= 5 s", fast is not None and fast <= 5.0, {"fast_s": fast})
    seed, seed_best = time_to_quality("names-mlp-seed", limit_s=900)
    ratio = seed / fast if seed and fast else None
    figure = (f"seed {seed:.1f} s vs names-fast {fast:.2f} s ({ratio:.1f}x faster)" if seed and fast else
              f"seed {seed} (best {seed_best:.3f}), fast {fast} (best {fast_best:.3f})")
    return Row("time_to_quality", "Time to dev loss <= 2.20, names", figure, fast,
               "fast <= 5 s and >= 10x the seed", bool(fast and fast <= 5.0 and ratio and ratio >= 10),
               {"seed_s": seed, "fast_s": fast, "speedup": ratio})


def frontier(quick: bool) -> list[Row]:
    """7. The names frontier: each budget's preset, its time and test loss, against makemore's recipe
    trained for the same seconds (``--quick``: the first two budgets)."""
    from seqlm_tui.cli.bench.frontier import measure

    mine, theirs = measure(quick)
    by_time = sorted(range(len(mine)), key=lambda i: mine[i]["seconds"])
    rows = []
    for i, point in zip(by_time, theirs):
        r = mine[i]
        met = r["test_loss"] <= r["target"] and r["seconds"] <= r["budget"]
        rows.append(Row(f"frontier_{r['preset']}", f"Names frontier: test <= {r['target']:.2f} within "
                        f"{r['budget']:g} s ({r['preset']})",
                        f"test {r['test_loss']:.4f} in {r['seconds']:.1f} s ({r['steps']:,} steps); makemore's "
                        f"recipe in the same time: {point['test_loss']:.4f} ({point['steps']:,} steps)",
                        r["test_loss"], f"<= {r['target']:.2f} within {r['budget']:g} s", met,
                        {**r, "baseline": point}))
    return rows


_ENCODE = """
import sys, time
from seqlm_tui.core.config import DataConfig
from seqlm_tui.core import datasets

def kb(field):
    for line in open('/proc/self/status'):
        if line.startswith(field):
            return int(line.split()[1])

datasets.stream_dataset('warm up torch kernels once ' * 50, 'warm-up', 'warm-up')  # one-time kernel set-up
with open('/proc/self/clear_refs', 'w') as f:
    f.write('5')  # reset the peak (VmHWM) to the current RSS: imports are not counted
base = kb('VmRSS:')
t0 = time.perf_counter()
ds = datasets.load(DataConfig(dataset='file', file=sys.argv[1], mode='stream'))
t = time.perf_counter() - t0
print(t, base, kb('VmHWM:'))
"""


def data_scaling(quick: bool) -> list[Row]:
    """8. Encode time and peak memory for 1, 10 and 100 MB of text in stream mode (in a subprocess each)."""
    sizes = (1, 10) if quick else (1, 10, 100)
    words = ("the time traveller for so it will be convenient to speak of him was expounding a recondite "
             "matter to us his grey eyes shone and twinkled").split()
    rows, times = [], {}
    with tempfile.TemporaryDirectory() as d:
        g = torch.Generator().manual_seed(0)
        chunk = " ".join(words[i] for i in torch.randint(0, len(words), (200_000,), generator=g).tolist()) + "\n"
        for mb in sizes:
            path = os.path.join(d, f"{mb}mb.txt")
            target = mb * 1_000_000
            with open(path, "w") as f:
                written = 0
                while written < target:
                    piece = chunk[: target - written]
                    f.write(piece)
                    written += len(piece)
                f.flush()
                os.fsync(f.fileno())  # else the kernel writes the file back while it is being read and timed
            # A fresh process per repeat; the median time (a 1 MB encode takes milliseconds, so one run is
            # mostly noise) and the largest peak.
            secs_seen, extra_seen = [], []
            for _ in range(1 if quick else 5 if mb < 100 else 3):
                res = subprocess.run([sys.executable, "-c", _ENCODE, path], capture_output=True, text=True,
                                     check=True)
                t, base_kb, peak_kb = res.stdout.split()
                secs_seen.append(float(t))
                extra_seen.append((int(peak_kb) - int(base_kb)) / 1024)
            secs, extra_mb = statistics.median(secs_seen), max(extra_seen)
            times[mb] = secs
            ratio = extra_mb / mb
            rows.append(Row(f"data_{mb}mb", f"Data scaling, {mb} MB stream file",
                            f"{secs:.3f} s, peak +{extra_mb:.0f} MB ({ratio:.2f}x the file)", ratio,
                            "<= 3x the file" + (", <= 10 s" if mb == 100 else ""),
                            ratio <= 3 and (mb != 100 or secs <= 10), {"seconds": secs, "extra_mb": extra_mb}))
    if len(times) > 1:
        a, b = min(times), max(times)
        per = {mb: times[mb] / mb for mb in times}
        lin = per[b] / per[a] if per[a] > 0 else float("nan")
        rows.append(Row("data_linear", "Data scaling, seconds per MB largest / smallest",
                        ", ".join(f"{mb} MB {t:.3f} s" for mb, t in times.items()), lin, "~1 (linear)",
                        lin <= 1.5, per))
    return rows


def app_training(quick: bool) -> list[Row]:
    """4. The same training driven through the app (pilot) against headless; key latency meanwhile."""
    from seqlm_tui.cli.bench.app_items import app_rate_and_latency, headless_rate
    from seqlm_tui.tui.threads import leave_a_core_to_the_ui

    secs = 3.0 if quick else 5.0
    # Both sides with the app's thread policy (all cores but one), so the ratio is the app's own cost; with
    # torch's default team of 2 on 2 cores, headless collapses whenever anything else wants a core.
    leave_a_core_to_the_ui()
    # Pairs side by side, the ratio their median: on a shared box the rate of one side alone drifts by a
    # third within minutes (1,600-2,500 steps/s headless here), more than the app's own cost.
    ratios, apps, heads, lat = [], [], [], []
    for i in range(2 if quick else 4):
        if i % 2 == 0:  # the order alternates: the box runs faster the longer a process has run
            head = headless_rate(secs)
            rate, pair_lat = app_rate_and_latency(secs)
        else:
            rate, pair_lat = app_rate_and_latency(secs)
            head = headless_rate(secs)
        ratios.append(rate / head)
        apps.append(rate)
        heads.append(head)
        lat += pair_lat
    r, rate, head = statistics.median(ratios), statistics.median(apps), statistics.median(heads)
    lat.sort()
    med, p95 = statistics.median(lat), lat[int(0.95 * len(lat)) - 1]
    return [Row("app_training", "Training inside the app vs headless (names MLP)",
                f"{rate:,.0f} vs {head:,.0f} steps/s, median of {len(ratios)} pairs", r, ">= 0.9", r >= 0.9,
                {"app": apps, "headless": heads, "ratios": ratios}),
            Row("app_latency", "Key press to updated screen while training",
                f"median {med:.1f} ms, p95 {p95:.1f} ms", p95, "p95 <= 50 ms", p95 <= 50, {"latency_ms": lat})]


def autosave_keys(quick: bool) -> Row:
    """10. Key press to screen while training with autosave on and 500 checkpoints in the folder."""
    from seqlm_tui.cli.bench.app_items import autosave_latency
    from seqlm_tui.tui.threads import leave_a_core_to_the_ui

    leave_a_core_to_the_ui()
    lat, saved = autosave_latency(200 if quick else 500, 20 if quick else 40)
    lat.sort()
    med, p95 = statistics.median(lat), lat[max(0, int(0.95 * len(lat)) - 1)]
    files = 200 if quick else 500
    return Row("autosave_latency", f"Key press to screen, autosave on, {files} checkpoints in the folder",
               f"median {med:.1f} ms, p95 {p95:.1f} ms, max {lat[-1]:.1f} ms", p95, "p95 <= 50 ms", p95 <= 50,
               {"latency_ms": lat, "best_saved": saved})


def startup_time(quick: bool) -> Row:
    """9. Time to the app's first frame against ``python -c 'import torch, textual'``."""
    from seqlm_tui.cli.bench.app_items import startup

    app, base = startup(2 if quick else 5)
    r = app / base
    return Row("startup", "Start-up: first frame vs import torch, textual", f"{app:.2f} s vs {base:.2f} s", r,
               "<= 1.3", r <= 1.3, {"app_s": app, "import_s": base})


def pane_switch(quick: bool) -> list[Row]:
    """11. F2/F3 key to the first frame of the other pane, idle and training, beside a plain Textual app."""
    from seqlm_tui.cli.bench.switching import rows

    return rows(quick)


ITEMS = {
    "engine_mlp": engine_mlp,
    "engine_rnn": engine_rnn,
    "elman": elman_vs_torch,
    "streaming": streaming,
    "quality": quality,
    "frontier": frontier,
    "data": data_scaling,
    "app": app_training,
    "startup": startup_time,
    "autosave": autosave_keys,
    "pane-switch": pane_switch,
}


def run_all(quick: bool, only: list[str] | None = None, progress=None) -> list[Row]:
    rows: list[Row] = []
    for key, fn in ITEMS.items():
        if only and key not in only:
            continue
        if progress:
            progress(key)
        got = fn(quick)
        rows.extend(got if isinstance(got, list) else [got])
    return rows


def fmt_value(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.2f}"


__all__ = ["Row", "run_all", "ITEMS", "DataConfig", "ModelConfig", "TrainConfig"]
