"""The prompt pane's output: a scrolling transcript whose last block grows token by token.

Each exchange (a prompt and its continuation) and each message is its own block, so a streamed token
re-wraps one block, not the whole log. Everything is plain ``rich.text.Text``: model output is never
parsed as markup.
"""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from seqlm_tui.core.textsafe import printable

MAX_BLOCKS = 500      # older blocks are dropped: the transcript's memory stays bounded
MAX_BLOCK_CHARS = 4000  # a very long continuation goes on in a new block (re-wrapping stays cheap)


class Transcript(VerticalScroll, can_focus=False):
    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._text: Text | None = None   # the growing block
        self._block: Static | None = None
        self._plain: list[str] = []      # the text of every block, for ``plain`` (tests, copy)

    @property
    def plain(self) -> str:
        return "\n".join(self._plain)

    def _add(self, text: Text, classes: str) -> Static:
        follow = self.is_vertical_scroll_end or self.max_scroll_y == 0
        block = Static(text, classes=f"block {classes}", markup=False)
        self.mount(block)
        self._plain.append(text.plain)
        blocks = self.query(".block")
        if len(blocks) > MAX_BLOCKS:
            blocks.first().remove()
            self._plain.pop(0)
        if follow:
            self.call_after_refresh(self.scroll_end, animate=False)
        return block

    def say(self, text: str) -> None:
        """A message of the app's own (not model output)."""
        self._text = self._block = None
        self._add(Text(printable(text)), "note")

    def echo(self, line: str) -> None:
        """A command as typed, so the transcript shows what each answer answers."""
        self._text = self._block = None
        self._add(Text("> " + printable(line), style="bold"), "command")

    def begin(self, prompt: str) -> None:
        """A new exchange: the prompt, then ``append`` adds the continuation as it comes."""
        self._text = Text("> ", style="bold")
        self._text.append(printable(prompt), style="bold")
        self._block = self._add(self._text, "exchange")

    def append(self, text: str) -> None:
        if self._text is None or len(self._text) > MAX_BLOCK_CHARS:
            self._text = Text()
            self._block = self._add(self._text, "exchange")
        follow = self.is_vertical_scroll_end or self.max_scroll_y == 0
        self._text.append(printable(text))
        self._plain[-1] = self._text.plain
        self._block.update(self._text.copy())
        if follow:
            self.call_after_refresh(self.scroll_end, animate=False)

    def end(self) -> None:
        self._text = self._block = None
