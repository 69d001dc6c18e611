"""The prompt pane's output: a scrolling transcript whose last block grows token by token.

Each exchange (a prompt and its continuation) and each message is its own block, so a streamed token
re-wraps one block, not the whole log. Everything is plain ``rich.text.Text``: model output is never
parsed as markup.

A conversation reads at a glance: what the user typed is bold (and in the accent colour where there is
colour), a mark stands where the model takes over, and the model's words are plain. Bold against plain and
the mark survive NO_COLOR, 16 colours and ASCII terminals. The view stays anchored to the end (Textual's
anchor: every layout keeps the last line in view, also for output that arrives while the pane is hidden)
until the user scrolls up; scrolling back to the end, or typing a prompt, anchors it again.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from seqlm_tui.core.textsafe import printable

MAX_BLOCKS = 500      # older blocks are dropped: the transcript's memory stays bounded
MAX_BLOCK_CHARS = 4000  # a very long continuation goes on in a new block (re-wrapping stays cheap)
MARK = "▸"            # where the model's continuation starts (the ASCII filter draws it as "|")
STOPPED = " (stopped)"


class Transcript(VerticalScroll, can_focus=False):
    COMPONENT_CLASSES = {"transcript--prompt", "transcript--model", "transcript--mark"}
    DEFAULT_CSS = """
    Transcript > .transcript--prompt { text-style: bold; color: $text-accent; }
    Transcript > .transcript--model { color: $text; }
    Transcript > .transcript--mark { color: $text-accent; }
    Transcript > #transcript-rest { height: 1fr; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._text: Text | None = None   # the growing block
        self._block: Static | None = None
        self._plain: list[str] = []      # the text of every block, for ``plain`` (tests, copy)

    def compose(self):
        # Takes the room the blocks leave, so that a short conversation starts at the top: anchored, Textual
        # scrolls the bottom of the content to the bottom of the view, also when the content is shorter.
        yield Static("", id="transcript-rest")

    def on_mount(self) -> None:
        self.anchor()

    @property
    def plain(self) -> str:
        return "\n".join(self._plain)

    def _style(self, part: str):
        return self.get_component_rich_style(f"transcript--{part}", partial=True)

    def follow(self) -> None:
        """Back to the end and anchored there (the user typed something: the answer is what they want)."""
        self.anchor()

    def _add(self, text: Text, classes: str) -> Static:
        block = Static(text, classes=f"block {classes}", markup=False)
        self.mount(block, before="#transcript-rest")
        self._plain.append(text.plain)
        blocks = self.query(".block")
        if len(blocks) > MAX_BLOCKS:
            blocks.first().remove()
            self._plain.pop(0)
        return block

    def say(self, text: str) -> None:
        """A message of the app's own (not model output)."""
        self._text = self._block = None
        self._add(Text(printable(text)), "note")

    def echo(self, line: str) -> None:
        """A command as typed, so the transcript shows what each answer answers."""
        self._text = self._block = None
        prompt = self._style("prompt")
        self._add(Text.assemble(("> ", prompt), (printable(line), prompt)), "command")

    def begin(self, prompt: str) -> None:
        """A new exchange: the prompt and the mark, then ``append`` adds the continuation as it comes."""
        prompt_style = self._style("prompt")
        self._text = Text.assemble(("> ", prompt_style), (printable(prompt), prompt_style), (MARK, self._style("mark")))
        self._block = self._add(self._text, "exchange")

    def append(self, text: str) -> None:
        if self._text is None or len(self._text) > MAX_BLOCK_CHARS:
            self._text = Text()
            self._block = self._add(self._text, "exchange")
        self._text.append(printable(text), self._style("model"))
        self._plain[-1] = self._text.plain
        self._block.update(self._text.copy())

    def end(self, stopped: bool = False) -> None:
        """The exchange is over; ``stopped`` marks it as cut short (Escape, or a line typed meanwhile)."""
        if stopped and self._text is not None:
            self._text.append(STOPPED, self._style("mark") + Style(italic=True))
            self._plain[-1] = self._text.plain
            self._block.update(self._text.copy())
        self._text = self._block = None
