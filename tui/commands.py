"""Command palette: every action of the actions table, and the presets."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from seqlm_tui.core.presets import PRESETS
from seqlm_tui.tui import actions


class SeqlmCommands(Provider):
    def commands(self):
        app = self.app
        cmds = [(a.palette, partial(app.run_action, a.action), actions.key_text(a)) for a in actions.ACTIONS
                if a.palette]
        for name, (desc, _) in PRESETS.items():
            cmds.append((f"Preset {name}: {desc}", partial(app.apply_preset, name), ""))
        return cmds

    async def discover(self) -> Hits:
        for name, fn, key in self.commands():
            yield DiscoveryHit(name, fn, help=key)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, fn, key in self.commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), fn, help=key)
