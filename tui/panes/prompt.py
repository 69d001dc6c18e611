"""Prompt: a REPL that streams the model's continuation one token at a time, keeping the state.

The continuation runs in a worker (group "generate"): it takes its copy of the weights there, feeds the
prompt and streams; Escape cancels the worker. Lines typed meanwhile wait for it, in order.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input
from textual.worker import WorkerState, get_current_worker

from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.generate import TINY_TEMPERATURE, Generator, Sampling, render
from seqlm_tui.core.lesson_facts import Exchange
from seqlm_tui.core.novelty import NEW
from seqlm_tui.core.textsafe import printable
from seqlm_tui.tui.jobs import ReportsJobs
from seqlm_tui.tui.messages import GenDone, GenToken
from seqlm_tui.tui.widgets.bars import Bars
from seqlm_tui.tui.widgets.history_input import HistoryInput
from seqlm_tui.tui.widgets.transcript import Transcript

COMMANDS = [
    ("/reset", "forget the state (start a new conversation)"),
    ("/temp X", "sampling temperature (e.g. 0.8); sampling, not greedy"),
    ("/topk K", "sample among the K most likely tokens (0: all)"),
    ("/greedy", "always take the most likely token (again to switch off)"),
    ("/len N", "tokens to generate per prompt"),
    ("/seed S", "seed the sampler (reproducible continuations)"),
    ("/probs", "show or hide the next-token odds panel (it follows every generated token)"),
    ("/help", "this list"),
]
HELP = ("commands:\n" + "\n".join(f"  {c:<9} {what}" for c, what in COMMANDS)
        + "\nEnter on an empty line continues from the current state; Escape stops a continuation;"
        + "\nPageUp / PageDown scroll this transcript, ctrl+Home / ctrl+End to its top / end.")

MAX_CONTEXT = 4000  # characters of the conversation replayed into newer weights of the same run
IN_FLIGHT = 8  # tokens a continuation may run ahead of the screen: a stop leaves at most these to draw


@dataclass
class Source:
    """The model the prompt talks to, as the app describes it. ``tag`` is (run, step): the same run with a
    later step is newer weights, another run is another model. ``snapshot()`` copies the weights (the
    prompt calls it in its own worker); ``novelty()`` tells where a generated item comes from."""
    tag: Any = None
    vocab: Any = None
    snapshot: Any = None
    novelty: Any = None
    title: str = ""


class PromptPane(ReportsJobs, Vertical):
    # The transcript takes no focus (typing always goes to the prompt box), so its scroll keys are here.
    BINDINGS = [Binding("escape", "stop_stream", "Stop generating", show=False),
                Binding("pageup", "scroll_transcript(-1)", "Scroll up", show=False),
                Binding("pagedown", "scroll_transcript(1)", "Scroll down", show=False),
                Binding("ctrl+home", "scroll_transcript(-2)", "Scroll to the top", show=False),
                Binding("ctrl+end", "scroll_transcript(2)", "Scroll to the end", show=False)]

    def __init__(self, source, **kw) -> None:
        """``source()`` returns the current model's ``Source``."""
        super().__init__(**kw)
        self.source = source
        self.sampling = Sampling(temperature=1.0)
        self.length = 100
        self.seed: int | None = None
        self.delay = 0.01  # seconds between tokens, so the continuation visibly grows
        self.show_probs = False
        self.odds_k = 8  # next tokens in the odds panel: as many as fit (set on resize)
        self.gen: Generator | None = None
        self.tag = None
        self.replaced = False  # another model took over since the last prompt
        self._queued: list[str] = []  # lines submitted while a continuation was streaming
        self.job = 0  # the continuation streaming (or the last one): its messages carry this number
        self._stop = threading.Event()  # set to cut the running continuation short
        self._slots = threading.Semaphore(IN_FLIGHT)  # tokens posted and not yet on screen
        self.updates = 0
        self.answered = 0  # continuations that have ended and are all on screen
        self.ended_item = False  # the last continuation ended an item (a name): the next starts afresh
        self.novelty, self.novelty_of = None, None
        self.item = ""  # the item (a name) being written, prompt and continuation, for where it comes from
        self.context: list[str] = []  # what the generator has seen since the last reset, to replay it
        self.exchanges: list[Exchange] = []  # each prompt and its answer, newest last (the lessons check them)

    def compose(self) -> ComposeResult:
        with Horizontal(id="prompt-body"):
            yield Transcript(id="prompt-log")
            yield Bars("next token", id="prompt-probs", empty="(type a prompt)")
        yield HistoryInput(placeholder="type a prompt and press Enter  (/help for commands)", id="prompt-input")

    def on_mount(self) -> None:
        self.query_one("#prompt-probs").display = False
        self.say("Type a prompt: the model warms up on it, then continues. The state carries over to the next "
                 "prompt until /reset. /help lists the commands.")

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    @property
    def text(self) -> str:
        """Everything in the output (for tests and copy)."""
        return self.transcript.plain

    @property
    def busy(self) -> bool:
        return any(w.node is self and w.group == "generate" and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                   for w in self.app.workers)

    def say(self, text: str) -> None:
        self.transcript.say(text)

    def forget_model(self) -> None:
        """Another model replaced the one talked to (a new run, a checkpoint, another dataset): the next
        prompt starts a fresh conversation with it (``submit`` says so)."""
        self.replaced = True
        self._update_probs([])

    # -- commands ------------------------------------------------------------------------------
    def command(self, line: str) -> None:
        word, _, arg = line[1:].partition(" ")
        word = word.lower()
        arg = arg.strip()
        self.transcript.echo(line)
        try:
            if word == "help":
                self.say(HELP)
            elif word == "reset":
                if self.gen is not None:
                    self.gen.reset()
                self.context, self.ended_item, self.item = [], False, ""
                self.say("(state reset)")
                self._update_probs()
            elif word == "temp":
                t = float(arg)
                if t == 0:
                    raise SeqlmError("temperature must be a positive number, not 0; for the most likely token "
                                     "every time, type /greedy.")
                s = Sampling(t, self.sampling.top_k, False)
                s.check()
                self.sampling = s
                tiny = " (so small that it takes the most likely token)" if t < TINY_TEMPERATURE else ""
                self.say(f"(temperature {t:g}, sampling{tiny})")
            elif word == "topk":
                k = int(arg)
                s = Sampling(self.sampling.temperature, k, self.sampling.greedy)
                s.check()
                self.sampling = s
                self.say(f"(top-k {k})" if k else "(top-k off)")
            elif word == "greedy":
                self.sampling.greedy = not self.sampling.greedy
                self.say("(greedy)" if self.sampling.greedy else "(sampling)")
            elif word == "len":
                n = int(arg)
                if not 1 <= n <= 100_000:
                    raise SeqlmError("the length must be between 1 and 100,000.")
                self.length = n
                self.say(f"(length {n})")
            elif word == "seed":
                self.seed = int(arg)
                if self.gen is not None:
                    self.gen.set_seed(self.seed)
                self.say(f"(seed {self.seed})")
            elif word == "probs":
                self.show_probs = not self.show_probs
                self.query_one("#prompt-probs").display = self.show_probs
                self.say("(next-token probabilities shown)" if self.show_probs else "(probabilities hidden)")
                self._update_probs()
            else:
                self.say(f"unknown command /{printable(word)}; /help lists the commands.")
            if self.gen is not None:
                self.gen.sampling = self.sampling
        except ValueError:
            self.say(f"/{printable(word)} needs a number, not {printable(arg)!r}.")
        except SeqlmError as err:
            self.say(str(err))

    def _update_probs(self, top=None) -> None:
        """The odds panel follows the generator: ``top`` comes with each streamed token; without it the
        current state's odds are read here (after a prompt, a reset, on opening the panel)."""
        if not self.show_probs:
            return
        panel = self.query_one("#prompt-probs", Bars)
        self.odds_k = panel.rows if panel.content_size.height else self.odds_k
        if top is None:
            top = self.gen.top(self.odds_k) if self.gen is not None and not self.replaced else []
        panel.show(top)

    def on_resize(self) -> None:
        if self.show_probs:
            self.call_after_refresh(self._update_probs)

    # -- prompts -------------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.transcript.follow()  # the user is waiting for the answer: the end comes back into view
        if self.busy:  # finish (cut short) the running continuation first: it owns the generator's state
            self._queued.append(event.value)
            self.action_stop_stream()
            return
        self.handle(event.value)

    def handle(self, line: str) -> None:
        if line.startswith("/"):
            self.command(line.strip())
        else:
            self.submit(line)

    def action_scroll_transcript(self, where: int) -> None:
        """-1 / 1: a page up or down; -2 / 2: the top or the end."""
        log = self.transcript
        {-1: log.scroll_page_up, 1: log.scroll_page_down, -2: log.scroll_home, 2: log.follow}[where](
            **({} if where == 2 else {"animate": False}))

    def action_stop_stream(self) -> None:
        """Cut the continuation short. Its thread stops before the next token; everything it generated up
        to there is on screen before the mark that says it was stopped, and nothing of it comes later."""
        self._stop.set()

    def _sep(self, vocab) -> str:
        return " " if vocab.kind == "numbers" else ""

    def _context_text(self, vocab) -> str:
        text = self._sep(vocab).join(self.context)
        if len(text) > MAX_CONTEXT:
            text = text[-MAX_CONTEXT:]
            if vocab.kind == "numbers":
                text = text.partition(" ")[2]  # not half a number
        return text

    def conversation(self) -> str:
        """What the model has read and written since the last /reset (the Insight views can read it)."""
        return self._context_text(self.gen.vocab) if self.gen is not None else ""

    def submit(self, prompt: str) -> None:
        src: Source = self.source()
        if src.tag is None:
            self.say("no model yet: train one (s) or load a checkpoint first.")
            return
        replay, fresh = "", src.tag != self.tag or self.gen is None
        if fresh and self.gen is not None:
            # Said before the reply: whether the conversation goes on with these weights or starts afresh.
            if src.tag[0] == self.tag[0] and not self.replaced:
                replay = self._context_text(src.vocab) if self.context else ""
                if replay:
                    self.say("(newer weights of the same run: the conversation so far is replayed into them)")
            else:
                self.context, self.ended_item, self.item = [], False, ""
                self.say(f"(another model, {src.title}: a fresh conversation starts here)")
        self.replaced = False
        self.transcript.begin(prompt)
        self.updates = 0
        self.job += 1
        self._stop, self._slots = threading.Event(), threading.Semaphore(IN_FLIGHT)
        new_item = not self.context or (self.ended_item and src.vocab.boundary is not None)
        self.exchanges = [*self.exchanges[-99:], Exchange(prompt, fresh=new_item, serial=src.tag[0],
                                                          step=src.tag[1])]
        self.stream(self.job, self._stop, self._slots, src, fresh, prompt, replay)

    @work(thread=True, group="generate", exit_on_error=False)
    def stream(self, job: int, stop: threading.Event, slots: threading.Semaphore, src: Source, fresh: bool,
               prompt: str, replay: str) -> None:
        """One continuation. It always ends with one ``GenDone``, also when it fails; a prompt's problem (a
        character the model does not know, nothing to continue from) is said in the transcript, where the
        user is looking."""
        done = GenDone(job)
        try:
            self._stream(job, stop, slots, src, fresh, prompt, replay, done)
        except SeqlmError as err:
            done.error = str(err)
        finally:
            self.post_message(done)

    def _stream(self, job, stop, slots, src: Source, fresh: bool, prompt: str, replay: str, done: GenDone) -> None:
        cancel = get_current_worker().cancelled_event  # quitting cancels every worker

        def stopped() -> bool:
            return stop.is_set() or cancel.is_set()

        vocab = src.vocab
        reset = False  # the generator starts from nothing: what it saw before is gone
        if fresh:
            gen = Generator(src.snapshot(), vocab, self.sampling, seed=self.seed)
            reset = True
            if replay:
                try:
                    gen.feed(replay)
                    reset = False
                except SeqlmError:
                    done.note = "(the conversation could not be replayed into them: state reset)"
            self.gen, self.tag, self.item = gen, src.tag, ""
            if self.novelty_of != src.tag[0]:  # once per run: it reads every item of the data
                self.novelty, self.novelty_of = (src.novelty() if src.novelty is not None else None), src.tag[0]
        gen = self.gen
        gen.sampling = self.sampling
        if self.ended_item and vocab.boundary is not None:
            gen.reset()  # the last item is complete: what follows starts a new one from its start state
            reset, self.item = True, ""
        if reset:
            self.post_message(GenToken(job, "", reset=True))
        gen.feed(prompt)
        if not gen.ready:
            raise SeqlmError("type a prompt first: this model needs at least one token to continue from.")
        self.post_message(GenToken(job, "", gen.top(self.odds_k) if self.show_probs else None, fed=prompt))
        self.item += prompt
        tokens, tok = gen.stream(self.length), None
        for i in range(self.length):
            # The screen keeps up (at most IN_FLIGHT tokens ahead of it), and the stop is looked at before
            # the next token is drawn: after a stop the state holds exactly what the transcript shows.
            while not slots.acquire(timeout=0.05) and not stopped():
                pass
            if stopped():
                done.stopped = True
                break
            nxt = next(tokens, None)  # None: the stream ended (after the boundary, an item's end)
            if nxt is None:
                break
            tok = nxt
            text = "" if tok == vocab.boundary else render(vocab, [tok], first=not prompt and i == 0)
            self.item += text
            self.post_message(GenToken(job, text, gen.top(self.odds_k) if self.show_probs else None))
            if self.delay:
                stop.wait(self.delay)
        done.boundary = vocab.boundary is not None and tok == vocab.boundary
        if done.boundary and self.novelty is not None:
            where = self.novelty.where(self.item)
            done.note = (done.note + " " if done.note else "") + (
                "(new: not in the data)" if where == NEW else f"({where})")

    def on_gen_token(self, msg: GenToken) -> None:
        """The context (what the generator has seen, for a replay) is kept here, on the interface's thread,
        from what the worker reports it did, in order."""
        msg.stop()
        if msg.job != self.job:
            return
        if msg.reset:
            self.context, self.ended_item = [], False
        if msg.fed:
            self.context.append(msg.fed)
        if msg.fed is None and not msg.reset:
            self._slots.release()  # a drawn token (the boundary's text is empty)
        if msg.text:
            self.transcript.append(msg.text)
            self.exchanges[-1].answer += msg.text
            self.context.append(msg.text.strip() if self._sep(self.gen.vocab) else msg.text)
            self.updates += 1  # each token is its own update of the transcript: the continuation grows
            if len(self.context) > 2 * MAX_CONTEXT:
                self.context = [self._context_text(self.gen.vocab)]
        if msg.probs is not None:
            self._update_probs(msg.probs)

    def on_gen_done(self, msg: GenDone) -> None:
        msg.stop()
        if msg.job != self.job:
            return
        self.answered += 1
        self.transcript.end(stopped=msg.stopped)
        if self.exchanges:
            self.exchanges[-1].done = True
        if msg.boundary:
            self.ended_item = True
        if msg.error:
            self.say(msg.error)
        if msg.note:
            self.say(msg.note)
        self._update_probs()

    def on_worker_state_changed(self, event) -> None:
        # The worker ends after its thread has posted all it had to say (GenDone last): a line typed
        # meanwhile runs now, below the whole of that answer.
        if event.worker.node is not self or event.worker.group != "generate":
            return
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self.call_after_refresh(self._next_queued)

    def _next_queued(self) -> None:
        if self._queued and not self.busy:
            self.handle(self._queued.pop(0))
