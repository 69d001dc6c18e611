"""What the neuron and attention views share: which text they read, a still copy of the model to read it
with, and how each view tells the app which of its keys apply (see ``tui.actions``: the keys are the
app's, the views answer)."""

from __future__ import annotations

from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.neurons import dev_excerpt
from seqlm_tui.core.run import Run

SOURCES = ("dev", "prompt", "typed")
SOURCE_NAMES = {"dev": "dev excerpt", "prompt": "Prompt conversation", "typed": "typed text"}


def still_model(app, run: Run):
    """(a copy of the run's model in eval mode, its step), taken between two training steps while it trains:
    the same copy the Prompt pane generates with, so the view reads the weights that generate."""
    train = getattr(app, "train", None)
    trainer = getattr(train, "trainer", None)
    if trainer is not None and trainer.run is run:
        with trainer.still():
            return run.snapshot_model(), run.step
    return run.snapshot_model(), run.step


def conversation(app) -> str:
    """The Prompt pane's conversation since its last /reset (prompts and continuations)."""
    prompt = getattr(app, "prompt", None)
    return prompt.conversation() if prompt is not None and prompt.is_mounted else ""


def text_for(source: str, run: Run, typed: str, talk: str, length: int) -> str:
    """The text a view reads (in its worker: the dev excerpt may load the data)."""
    if source == "dev":
        return dev_excerpt(run.ensure_dataset(), run.vocab, length)
    if source == "prompt":
        if not talk.strip():
            raise SeqlmError("the Prompt pane's conversation is empty: talk to the model there (F5), or type "
                             "a text in the box here.")
        return talk
    if not typed.strip():
        raise SeqlmError("type a text in the box first (Enter reads it), or press e for another text.")
    return typed


class LookKeys:
    """Mixed into a view: ``applies(what)`` says whether the app's key ``what`` does something here now
    (the footer shows it then), ``key(what, *args)`` does it."""

    KEYS: tuple[str, ...] = ()

    def applies(self, what: str) -> bool:
        return what in self.KEYS and self.ready_for(what)

    def ready_for(self, what: str) -> bool:
        return True

    def key(self, what: str, *args) -> None:
        getattr(self, f"key_{what}")(*args)
