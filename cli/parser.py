"""The command line's grammar: one sub-command per job, every flag with a help line and its default."""

from __future__ import annotations

import argparse

from seqlm_tui.cli.flags import add_config_flags
from seqlm_tui.core import __version__
from seqlm_tui.core.checkpoint import KEEP
from seqlm_tui.core.cmdline import TRAIN_ONLY


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


def _preset(p: argparse.ArgumentParser) -> None:
    from seqlm_tui.core.presets import PRESETS

    p.add_argument("--preset", choices=list(PRESETS), default=argparse.SUPPRESS,
                   help="start from a named recipe: " + "; ".join(f"{k} ({v[0]})" for k, v in PRESETS.items()))


def _checkpoint_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint-dir", default=None, metavar="DIR",
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seqlm-tui", formatter_class=Formatter,
                                description="A terminal playground for small sequence language models. "
                                "With no command, opens the app.")
    p.add_argument("--version", action="version", version=f"seqlm-tui {__version__}")
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

    i = _sub(sub, "inspect", "look inside a checkpoint: embedding map, bigram table",
             "Draw a checkpoint's character embedding (the raw 2-D one, or a PCA projection) and, for bigram "
             "models, its table of next-character probabilities. With no choice, shows what the model has.")
    i.add_argument("--checkpoint", required=True, metavar="FILE", help="checkpoint file to load")
    i.add_argument("--embeddings", action="store_true", help="the character embedding as a labelled scatter")
    i.add_argument("--bigram", action="store_true", help="the bigram table as a shaded grid")
    i.add_argument("--row", metavar="CH", help="one row of the bigram table, most likely next character first "
                   "(a space may be given as '␣', a newline as '\\n')")
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
    return p
