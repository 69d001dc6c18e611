"""The training loop. It yields events; it never prints. Pause/resume/stop act at step boundaries."""

from __future__ import annotations

import contextlib
import copy
import math
import os
import random
import threading
import time
from collections.abc import Iterator

import torch
import torch.nn.functional as F

from seqlm_tui.core import events as ev
from seqlm_tui.core import insight
from seqlm_tui.core.batches import ItemBatcher, make_batcher
from seqlm_tui.core.config import field_spec
from seqlm_tui.core.errors import SeqlmError, out_of_memory
from seqlm_tui.core.generate import Sampling, samples
from seqlm_tui.core.models.base import LanguageModel, detach_state
from seqlm_tui.core.optim import lr_at, make_optimizer
from seqlm_tui.core.rules import check_fits
from seqlm_tui.core.run import Run, Snapshot, cpu_cores, resolve_device

SMOOTHING = 0.98  # EMA factor of the smoothed train loss
STEP_LIMIT = field_spec("train", "steps").metadata["hi"]  # one cap, whether asked for in steps or epochs


class Diverged(SeqlmError):
    """The loss blew up; the model holds the weights of the last good step."""


HEALTH_ROWS = 1024  # dev rows tanh saturation is measured on: enough for a share to within a percent


class Backup:
    """The weights of the last good step, kept every step so that a divergence can be undone exactly.

    Parameters that are contiguous and of one dtype are copied with a single ``cat`` into one flat buffer:
    one op instead of one copy per tensor (the per-tensor copies were 6% of a seed-MLP step in instructions).
    """

    def __init__(self, live: list[torch.Tensor]):
        self.live = live
        self.flat = None
        if live and all(t.is_contiguous() and t.dtype == live[0].dtype and t.device == live[0].device for t in live):
            self.views = [t.view(-1) for t in live]
            self.flat = torch.cat(self.views)
            self.parts = [part.view_as(t) for part, t in zip(self.flat.split([t.numel() for t in live]), live)]
        else:
            self.parts = [t.clone() for t in live]

    def save(self) -> None:
        if self.flat is not None:
            torch.cat(self.views, out=self.flat)
        else:
            torch._foreach_copy_(self.parts, self.live)

    def restore(self) -> None:
        torch._foreach_copy_(self.live, self.parts)


def train_to_end(run: Run, stop: threading.Event | None = None) -> tuple[str | None, bool]:
    """Train ``run`` for its configured steps with no output: (error message or None, stopped early).
    ``stop`` set from another thread ends it at the next step (the comparisons' x key)."""
    trainer = Trainer(run, sample_count=0, stop=stop)
    failed, stopped = None, False
    for e in trainer.events():
        if isinstance(e, ev.Error):
            failed = e.message
        elif isinstance(e, ev.Finished):
            stopped = e.stopped
    return failed, stopped


@torch.no_grad()
def evaluate(model: LanguageModel, batches) -> tuple[float, int]:
    """Mean cross-entropy per target over ``batches`` (state carried where the batcher says so)."""
    was = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    try:
        for x, y, fresh in batches:
            if fresh:
                state = None
            logits, state = model.batch_logits(x, state)
            total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                           ignore_index=-1, reduction="sum"))
            count += int((y >= 0).sum())
    finally:
        model.train(was)
    return (total / count if count else float("nan")), count


def preview_prompts(run: Run) -> list[str] | None:
    """What the periodic samples continue: nothing for items (whole names), a count, or text."""
    vocab = run.vocab
    if run.cfg.data.dataset == "memory":
        # Its symbols are noise, so a whole sampled item shows nothing; a dev sequence and its recall do.
        s = run.ensure_dataset().splits["dev"]
        return [vocab.decode(s.tokens[int(s.starts[k]) + 1:int(s.starts[k] + s.lengths[k]) - 2]) for k in range(3)]
    if vocab.boundary is not None:
        return None
    if vocab.kind == "numbers":
        return [" ".join(str(i + j) for j in range(4)) for i in (3, 40, 90)]
    split = run.ensure_dataset().splits["dev"].tokens
    return [vocab.decode(split[i:i + 16]).replace("<unk>", "?") for i in (0, len(split) // 3, 2 * len(split) // 3)]


def allowed_threads(asked: int) -> int:
    """A run's threads, at most this machine's cores (a run from a larger machine would ask for a team that
    stalls here) and at most $SEQLM_MAX_THREADS when that is set: ``seqlm-tui serve`` sets each session's
    share of the machine there, and a student's Setup must not take every core from the rest of the room."""
    try:
        cap = int(os.environ.get("SEQLM_MAX_THREADS", "0"))
    except ValueError:
        cap = 0
    asked = min(asked, cpu_cores())
    return min(asked, cap) if cap > 0 else asked


class Trainer:
    """Trains a ``Run`` in place. Iterate ``events()``; call ``pause``/``resume``/``stop`` from any thread."""

    def __init__(self, run: Run, sample_count: int = 3, step_interval: float = 0.05, keep_best: bool = False,
                 stop: threading.Event | None = None):
        """``keep_best`` keeps a copy of the weights at the best dev evaluation in ``run.best``; ``stop``,
        when given (a worker's cancel event), ends the loop at the next step once it is set."""
        self.run = run
        self.sample_count = sample_count
        self.keep_best = keep_best
        # Step events are throttled at the source (every step is still in run.history): at thousands of
        # steps a second, an event per step would cost the loop more than the model does.
        self.step_interval = step_interval
        self._stop = stop if stop is not None else threading.Event()
        self.pause_at: int | None = None  # pause by itself once this many steps are done (a lesson's stop)
        self._go = threading.Event()
        self._go.set()
        self.lock = threading.RLock()  # held during a step, so a snapshot never sees half an update
        self.optimizer: torch.optim.Optimizer | None = None

    # -- control (thread-safe) -------------------------------------------------------------
    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    def stop(self) -> None:
        self._stop.set()
        self._go.set()

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def snapshot(self) -> LanguageModel:
        with self.lock:
            return self.run.snapshot_model()

    @contextlib.contextmanager
    def still(self):
        """The run standing still between two steps, its optimizer state current (to save it meanwhile)."""
        with self.lock:
            if self.optimizer is not None:
                self.run.optimizer_state = self.optimizer.state_dict()
            yield self.run

    # -- the loop --------------------------------------------------------------------------
    def total_steps(self, steps_per_epoch: int) -> int:
        t = self.run.cfg.train
        if t.epochs <= 0:
            return t.steps
        total = math.ceil(t.epochs * steps_per_epoch)
        if total > STEP_LIMIT:
            raise SeqlmError(f"{t.epochs:g} epochs of {steps_per_epoch:,} steps are {total:,} steps; the limit "
                             f"is {STEP_LIMIT:,} steps, however they are counted.")
        return total

    def events(self) -> Iterator[ev.Event]:
        """Run the training loop, yielding events. Errors a user can cause end in an ``Error`` event."""
        try:
            yield from self._loop()
        except Diverged as err:
            yield ev.Error(self.run.step, str(err), diverged=True)
        except SeqlmError as err:
            yield ev.Error(self.run.step, str(err))
        except (RuntimeError, MemoryError) as err:
            message = out_of_memory(err)
            if message is None:
                raise
            yield ev.Error(self.run.step, message)

    def _loop(self) -> Iterator[ev.Event]:
        run, cfg = self.run, self.run.cfg
        t = cfg.train
        if t.threads:
            torch.set_num_threads(allowed_threads(t.threads))
        device = resolve_device(t.device)
        model = run.model.to(device)
        ds = run.ensure_dataset()
        run.history.truncate(run.step)  # resumed from a kept (earlier) step: its later points are another past
        gen = torch.Generator().manual_seed(t.seed + run.step)
        torch.manual_seed(t.seed + run.step)
        random.seed(t.seed + run.step)
        kind, ctx = model.batch_kind, model.context
        check_fits(cfg, ds)  # the same rules the app's Setup checks as the user types
        batcher = make_batcher(ds, "train", kind, ctx, cfg.data.batch_size, cfg.data.num_steps,
                               cfg.data.partition, gen, str(device), cfg.data.pack)
        dev = make_batcher(ds, "dev", kind, ctx, 1, cfg.data.num_steps, "sequential", None, str(device))
        total = self.total_steps(batcher.steps_per_epoch)
        yield ev.Started(total, model.num_params(), ds.name, cfg.model.model, str(device),
                         dev.eval_targets(t.eval_cap))

        if model.trains_by_counting:
            yield from self._count(batcher, dev, total)
            return
        if run.step >= total:
            raise SeqlmError(f"this run has already done {run.step:,} of its {total:,} steps; "
                             "ask for more steps to go on.")

        params = [p for p in model.parameters() if p.requires_grad]
        opt = make_optimizer(params, t)
        if run.optimizer_state:
            try:
                opt.load_state_dict(run.optimizer_state)
            except (ValueError, KeyError):
                pass  # a different optimizer was chosen for the resumed run: start its state afresh
        self.optimizer = opt
        if self.keep_best and run.best is None and run.step and run.metrics.get("dev_loss") is not None:
            self._keep(float(run.metrics["dev_loss"]))  # a resumed run: its start is the best so far
        backup = Backup([p.detach() for p in params])  # shares storage: copying needs no autograd
        backed_up = False
        count_targets = isinstance(batcher, ItemBatcher)
        prompts = preview_prompts(run)
        smooth = None
        state = None
        # Divergence: a non-finite loss, or one far above both the start and a uniform guess (ln V);
        # tanh models saturate and can stay finite while being hopeless.
        ceiling = math.inf
        start_step, t0 = run.step, time.perf_counter()
        rate_t, rate_tokens, tok_per_s = t0, 0, 0.0
        last_lr, last_emit = None, 0.0
        constant_lr = t.schedule == "constant"
        budget = t.time_budget  # seconds of training (pauses not counted), 0: none
        stopped = False  # ended early (stop asked for), not by taking every step or spending the budget
        # The same minibatch at every step, from a fresh state: a model that can learn drives its loss on it
        # near zero (makemore's first check); the dev loss, on unseen data, climbs meanwhile.
        one_batch = (*batcher.next()[:2], True) if t.overfit_batch else None
        model.train()
        for step in range(run.step, total):
            if self._stop.is_set():
                stopped = True
                break
            if not self._go.is_set():
                yield ev.Paused(step)
                paused_at = time.perf_counter()
                # The stop event may be a worker's cancel event, set without touching this one: look at both.
                while not self._go.wait(0.1) and not self._stop.is_set():
                    pass
                t0 += time.perf_counter() - paused_at
                rate_t += time.perf_counter() - paused_at
                if self._stop.is_set():
                    stopped = True
                    break
                yield ev.Resumed(step)
            x, y, fresh = one_batch or batcher.next()
            lr = t.lr if constant_lr else lr_at(t, step, total, (time.perf_counter() - t0) / budget if budget else 0.0)
            with self.lock:
                if lr != last_lr:
                    for g in opt.param_groups:
                        g["lr"] = lr
                    last_lr = lr
                state = None if fresh or not model.recurrent else detach_state(state)
                logits, state = model.batch_logits(x, state)
                if logits.dim() > 2:  # sequences; window models give (B, V) already (no extra graph node)
                    logits, y = logits.reshape(-1, logits.shape[-1]), y.reshape(-1)
                loss = F.cross_entropy(logits, y, ignore_index=-1)
                value = loss.item()
                if not math.isfinite(value) or value > ceiling:
                    # These weights gave the bad loss; the backup holds those of one update before.
                    backup.restore()
                    if backed_up:
                        run.step = step - 1
                        run.history.truncate(run.step)
                    what = f"became {value}" if not math.isfinite(value) else f"exploded to {value:.4g}"
                    message = (f"the loss {what} at step {step + 1} (learning rate {lr:g} is probably too high); "
                               f"training stopped with the weights of the last good step ({run.step:,})")
                    for _ in self._evaluate(dev, None, smooth, with_samples=False):
                        pass  # their dev loss, so that the best evaluation can be kept rather than these
                    raise Diverged(message + "; try a lower learning rate.")
                backup.save()
                backed_up = True
                for p in params:
                    p.grad = None
                loss.backward()
                if t.clip > 0:
                    torch.nn.utils.clip_grad_norm_(params, t.clip)
                opt.step()
                run.step = step + 1
            if self.pause_at is not None and run.step >= self.pause_at:
                self.pause_at = None
                self.pause()  # this step is reported (a pause is), the next one waits
            if smooth is None:
                if run.step == 1:
                    run.metrics["first_loss"] = value  # the init's verdict (history averages long runs)
                ceiling = 10 * max(value, math.log(model.vocab_size))
            smooth = value if smooth is None else SMOOTHING * smooth + (1 - SMOOTHING) * value
            run.history.train.add(run.step, value)
            rate_tokens += int((y >= 0).sum()) if count_targets else y.numel()
            now = time.perf_counter()
            spent = bool(budget) and now - t0 >= budget
            evaluating = run.step % t.eval_every == 0 or run.step == total or spent
            if now - last_emit >= self.step_interval or evaluating or not self._go.is_set():
                last_emit = now
                if now - rate_t >= 0.5 or tok_per_s == 0.0:
                    tok_per_s = rate_tokens / max(now - rate_t, 1e-9)
                    rate_t, rate_tokens = now, 0
                elapsed = now - t0
                per_step = elapsed / (run.step - start_step)
                eta = per_step * (total - run.step)
                shown_total = total
                if budget:  # the steps the rest of the budget holds at the pace so far
                    eta = 0.0 if spent else min(eta, budget - elapsed)
                    shown_total = min(total, run.step + round(eta / per_step))
                run.metrics["train_loss"] = smooth
                yield ev.Step(run.step, shown_total, value, smooth, lr, tok_per_s, elapsed, eta)
            if evaluating:
                yield from self._evaluate(dev, prompts, smooth)
            if spent:
                break
        run.metrics["train_loss"] = smooth
        run.optimizer_state = opt.state_dict()
        yield ev.Finished(run.step, stopped, self.result(time.perf_counter() - t0, tok_per_s))

    def _evaluate(self, dev, prompts, smooth, with_samples: bool = True) -> Iterator[ev.Event]:
        run = self.run
        with self.lock:
            loss, _ = evaluate(run.model, dev.eval_batches(run.cfg.train.eval_cap))
            run.history.dev.add(run.step, loss)
            run.metrics.update(dev_loss=loss, dev_ppl=math.exp(min(loss, 50)))
            if self.keep_best and math.isfinite(loss) and (run.best is None or loss < run.best.dev_loss):
                self._keep(loss)
            yield ev.Eval(run.step, smooth if smooth is not None else loss, loss, math.exp(min(loss, 50)))
            if not run.model.trains_by_counting:
                # At evals only, never per step: the grads of the last step are still in .grad (the loop
                # clears them just before the next backward), and one dev batch shows the tanh units.
                batch = next(iter(dev.eval_batches(run.cfg.train.eval_cap)), None)
                if batch is None:  # a dev split too short for one batch: the gradients only
                    report = insight.Health(run.step, insight.grad_norms(run.model), None)
                else:
                    report = insight.health(run.model, batch[0][:HEALTH_ROWS], run.step, batch[1][:HEALTH_ROWS])
                yield ev.Health(report)
            if self.sample_count and with_samples:
                length = 8 if run.vocab.kind == "numbers" else 40 if prompts else 30
                texts = samples(run.model, run.vocab, self.sample_count, length=length,
                                seed=run.step, prompts=prompts, sampling=Sampling(temperature=0.8))
        if self.sample_count and with_samples:
            yield ev.Sample(run.step, texts)

    def _keep(self, dev_loss: float) -> None:
        """Remember the weights (and optimizer state) of this step as the best dev evaluation so far."""
        run, opt = self.run, self.optimizer
        run.best = Snapshot(run.step, dev_loss, {k: v.detach().clone() for k, v in run.model.state_dict().items()},
                            copy.deepcopy(opt.state_dict()) if opt is not None else None, dict(run.metrics))

    def _count(self, batcher, dev, total) -> Iterator[ev.Event]:
        """Count-based bigram: one pass over the training split replaces gradient descent."""
        run, t0 = self.run, time.perf_counter()
        model = run.model
        model.counts.zero_()
        for x, y, _ in batcher.eval_batches(0, size=1 << 16):
            model.fit(x, y)
        run.step = total
        train_loss, n = evaluate(model, batcher.eval_batches(run.cfg.train.eval_cap))
        run.history.train.add(run.step, train_loss)
        run.metrics["train_loss"] = train_loss
        elapsed = time.perf_counter() - t0
        yield ev.Step(run.step, total, train_loss, train_loss, 0.0, n / max(elapsed, 1e-9), elapsed, 0.0)
        yield from self._evaluate(dev, preview_prompts(run), train_loss)
        yield ev.Finished(run.step, False, self.result(elapsed, n / max(elapsed, 1e-9)))

    def result(self, elapsed: float, tokens_per_s: float) -> dict:
        m, best = self.run.metrics, self.run.best
        out = {"steps": self.run.step, "train_loss": m.get("train_loss"), "dev_loss": m.get("dev_loss"),
               "dev_ppl": m.get("dev_ppl"), "tokens_per_s": tokens_per_s, "elapsed_s": elapsed,
               "params": self.run.model.num_params()}
        if best is not None:
            out["best"] = {"step": best.step, "dev_loss": best.dev_loss}
        return out
