"""``seqlm-tui inspect --neurons`` and ``--attention``: the pictures show the model's own numbers, fit the
terminal, read without colour and in ASCII, and a model without such a thing, or a flag that would do
nothing, is refused in one sentence."""

from __future__ import annotations

import json
import re

import pytest
import torch

from seqlm_tui.cli import looks
from seqlm_tui.core import checkpoint, features, neurons
from seqlm_tui.core.fmt import cell_width
from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.core.run import new_run
from seqlm_tui.core.train import Trainer
from tests.cli.conftest import one_sentence

ANSI = re.compile(r"\x1b\[[0-9;]*m")
PROMPT = "the time traveller (for so it will be convenient to speak of him) was expounding a recondite matter"
NAMES = "emma\nolivia\nava\nisabella\nsophia\nmia\ncharlotte\namelia"


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("looks")
    paths = {}
    small = {"steps": 30, "eval_every": 30, "eval_cap": 500}
    for key, preset, model in (
            ("lstm", None, {"model": "lstm", "hidden": 24, "layers": 2}),
            ("gru", None, {"model": "gru", "hidden": 16}),
            ("elman", None, {"model": "elman", "hidden": 16}),
            ("transformer", "names-fast", {"model": "transformer", "emb": 16, "heads": 2, "layers": 2,
                                           "block_size": 8}),
            ("counts", "names-fast", {"model": "bigram-counts"})):
        cfg = config_for(preset, model["model"])
        data = {"dataset": "names", "batch_size": 32} if preset else {"dataset": "timemachine", "batch_size": 8,
                                                                       "num_steps": 16}
        cfg = apply(cfg, {"data": data, "model": model, "train": small if key != "counts" else {}})
        run = new_run(cfg)
        for _ in Trainer(run, sample_count=0).events():
            pass
        paths[key] = checkpoint.save(run, folder / f"{key}.pt")
    torch.set_num_threads(before)
    return paths


def fits(text: str, columns: int) -> bool:
    return all(cell_width(ANSI.sub("", line)) <= columns for line in text.splitlines())


def test_neurons_draws_the_chosen_units_levels_under_the_text(cli, ckpts, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    code, out, err = cli("inspect", "--checkpoint", ckpts["lstm"], "--neurons", "--prompt", PROMPT, "--unit", "7",
                         "--cell", "--layer", "1")
    assert code == 0, err
    assert "LSTM cell c (layer 1), unit 7 of 24" in " ".join(out.split()) and fits(out, 60)
    run = checkpoint.load(ckpts["lstm"])
    reading = neurons.read_neurons(run.model, run.vocab, PROMPT)
    group = neurons.pick_group(reading, cell=True, layer=1)
    want = "".join(neurons.GLYPHS[v + 2] for v in reading.levels(group, 7))
    lines = out.splitlines()
    i = next(k for k, line in enumerate(lines) if line and PROMPT.startswith(line))
    drawn_text, drawn_marks = "", ""
    while drawn_text != PROMPT:  # each text line, and the glyph row under it (as wide as the text, trimmed)
        assert PROMPT.startswith(drawn_text + lines[i]), lines[i]
        drawn_text += lines[i]
        drawn_marks += lines[i + 1].ljust(len(lines[i]))
        i += 2
    assert drawn_text == PROMPT and drawn_marks == want
    assert set(want) - {" "}, "the cell's own scale makes its peaks strong"


def test_find_ranks_units_by_a_feature_and_draws_the_first(cli, ckpts, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    code, out, err = cli("inspect", "--checkpoint", ckpts["gru"], "--neurons", "--prompt", PROMPT, "--find",
                         "word-end", "--json")
    assert code == 0, err
    data = json.loads(out)
    run = checkpoint.load(ckpts["gru"])
    reading = neurons.read_neurons(run.model, run.vocab, PROMPT)
    ranked = features.rank(reading, 0, "word-end")
    assert data["find"]["ranking"][0][0] == ranked[0][0] == data["unit"]
    rs = [abs(r) for _, r in data["find"]["ranking"]]
    assert rs == sorted(rs, reverse=True) and len(rs) == 16
    acts = torch.tensor(data["groups"][0]["activations"])
    assert acts.shape == (len(PROMPT), 16) and torch.allclose(acts, reading.groups[0].values, atol=1e-4)
    assert data["labels"] == list(PROMPT) and data["features"]["quotes"] is None
    code, out, _ = cli("inspect", "--checkpoint", ckpts["gru"], "--neurons", "--prompt", PROMPT, "--find",
                       "word-end", "--guesses")
    assert code == 0 and f" 1. unit {ranked[0][0]:<4} r {ranked[0][1]:+.2f}" in out
    assert "five likeliest next ones" in " ".join(out.split()) and fits(out, 100)


def test_neurons_in_colour_without_colour_and_in_ascii(cli, ckpts, monkeypatch):
    argv = ("inspect", "--checkpoint", ckpts["elman"], "--neurons", "--prompt", PROMPT, "--guesses")
    monkeypatch.setattr(looks, "colour", lambda: True)
    code, coloured, _ = cli(*argv)
    assert code == 0 and ANSI.search(coloured) and not any(g in coloured for g in "▼▽△▲")  # colours, no glyphs
    monkeypatch.setattr(looks, "colour", lambda: False)
    code, plain, _ = cli(*argv)
    assert code == 0 and not ANSI.search(plain) and any(g in plain for g in "▼▽△▲")
    monkeypatch.setenv("TERM", "dumb")
    code, dumb, _ = cli(*argv)
    assert code == 0 and not ANSI.search(dumb) and dumb.isascii() and any(g in dumb for g in "=-+#")


def test_attention_draws_a_causal_windowed_grid_and_the_heads_average(cli, ckpts, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    code, out, err = cli("inspect", "--checkpoint", ckpts["transformer"], "--attention", "--prompt", NAMES,
                         "--layer", "2", "--head", "2")
    assert code == 0, err
    lines = out.splitlines()
    assert "layer 2 head 2" in out and "layer 2, average of 2 heads" in out and fits(out, 100)
    labels = ".emma.olivia.ava.isabella.sophia.mia.charlotte.amelia"
    head = next(i for i, line in enumerate(lines) if line.startswith("layer 2 head 2"))
    assert lines[head + 1].strip().startswith(labels[:20])
    rows = lines[head + 2:head + 2 + len(labels)]
    for q, row in enumerate(rows):  # the head's grid: query q sees keys q-7..q (window 8), nothing else
        cells = row[2:2 + len(labels)].ljust(len(labels))
        seen = [k for k, ch in enumerate(cells) if ch != " "]
        assert seen == list(range(max(0, q - 7), q + 1)), (q, row)
    code, out, _ = cli("inspect", "--checkpoint", ckpts["transformer"], "--attention", "--prompt", NAMES, "--json")
    data = json.loads(out)
    w = torch.tensor(data["weights"])
    assert w.shape == (2, 2, len(labels), len(labels)) and data["window"] == 8
    assert torch.allclose(w.sum(-1), torch.ones(2, 2, len(labels)), atol=1e-3)
    assert len(data["reach"]) == 2 and data["head"] == data["layer"] == 1


@pytest.mark.parametrize("columns", [60, 120])
def test_attention_fits_the_terminal_in_colour_and_ascii(cli, ckpts, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    argv = ("inspect", "--checkpoint", ckpts["transformer"], "--attention", "--prompt", NAMES)
    monkeypatch.setattr(looks, "colour", lambda: True)
    code, coloured, _ = cli(*argv)
    assert code == 0 and "▀" in coloured and fits(coloured, columns)  # two query rows per line
    monkeypatch.setattr(looks, "colour", lambda: False)
    monkeypatch.setenv("TERM", "dumb")
    code, dumb, _ = cli(*argv)
    assert code == 0 and dumb.isascii() and fits(dumb, columns) and any(s in dumb for s in ":+*#")


@pytest.mark.parametrize("model, argv, words", [
    ("counts", ["--neurons", "--prompt", "emma"], "has no hidden units: it maps each character straight"),
    ("transformer", ["--neurons", "--prompt", "emma"], "look at its attention instead"),
    ("lstm", ["--attention", "--prompt", "the time"], "has no attention (only the Transformer has)"),
    ("counts", ["--attention", "--prompt", "emma"], "has no attention; only the Transformer has"),
    ("transformer", ["--attention", "--prompt", "emma", "--layer", "3"], "has 2 layers; there is no layer 3"),
    ("gru", ["--neurons", "--prompt", "the time", "--unit", "16"], "has 16 units, 0 to 15; there is no unit 16"),
    ("gru", ["--neurons", "--prompt", "the time", "--find", "quotes"], "'quotes' (inside double quotes) is the same"),
    ("transformer", ["--attention", "--prompt", "emQa"], "the model does not know 'Q'"),
])
def test_what_cannot_be_drawn_is_one_sentence(cli, ckpts, model, argv, words):
    code, out, err = cli("inspect", "--checkpoint", ckpts[model], *argv)
    assert code == 1 and words in err and one_sentence(err) and out == "", err


@pytest.mark.parametrize("model, argv, words", [
    ("lstm", ["--unit", "3"], "--unit is read only with --neurons"),
    ("lstm", ["--prompt", "the"], "--prompt is read only with --neurons or --attention"),
    ("lstm", ["--neurons", "--prompt", "the", "--head", "1"], "--head is read only with --attention"),
    ("gru", ["--neurons", "--prompt", "the", "--cell"], "--cell is for an LSTM's cell state; the gru model has none"),
    ("elman", ["--neurons", "--prompt", "the", "--layer", "1"], "--layer is not used by the elman model"),
    ("lstm", ["--neurons", "--prompt", "the", "--unit", "1", "--find", "word-end"], "give --unit or --find"),
    ("lstm", ["--neurons", "--attention", "--prompt", "the"], "give --neurons or --attention, not both"),
    ("lstm", ["--neurons", "--prompt", "the", "--embeddings"], "--embeddings does not go with --neurons"),
    ("transformer", ["--attention", "--prompt", "emma", "--guesses"], "--guesses is read only with --neurons"),
    ("lstm", ["--neurons"], "--neurons needs --prompt TEXT"),
])
def test_a_flag_that_would_do_nothing_is_refused(cli, ckpts, model, argv, words):
    code, out, err = cli("inspect", "--checkpoint", ckpts[model], *argv)
    assert code == 2 and words in err and one_sentence(err) and out == "", err
