"""The command line's grammar: one sub-command per job, every flag with a help line and its default."""

from __future__ import annotations

import argparse

from seqlm_tui.cli.flags import APP, add_config_flags
from seqlm_tui.core import __version__
from seqlm_tui.core.checkpoint import KEEP
from seqlm_tui.core.cmdline import TRAIN_ONLY
from seqlm_tui.core.features import FEATURES


class Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults in the help (but not "None" or "False" for an unset flag), and room for the flag names."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, argparse.SUPPRESS) or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _sub(sub, name: str, help: str, description: str | None = None) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help, description=description or help[:1].upper() + help[1:] + ".",
                          formatter_class=Formatter)


def _preset(p: argparse.ArgumentParser, dest: str = "preset") -> None:
    from seqlm_tui.core.presets import PRESETS

    p.add_argument("--preset", dest=dest, choices=list(PRESETS), default=argparse.SUPPRESS,
                   help="start from a named recipe: " + "; ".join(f"{k} ({v[0]})" for k, v in PRESETS.items()))


def _checkpoint_dir(p: argparse.ArgumentParser, dest: str = "checkpoint_dir", default=None) -> None:
    p.add_argument("--checkpoint-dir", dest=dest, default=default, metavar="DIR",
                   help="folder of checkpoints (else $SEQLM_CHECKPOINT_DIR, else ./checkpoints)")


def _checkpoint(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, metavar="FILE", help="checkpoint file to load")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                   help="where the model runs (auto: CUDA when present)")


def _sampling(p: argparse.ArgumentParser, length: int) -> None:
    _checkpoint(p)
    p.add_argument("--greedy", action="store_true", help="always take the most likely token")
    p.add_argument("--temperature", type=float, default=argparse.SUPPRESS,
                   help="below 1 sharper, above 1 more random (default 1; not with --greedy)")
    p.add_argument("--top-k", type=int, default=argparse.SUPPRESS,
                   help="sample among the k most likely tokens (default 0: all; not with --greedy)")
    p.add_argument("--seed", type=int, default=argparse.SUPPRESS,
                   help="seed of the sampler, for a reproducible result (default: a fresh one; not with --greedy)")
    p.add_argument("--length", type=int, default=length, help="at most this many tokens")


def _serve(sub) -> None:
    v = _sub(sub, "serve", "the app in a room's browsers (one app per tab)",
             "Serve the app to browsers: each tab gets its own app process, its own folder in the checkpoint "
             "folder and its last run back after a refresh. --preset and the config flags set the starting setup.")
    v.add_argument("--host", default="127.0.0.1",
                   help="address to listen on; any but a loopback one requires the access token")
    v.add_argument("--port", type=int, default=8000, help="port to listen on (0: a free one)")
    v.add_argument("--max-sessions", type=int, default=None, metavar="N",
                   help="browser sessions at once; the next is told the room is full (default: the CPU count, at "
                   "least 2)")
    v.add_argument("--idle-minutes", type=float, default=30.0, metavar="M",
                   help="a session without a key or click for this long ends (its run is kept)")
    v.add_argument("--public-url", metavar="URL",
                   help="the address students open when a proxy or TLS stands in front (https gives wss)")
    v.add_argument("--token", help="the access token (else $SEQLM_SERVE_TOKEN; else a random one off loopback). "
                   "Given on loopback, it is required there too")
    _preset(v)
    add_config_flags(v)
    _checkpoint_dir(v)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seqlm-tui", formatter_class=Formatter,
                                description="A terminal playground for small sequence language models. "
                                "With no command, opens the app: --preset and the config flags set its starting "
                                "setup (default: counting-watch).")
    p.add_argument("--version", action="version", version=f"seqlm-tui {__version__}")
    _preset(p, dest=APP + "preset")
    add_config_flags(p, prefix=APP)
    _checkpoint_dir(p, dest=APP + "checkpoint_dir", default=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    t = _sub(sub, "train", "train a model headless",
             "Train a model headless. With --resume, --steps is the run's new total and the data and "
             "architecture stay those of the checkpoint.")
    _preset(t)
    add_config_flags(t)
    t.add_argument("--save", metavar="FILE", help="checkpoint file to write, or a folder to write into "
                   "(default: a new file in the checkpoint folder)")
    t.add_argument("--no-save", action="store_true", help="do not write a checkpoint")
    t.add_argument("--keep", choices=KEEP, default=argparse.SUPPRESS,
                   help="which weights the checkpoint keeps: those of the best dev evaluation, or the last step "
                   "(default best)")
    t.add_argument("--resume", metavar="FILE", help="checkpoint to continue training from")
    t.add_argument("--json", action="store_true", help="print the result as one JSON object")
    t.add_argument("--quiet", action="store_true", help="no evaluation lines or samples")
    _checkpoint_dir(t)

    s = _sub(sub, "sweep", "learning-rate range test",
             "Learning-rate range test: one minibatch per rate on an exponential grid, on a fresh model; the "
             "suggestion is fastai's 'valley' rule.")
    _preset(s)
    add_config_flags(s, skip=TRAIN_ONLY | {"lr"})
    s.add_argument("--lr-min", type=float, default=1e-3, help="smallest learning rate tried")
    s.add_argument("--lr-max", type=float, default=1.0, help="largest learning rate tried")
    s.add_argument("--steps", type=int, default=1000, help="learning rates tried (one minibatch each)")
    s.add_argument("--json", action="store_true", help="print the curve and the suggestion as one JSON object")

    g = _sub(sub, "generate", "stream a continuation of a prompt",
             "Stream a continuation of a prompt, one token at a time, the state carried from token to token.")
    _sampling(g, 100)
    g.add_argument("--prompt", default="", help="text to continue (numbers separated by spaces for counting)")

    sa = _sub(sub, "sample", "draw whole items (names) from a checkpoint")
    _sampling(sa, 60)
    sa.add_argument("--num", type=int, default=20, help="how many items")
    sa.add_argument("--json", action="store_true", help="print the items and where each comes from as JSON")

    e = _sub(sub, "eval", "loss and perplexity of a checkpoint on a split")
    _checkpoint(e)
    e.add_argument("--split", default="dev", choices=("train", "dev", "test"), help="which split to score")
    e.add_argument("--file", metavar="PATH", default=None,
                   help="the text file the model was trained on, if it has moved (it must be the same file)")
    e.add_argument("--json", action="store_true", help="print the result as one JSON object")

    i = _sub(sub, "inspect", "look inside a checkpoint: embedding map, bigram table, neurons, attention",
             "Draw a checkpoint's character embedding (the raw 2-D one, or a PCA projection) and, for bigram "
             "models, its table of next-character probabilities; with --neurons, a text coloured by one hidden "
             "unit; with --attention, the Transformer's attention over a text. With no choice, shows the "
             "embedding and the table, where the model has them.")
    i.add_argument("--checkpoint", required=True, metavar="FILE", help="checkpoint file to load")
    i.add_argument("--embeddings", action="store_true", help="the character embedding as a labelled scatter")
    i.add_argument("--bigram", action="store_true", help="the bigram table as a shaded grid")
    i.add_argument("--row", metavar="CH", help="one row of the bigram table, most likely next character first "
                   "(a space may be given as '␣', a newline as '\\n')")
    i.add_argument("--neurons", action="store_true", help="the text of --prompt, each character coloured by one "
                   "hidden unit's activation after reading it (Elman, RNN, LSTM, GRU, MLP)")
    i.add_argument("--attention", action="store_true", help="one head's attention over the text of --prompt as "
                   "a grid (rows: queries, columns: keys), beside the average of its layer's heads (Transformer)")
    i.add_argument("--prompt", metavar="TEXT", help="the text to run through the model (--neurons, --attention)")
    i.add_argument("--unit", type=int, metavar="N", help="the unit to draw, from 0 (--neurons; default: the unit "
                   "that follows one of the features best)")
    i.add_argument("--find", metavar="FEATURE", choices=list(FEATURES),
                   help="rank the units by how strongly they follow a feature of the text and draw the first "
                   "(--neurons): " + "; ".join(f"{f.name} ({f.about})" for f in FEATURES.values()))
    i.add_argument("--cell", action="store_true", help="the LSTM's cell state c instead of its h (--neurons)")
    i.add_argument("--layer", type=int, metavar="L", help="which layer, from 1 (--attention, default 1; --neurons "
                   "with several recurrent layers, default the last)")
    i.add_argument("--head", type=int, metavar="H", help="which head, from 1 (--attention, default 1)")
    i.add_argument("--guesses", action="store_true",
                   help="the model's five likeliest next characters under each character (--neurons)")
    i.add_argument("--against-torch", action="store_true",
                   help="the hand-written Elman RNN (or a one-layer torch RNN) against torch.nn.RNN given the same "
                   "weights: the largest difference of their outputs on a dev batch")
    i.add_argument("--json", action="store_true", help="print the data as one JSON object")

    c = _sub(sub, "compare", "train one setup at several learning rates and overlay the dev curves",
             "Train the same setup from the same seed once per learning rate (same initial weights, same "
             "minibatches) and overlay the dev-loss curves.")
    _preset(c)
    add_config_flags(c, skip={"lr", "steps", "epochs", "eval_every"})
    c.add_argument("--lrs", default="0.01,0.1,1", help="learning rates, separated by commas")
    c.add_argument("--steps", type=int, default=1000, help="training steps per rate")
    c.add_argument("--json", action="store_true", help="print the curves as one JSON object")

    m = _sub(sub, "memory", "the memory task: Elman RNN vs LSTM, recall accuracy against length",
             "Train each model on the memory task (recall the first symbol of a random sequence) at each "
             "length, same seed and steps, and print the test accuracy.")
    m.add_argument("--models", default="elman,lstm", help="models, separated by commas")
    m.add_argument("--lengths", default="5,10,20,40", help="sequence lengths, separated by commas")
    m.add_argument("--steps", type=int, default=1000, help="training steps per run")
    m.add_argument("--seed", type=int, default=0, help="seed of every run (same initial weights and batches)")
    m.add_argument("--hidden", type=int, default=64, help="hidden size")
    m.add_argument("--lr", type=float, default=0.003, help="Adam learning rate")
    m.add_argument("--batch-size", type=int, default=64, help="sequences per minibatch")
    m.add_argument("--json", action="store_true", help="print the results as one JSON object")

    _serve(sub)
    le = _sub(sub, "learn", "the guided lessons: the app, opened on a lesson (your place is kept)",
              "Open the app on the guided lessons: a lesson by number or name, or where you stand. Each step is "
              "done in the app and checked there; progress is kept in your user state folder.")
    le.add_argument("lesson", nargs="?", default="", help="a lesson's number or name (default: where you stand)")
    le.add_argument("--list", action="store_true", help="list the lessons and your progress, and exit")

    from seqlm_tui.cli.bench.suite import ITEMS

    b = _sub(sub, "bench", "the performance suite (ratios measured side by side, never pass/fail)")
    b.add_argument("--quick", action="store_true", help="smaller runs (a few minutes)")
    b.add_argument("--json", action="store_true", help="print the rows as JSON")
    b.add_argument("--only", nargs="+", metavar="ITEM", choices=list(ITEMS),
                   help="run only these items: " + ", ".join(ITEMS))
    b.add_argument("--plot", action="store_true",
                   help="after the table, the names frontier as a chart: test loss against seconds, ours and "
                   "makemore's recipe (needs the frontier item)")
    return p
