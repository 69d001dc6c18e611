"""The footer: the keys that work now, on one line drawn as one piece of text.

Textual's Footer is a widget per key, rebuilt (unmounted, mounted, styled, laid out) every time the
bindings may have changed; a pane switch says so three times. Those rebuilds and the garbage they left were
most of a pane switch's time (p95 about twice a plain Textual app's). This footer gathers the news until
the next frame, compares the keys with those shown and redraws one line if they differ: no widget is made.
It looks like Textual's compact footer (key, word; the palette hint at the right edge) and works the same
with the mouse (a click presses the key, hovering shows its help)."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.reactive import reactive
from textual.widget import Widget


class KeyFooter(Widget, can_focus=False):
    COMPONENT_CLASSES = {"key-footer--key", "key-footer--description", "key-footer--palette"}
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    KeyFooter > .key-footer--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyFooter > .key-footer--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    KeyFooter > .key-footer--palette {
        color: $foreground 20%;
    }
    """

    show_command_palette = reactive(True)

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.keys: tuple = ()  # (key, shown key, description, tooltip) of each key shown, in order
        self.spans: list[tuple[int, int, str, str]] = []  # (start, end, key, tooltip) on the line
        self._asked = False

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self._rebuild_if_changed()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def watch_show_command_palette(self) -> None:
        self.refresh()

    def bindings_changed(self, screen) -> None:
        if self._asked or not self.is_attached or screen is not self.screen:
            return
        self._asked = True
        self.call_after_refresh(self._rebuild_if_changed)

    def _current(self) -> tuple:
        seen, out = set(), []
        for _, b, enabled, tooltip in self.screen.active_bindings.values():
            if b.show and enabled and b.action not in seen:  # an action once, by its first key
                seen.add(b.action)
                out.append((b.key, self.app.get_key_display(b), b.description, tooltip or b.tooltip))
        return tuple(out)

    def _rebuild_if_changed(self) -> None:
        self._asked = False
        keys = self._current()
        if keys != self.keys:
            self.keys = keys
            self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-footer--key", partial=True)
        word_style = self.get_component_rich_style("key-footer--description", partial=True)
        line, spans = Text(no_wrap=True, overflow="crop"), []
        for key, shown, word, tooltip in self.keys:
            start = len(line)
            line.append(shown, key_style)
            line.append(f" {word}", word_style)
            spans.append((start, len(line), key, tooltip))
            line.append(" ")
        line.rstrip()  # the rest of the row is the widget's own blank, as in Textual's footer
        width = self.size.width
        palette = self._palette()
        if palette is not None and width:
            # As Textual's compact footer draws it: a faint bar, the key, the word and one column to spare.
            hint = Text.assemble(("▏", self.get_component_rich_style("key-footer--palette")),
                                 (palette[1], key_style), (f" {palette[2]}", word_style), " ")
            room = max(0, width - hint.cell_len)
            line.truncate(room, pad=True)
            spans = [s for s in spans if s[1] <= room] + [(room, width, palette[0], palette[3])]
            line.append_text(hint)
        self.spans = spans
        return line

    def _palette(self) -> tuple | None:
        if not (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE):
            return None
        found = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if found is None:
            return None
        _, b, _, tooltip = found
        return b.key, self.app.get_key_display(b), b.description, tooltip or b.tooltip

    def _at(self, x: int) -> tuple | None:
        return next((s for s in self.spans if s[0] <= x < s[1]), None)

    def on_click(self, event: events.Click) -> None:
        span = self._at(event.x)
        if span is not None:
            self.app.simulate_key(span[2])

    def on_mouse_move(self, event: events.MouseMove) -> None:
        span = self._at(event.x)
        self.tooltip = span[3] if span is not None and span[3] else None

    @property
    def plain(self) -> str:
        return self.render().plain
