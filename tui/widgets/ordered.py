"""Text boxes and choice lists that take a burst of keys in the order it was typed.

Textual inserts a typed character in the focused Input's own key handler, but runs its editing keys
(backspace, End, Enter...) as bindings, and a binding runs only once its key has bubbled from the box up
through every container to the app: in the Setup form that is ten queues, each busy with the form's own
work on every change. A character typed right behind a backspace overtook it ("End, backspace, backspace,
3, 2" left "42", or an empty box). Here a box runs its own bindings as each key arrives, in order.

A Select has the same race one level up: the key that opens its menu focuses the menu a turn later, and
the keys already typed behind it (down, Enter) went to the closed Select and were lost.
"""

from __future__ import annotations

from textual import events
from textual.widget import Widget
from textual.widgets import Input, Select
from textual.widgets._select import SelectOverlay


async def run_own_binding(widget: Widget, event: events.Key) -> bool:
    """Run ``widget``'s own binding for this key now (True), or leave the key alone (False)."""
    for key in (event.key, *event.aliases):
        for binding in widget._bindings.key_to_bindings.get(key, ()):
            action = binding.action.split("(")[0]
            if widget.check_action(action, ()) is False:
                continue
            if await widget.app.run_action(binding.action, widget):  # False: skipped (nothing to scroll)
                event.stop()
                event.prevent_default()
                return True
    return False


class OrderedInput(Input):
    async def _on_key(self, event: events.Key) -> None:
        if not event.is_printable and await run_own_binding(self, event):
            self._restart_blink()
            return
        await super()._on_key(event)


class OrderedSelect(Select):
    """The menu opens (and takes the focus) as its key arrives; keys already on their way to the Select
    are run on the menu, in order."""

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self._sent_here: set[int] = set()  # keys forwarded to this Select, not bubbled up from its menu

    def _forward_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._sent_here.add(id(event))
        super()._forward_event(event)

    async def _on_key(self, event: events.Key) -> None:
        if id(event) not in self._sent_here:  # bubbled up from the menu, which has handled it
            await super()._on_key(event)
            return
        self._sent_here.discard(id(event))
        menu = self.query_one(SelectOverlay)
        if self.expanded:
            if not await run_own_binding(menu, event):
                await super()._on_key(event)
        elif await run_own_binding(self, event) and self.expanded:
            self.screen.set_focus(menu, scroll_visible=False)  # now, not a turn later
