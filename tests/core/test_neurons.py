"""The neuron view's numbers: the activations are the model's own (against forward passes with hooks, for
every model kind, the LSTM's cell included), the features, find and the span ranking (a hand-planted quote
unit comes first), and the refusals."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from seqlm_tui.core import features, neurons
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.fmt import cell_width
from seqlm_tui.core.models import registry
from seqlm_tui.core.vocab import Vocab

TEXT = 'he said "go on" and (so) we did. "yes," she said, "at once."\nthen "no" again'
VOCAB = Vocab.for_stream({ch: 1 for ch in set(TEXT)})  # <unk> first, then the characters
NAMES = Vocab.for_lines(set("abcdefghijklmnopqrstuvwxyz"))


pytestmark = pytest.mark.usefixtures("one_thread")


def build(name: str, vocab: Vocab = VOCAB, **over):
    torch.manual_seed(0)
    return registry.build(replace(registry.defaults_for(name), **over), len(vocab), 0).eval()


def ids_of(text: str, vocab: Vocab = VOCAB) -> torch.Tensor:
    return torch.tensor([neurons.prepare(vocab, text)[0]])


def assert_guesses_are_the_outputs(reading, logits: torch.Tensor) -> None:
    """The guesses under the text are the model's own next-character odds (its forward pass)."""
    probs = torch.softmax(logits[0], -1)
    p, _ = torch.topk(probs, neurons.GUESSES, dim=-1)
    shown = torch.tensor([[q for _, q in row] for row in reading.guesses])
    assert torch.allclose(shown, p, atol=1e-5)


# -- the activations are the model's own ---------------------------------------------------------


@pytest.mark.parametrize("name, layers", [("rnn", 1), ("lstm", 1), ("lstm", 2), ("gru", 2)])
def test_recurrent_units_equal_the_state_a_streaming_forward_carries(name, layers):
    """Stepped as generation steps it (one token, the state carried), torch's layer hands out each layer's
    h (and c) after every token: a hook on it sees them, and they are what the reading shows."""
    model = build(name, hidden=24, layers=layers)
    reading = neurons.read_neurons(model, VOCAB, TEXT)
    seen = []
    handle = model.rnn.register_forward_hook(lambda mod, inp, out: seen.append(out[1]))
    x, state, logits = ids_of(TEXT), None, []
    with torch.no_grad():
        for t in range(x.shape[1]):
            out, state = model(x[:, t:t + 1], state)
            logits.append(out)
    handle.remove()
    assert len(seen) == len(reading) == x.shape[1]
    kinds = {(g.kind, g.layer): g.values for g in reading.groups}
    assert set(kinds) == {(k, layer) for layer in range(layers) for k in (("h", "c") if name == "lstm" else ("h",))}
    for t, st in enumerate(seen):
        h, c = st if name == "lstm" else (st, None)
        for layer in range(layers):
            assert torch.allclose(kinds["h", layer][t], h[layer, 0], atol=1e-6)
            if c is not None:
                assert torch.allclose(kinds["c", layer][t], c[layer, 0], atol=1e-6)
    assert_guesses_are_the_outputs(reading, torch.cat(logits, 1))
    # and the whole sequence at once (the training path) gives the same top layer
    with torch.no_grad():
        top, _ = model.rnn(model.inputs(x))
    assert torch.allclose(kinds["h", layers - 1], top[0], atol=1e-5)


def test_elman_units_are_what_its_head_reads():
    model = build("elman", hidden=20)
    reading = neurons.read_neurons(model, VOCAB, TEXT)
    seen = []
    handle = model.head.register_forward_pre_hook(lambda mod, args: seen.append(args[0]))
    with torch.no_grad():
        logits, _ = model(ids_of(TEXT))
    handle.remove()
    assert [(g.kind, g.size) for g in reading.groups] == [("h", 20)]
    assert torch.allclose(reading.groups[0].values, seen[0][0], atol=1e-6)
    assert_guesses_are_the_outputs(reading, logits)


def test_mlp_units_are_its_hidden_layer_on_each_window():
    model = build("mlp", NAMES, block_size=3, emb=4, hidden=30)
    text = "emma\nolivia"
    reading = neurons.read_neurons(model, NAMES, text)
    ids = neurons.prepare(NAMES, text)[0]
    assert reading.labels == list(".emma.olivia") and ids[0] == ids[5] == NAMES.boundary
    padded = [NAMES.boundary] * 3 + ids
    windows = torch.tensor([padded[t + 1:t + 4] for t in range(len(ids))])
    with torch.no_grad():
        hidden = model.tanh_units(windows)  # the units the health view reads, window by window
        logits, _ = model(torch.tensor([ids]))
    assert torch.allclose(reading.groups[0].values, hidden, atol=1e-6)
    assert_guesses_are_the_outputs(reading, logits)


def test_reading_leaves_the_model_as_it_was():
    model = build("lstm", hidden=8, layers=2, dropout=0.5).train()
    neurons.read_neurons(model, VOCAB, "abc")
    assert model.training


@pytest.mark.parametrize("name, words", [
    ("bigram-counts", "has no hidden units: it maps each character straight"),
    ("bigram-neural", "has no hidden units"),
    ("transformer", "look at its attention instead"),
])
def test_a_model_without_units_is_refused_in_one_sentence(name, words):
    with pytest.raises(SeqlmError, match=words):
        neurons.read_neurons(build(name), VOCAB, TEXT)


def test_bad_texts_are_refused_in_one_sentence():
    model = build("elman", NAMES)
    with pytest.raises(SeqlmError, match="no text to read"):
        neurons.read_neurons(model, NAMES, "  \n")
    with pytest.raises(SeqlmError, match="does not know 'Q'"):
        neurons.read_neurons(model, NAMES, "emQa")
    with pytest.raises(SeqlmError, match="reads at most 4,000"):
        neurons.read_neurons(model, NAMES, "a" * 4001)
    # a vocabulary with <unk> reads what it lacks as <unk>, and shows the character typed
    reading = neurons.read_neurons(build("elman"), VOCAB, "hé")
    assert reading.labels == ["h", "é"]


def test_pick_group_names_what_is_missing():
    reading = neurons.read_neurons(build("lstm", hidden=8, layers=2), VOCAB, "abc")
    assert reading.group(neurons.pick_group(reading)).name == "h (layer 2)"
    assert reading.group(neurons.pick_group(reading, cell=True, layer=1)).name == "cell c (layer 1)"
    with pytest.raises(SeqlmError, match="has 2 layers; there is no layer 3"):
        neurons.pick_group(reading, layer=3)
    gru = neurons.read_neurons(build("gru", hidden=8), VOCAB, "abc")
    with pytest.raises(SeqlmError, match="no cell state; only an LSTM has one"):
        neurons.pick_group(gru, cell=True)


def test_levels_and_the_cells_scale():
    assert neurons.levels(torch.tensor([-0.9, -0.3, 0.1, 0.3, 0.9]), 1.0) == [-2, -1, 0, 1, 2]
    reading = neurons.read_neurons(build("lstm", hidden=8), VOCAB, TEXT)
    c = reading.groups[1]
    assert c.kind == "c" and not c.bounded
    assert c.bound(3) == pytest.approx(float(c.values[:, 3].abs().max()))
    assert 2 in [abs(v) for v in reading.levels(1, 3)]  # a cell is drawn on its own scale: its peak is strong


def test_wrap_fits_the_width_and_breaks_after_spaces_and_newlines():
    labels = [neurons.label_of(ch) for ch in "one two three\nfour 世界 five"]
    lines = neurons.wrap(labels, 9)
    texts = ["".join(labels[i] for i in line) for line in lines]
    assert texts == ["one two ", "three⏎", "four ", "世界 five"]  # 世界 takes 4 cells
    assert all(sum(cell_width(labels[i]) for i in line) <= 9 for line in lines)
    assert [i for line in neurons.wrap(labels, 3) for i in line] == list(range(len(labels)))  # hard cuts


# -- features, find and the span -------------------------------------------------------------------


def test_feature_values():
    chars = list('a "b c" (d)e\nfg')
    q = features.values("quotes", chars).tolist()
    assert q == [0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert features.values("parens", chars).tolist() == [0] * 8 + [1, 1, 0, 0, 0, 0, 0]
    assert features.values("line-position", chars).tolist()[-4:] == [12, 0, 1, 2]
    assert features.values("word-position", chars).tolist()[:5] == [1, 0, 0, 1, 0]
    assert features.values("after-space", chars).tolist()[:3] == [0, 1, 0]
    vn = features.values("vowel-next", chars)
    assert vn.tolist()[:-1] == [0] * 10 + [1] + [0] * 3 and math.isnan(vn[-1])
    we = features.values("word-end", chars)
    assert we.tolist()[:4] == [1, 0, 0, 1] and math.isnan(we[-1])
    assert len(features.FEATURES) >= 5


def planted_lstm(unit: int = 5, hidden: int = 16):
    """An LSTM whose unit ``unit`` is wired by hand to flip at every double quote: its input gate opens and
    its forget gate shuts on '"' only, and its candidate is +1 when the unit was off, -1 when it was on."""
    model = build("lstm", hidden=hidden)
    rnn, q = model.rnn, VOCAB.stoi['"']
    with torch.no_grad():
        for k in range(4):  # the gates are stacked: input, forget, candidate, output
            row = k * hidden + unit
            rnn.weight_ih_l0[row].zero_()
            rnn.weight_hh_l0[row].zero_()
            rnn.bias_ih_l0[row] = 0.0
            rnn.bias_hh_l0[row] = 0.0
        rnn.bias_ih_l0[0 * hidden + unit], rnn.weight_ih_l0[0 * hidden + unit, q] = -10.0, 20.0
        rnn.bias_ih_l0[1 * hidden + unit], rnn.weight_ih_l0[1 * hidden + unit, q] = 10.0, -20.0
        rnn.bias_ih_l0[2 * hidden + unit], rnn.weight_hh_l0[2 * hidden + unit, unit] = 3.8, -10.0
        rnn.bias_ih_l0[3 * hidden + unit] = 10.0
    return model


def test_find_puts_a_hand_planted_quote_unit_first():
    reading = neurons.read_neurons(planted_lstm(unit=5), VOCAB, TEXT)
    for group in (0, 1):  # its h and its cell
        ranked = features.rank(reading, group, "quotes")
        assert ranked[0][0] == 5 and ranked[0][1] > 0.8, ranked[:3]
        assert abs(ranked[1][1]) < ranked[0][1] - 0.3  # the random units follow quotes far less
    assert features.rank(reading, 0, "parens")[0][0] != 5  # it follows quotes, not any feature
    assert features.unit_scores(reading, 0, 5)[0][0] == "quotes"


def test_a_span_ranks_the_units_active_inside_it():
    text = 'so we left the house and "went home at once" and then we slept well all night'
    reading = neurons.read_neurons(planted_lstm(unit=5), VOCAB, text)
    start = text.index('"') + 1
    end = text.index('"', start)
    ranked = features.span_rank(reading, 0, start, end)
    assert ranked[0][0] == 5 and ranked[0][1] > 0
    with pytest.raises(SeqlmError, match="select part of the text"):
        features.span_rank(reading, 0, 0, len(reading))


def test_a_feature_the_text_lacks_is_refused():
    reading = neurons.read_neurons(build("elman"), VOCAB, "no quotes here")
    with pytest.raises(SeqlmError, match="'quotes' .* is the same at every position of this text"):
        features.rank(reading, 0, "quotes")
    table = features.score_table(reading)
    assert table["quotes"] == [None] and table["after-space"][0].shape == (32,)
    with pytest.raises(SeqlmError, match="unknown feature 'vowels'"):
        features.get("vowels")


def test_score_history_follows_a_unit_over_evaluations():
    h = features.ScoreHistory()
    for step in (100, 200, 300):
        h.add("text", step, {"quotes": [torch.tensor([0.0, step / 1000])]})
    assert h.of("quotes", 0, 1) == [(100, pytest.approx(0.1)), (200, pytest.approx(0.2)), (300, pytest.approx(0.3))]
    h.add("text", 300, {"quotes": [torch.tensor([0.0, 0.9])]})  # the same step again replaces it
    assert h.of("quotes", 0, 1)[-1] == (300, pytest.approx(0.9)) and len(h.points) == 3
    h.add("another text", 400, {"quotes": [None]})
    assert h.of("quotes", 0, 1) == []
    for step in range(1000):
        h.add("another text", step + 500, {})
    assert len(h.points) <= features.HISTORY_POINTS and h.points[-1][0] == 1499
    assert features.sparkline([0.0, 0.5, 1.0], 10) == "▁▅█"
