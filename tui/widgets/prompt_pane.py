"""Prompt: a REPL that streams the model's continuation one token at a time, keeping the state."""

from __future__ import annotations

import textwrap
import threading
import time

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Log, Static

from core.errors import SeqlmError
from core.generate import Generator, Sampling, render
from core.textsafe import printable
from tui.messages import GenText
from tui.widgets.history_input import HistoryInput

HELP = """commands:
  /reset        forget the state (start a new conversation)
  /temp X       sampling temperature (e.g. 0.8)
  /topk K       sample among the K most likely tokens (0: all)
  /greedy       always take the most likely token (again to switch off)
  /len N        tokens to generate per prompt
  /seed S       seed the sampler (reproducible continuations)
  /probs        show or hide the next-token probabilities
  /help         this list
Enter with an empty line continues from the current state."""


def bar_chart(top: list[tuple[str, float]], width: int = 14) -> str:
    lines = ["next token"]
    for tok, p in top:
        shown = printable(tok).replace(" ", "␣").replace("\n", "⏎")[:6]
        lines.append(f"{shown:>6} {'█' * max(0, round(p * width)):<{width}} {p:5.1%}")
    return "\n".join(lines)


class PromptPane(Vertical):
    def __init__(self, source, **kw) -> None:
        """``source()`` returns (model, vocab, tag) for the current model; a new tag means new weights."""
        super().__init__(**kw)
        self.source = source
        self.sampling = Sampling(temperature=1.0)
        self.length = 100
        self.seed: int | None = None
        self.delay = 0.01  # seconds between tokens, so the continuation visibly grows
        self.show_probs = False
        self.gen: Generator | None = None
        self.tag = None
        self._cancel = threading.Event()
        self.busy = False
        self.updates = 0

    def compose(self) -> ComposeResult:
        with Horizontal(id="prompt-body"):
            yield Log(id="prompt-log", highlight=False)
            yield Static("", id="prompt-probs")
        yield HistoryInput(placeholder="type a prompt and press Enter  (/help for commands)", id="prompt-input")

    def on_mount(self) -> None:
        self.query_one("#prompt-probs").display = False
        for line in ("Type a prompt: the model warms up on it, then continues.",
                     "The state carries over to the next prompt until /reset.", "/help lists the commands."):
            self.log_widget.write(line + "\n")

    @property
    def log_widget(self) -> Log:
        return self.query_one("#prompt-log", Log)

    @property
    def text(self) -> str:
        """Everything in the output log (for tests and copy)."""
        return "\n".join(self.log_widget.lines)

    def _fresh_line(self) -> None:
        lines = self.log_widget.lines
        if lines and lines[-1] != "":
            self.log_widget.write("\n")

    def say(self, text: str) -> None:
        """A message of the app's own, wrapped to the log's width (the log does not wrap)."""
        self._fresh_line()
        width = max(20, self.log_widget.scrollable_content_region.width - 1) if self.log_widget.size.width else 60
        lines = []
        for para in printable(text).split("\n"):
            lines.extend(textwrap.wrap(para, width) or [""])
        self.log_widget.write("\n".join(lines) + "\n")

    # -- commands ------------------------------------------------------------------------------
    def command(self, line: str) -> None:
        word, _, arg = line[1:].partition(" ")
        arg = arg.strip()
        try:
            if word == "help":
                for ln in HELP.splitlines():
                    self.say(ln)
            elif word == "reset":
                if self.gen is not None:
                    self.gen.reset()
                self.say("(state reset)")
            elif word == "temp":
                t = float(arg)
                s = Sampling(t, self.sampling.top_k, False)
                s.check()
                self.sampling = s
                self.say(f"(temperature {t:g}, sampling)")
            elif word == "topk":
                k = int(arg)
                s = Sampling(self.sampling.temperature, k, False)
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
        if not self.show_probs:
            return
        if top is None:
            top = self.gen.top(8) if self.gen is not None else []
        self.query_one("#prompt-probs", Static).update(Text(bar_chart(top)))

    # -- prompts -------------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        line = event.value
        box = self.query_one(HistoryInput)
        box.remember(line)
        box.value = ""
        if line.startswith("/"):
            self.command(line.strip())
            return
        self.submit(line)

    def submit(self, prompt: str) -> None:
        if self.busy:
            self._cancel.set()
        model, vocab, tag = self.source()
        if model is None:
            self.say("no model yet: train one (s) or load a checkpoint first.")
            return
        if tag != self.tag or self.gen is None:
            note = "(new weights: state reset)" if self.gen is not None else None
            self.gen = Generator(model, vocab, self.sampling, seed=self.seed)
            self.tag = tag
            if note:
                self.say(note)
        try:
            self.gen.feed(prompt)
        except SeqlmError as err:
            self.say(f"> {prompt}")
            self.say(str(err))
            return
        self._fresh_line()
        self.log_widget.write("> " + printable(prompt))
        self.updates = 0
        self._cancel = threading.Event()
        self.busy = True
        self.stream(self.gen, self.length, self._cancel, first=not prompt)

    @work(thread=True, group="generate")
    def stream(self, gen: Generator, n: int, cancel: threading.Event, first: bool) -> None:
        vocab = gen.vocab
        try:
            for i, tok in enumerate(gen.stream(n)):
                if cancel.is_set():
                    break
                if tok == vocab.boundary:
                    text = ""
                else:
                    text = render(vocab, [tok], first=first and i == 0)
                self.post_message(GenText(printable(text), gen.top(8) if self.show_probs else None))
                if self.delay:
                    time.sleep(self.delay)
        except SeqlmError as err:
            self.post_message(GenText("", done=True, error=str(err)))
            return
        self.post_message(GenText("", done=True))

    def on_gen_text(self, msg: GenText) -> None:
        msg.stop()
        if msg.text:
            self.log_widget.write(msg.text)
            self.updates += 1  # each token is its own update of the log: the continuation grows
        if msg.probs is not None:
            self._update_probs(msg.probs)
        if msg.done:
            self.busy = False
            self.log_widget.write("\n")
            if msg.error:
                self.say(msg.error)
            self._update_probs()
