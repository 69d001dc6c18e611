"""Command palette: the app's main actions and the presets."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from core.presets import PRESETS


class SeqlmCommands(Provider):
    def _commands(self):
        app = self.app
        cmds = [
            ("Start / pause / resume training", app.action_start_pause, "s"),
            ("Stop training", app.action_stop, "x"),
            ("New run: a fresh model from Setup", app.action_new_run, "n"),
            ("Run the learning-rate sweep", app.action_sweep, "w"),
            ("Use the suggested learning rate", app.action_use_lr, "u"),
            ("Save a checkpoint", app.action_save, "ctrl+s"),
            ("Load a checkpoint (browser)", partial(app.action_show, "checkpoints"), "f6"),
            ("Toggle log-scale loss axis", app.action_log_y, "l"),
            ("Insight: embeddings, bigram table, health, compare runs, memory task",
             partial(app.action_show, "insight"), "f7"),
            ("Memory task: Elman RNN vs LSTM accuracy against sequence length", app.action_memory, "m"),
            ("Compare learning rates: train the Setup's model at several rates", app.action_lr_compare, "r"),
            ("Help: keys and prompt commands", app.action_help, "f1"),
        ]
        for name, (desc, _) in PRESETS.items():
            cmds.append((f"Preset {name}: {desc}", partial(app.apply_preset, name), ""))
        return cmds

    async def discover(self) -> Hits:
        for name, fn, key in self._commands():
            yield DiscoveryHit(name, fn, help=key)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, fn, key in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), fn, help=key)
