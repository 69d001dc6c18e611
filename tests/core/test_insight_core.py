"""Insight: the embedding map, the bigram table, training health, and `seqlm-tui inspect`."""

import json

import pytest
import torch
import torch.nn.functional as F

from seqlm_tui.cli.main import main
from seqlm_tui.core import checkpoint, insight
from seqlm_tui.core import events as ev
from seqlm_tui.core.batches import make_batcher
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.models.bigram import BigramCounts, BigramNeural
from seqlm_tui.core.models.elman import ElmanLM
from seqlm_tui.core.models.mlp import MLP
from seqlm_tui.core.models.recurrent import TorchRNNLM
from seqlm_tui.core.models.transformer import TransformerLM
from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.core.run import new_run
from seqlm_tui.core.train import Trainer
from seqlm_tui.core.vocab import Vocab

LINES = Vocab.for_lines(set("abcdefghij"))                      # "." boundary first
STREAM = Vocab.for_stream({" ": 9, "e": 5, "\n": 3, "\x1b": 1, "a": 2})  # <unk> first


# -- embedding map ------------------------------------------------------------------------------


def test_embedding_map_has_one_printable_label_per_token():
    torch.manual_seed(0)
    for vocab in (LINES, STREAM):
        m = insight.embedding_map(MLP(len(vocab), emb=5, hidden=8), vocab)
        assert len(m.labels) == len(m.x) == len(m.y) == len(vocab)
        assert all(label.isprintable() for label in m.labels)
    assert m.labels == ["<unk>", "␣", "e", "⏎", "a", "\\x1b"]
    assert insight.embedding_map(MLP(len(LINES), emb=5), LINES).labels == list(".abcdefghij")


def test_two_dimensional_embedding_is_drawn_raw():
    torch.manual_seed(1)
    model = MLP(len(LINES), emb=2, hidden=8)
    m = insight.embedding_map(model, LINES)
    assert m.method == "raw 2-D embedding"
    assert m.x == model.C.weight[:, 0].tolist() and m.y == model.C.weight[:, 1].tolist()


def test_pca_recovers_an_embedding_that_lies_in_a_plane():
    torch.manual_seed(2)
    v = len(STREAM)
    plane = torch.randn(v, 2, dtype=torch.float64) * torch.tensor([3.0, 1.0], dtype=torch.float64)
    basis, _ = torch.linalg.qr(torch.randn(16, 2, dtype=torch.float64))  # orthonormal columns in 16-D
    model = TransformerLM(v, emb=16, heads=2, layers=1, block_size=4)
    with torch.no_grad():
        model.tok.weight.copy_(plane @ basis.T + 0.5)  # in a plane, off the origin
    m = insight.embedding_map(model, STREAM)
    assert m.method == "PCA: 2 components, 100% of the variance"
    xy = torch.tensor([m.x, m.y], dtype=torch.float64).T
    # an isometry of the plane: every distance between two characters is kept
    assert torch.allclose(torch.cdist(xy, xy), torch.cdist(plane, plane), atol=1e-4)
    # the first component is the direction of largest spread
    assert xy[:, 0].var() > xy[:, 1].var()


def test_which_models_have_an_embedding():
    v = len(LINES)
    with_one = [MLP(v), ElmanLM(v, one_hot=False), TorchRNNLM(v, cell="lstm", hidden=8, one_hot=False),
                TransformerLM(v, emb=8, heads=2, layers=1, block_size=4)]
    without = [ElmanLM(v), TorchRNNLM(v, cell="gru", hidden=8), BigramCounts(v), BigramNeural(v)]
    assert all(insight.has_embedding(m) for m in with_one)
    assert not any(insight.has_embedding(m) for m in without)
    with pytest.raises(SeqlmError, match="one-hot input off"):
        insight.embedding_map(ElmanLM(v), LINES)


# -- bigram table -------------------------------------------------------------------------------


def _fitted_counts(vocab):
    model = BigramCounts(len(vocab), smoothing=0.5)
    gen = torch.Generator().manual_seed(3)
    x = torch.randint(0, len(vocab), (500, 1), generator=gen)
    model.fit(x, (x[:, 0] * 3 + torch.randint(0, 3, (500,), generator=gen)) % len(vocab))
    return model


@pytest.mark.parametrize("kind", ["counts", "neural"])
def test_bigram_table_is_the_models_own_next_token_distribution(kind):
    torch.manual_seed(4)
    model = _fitted_counts(LINES) if kind == "counts" else BigramNeural(len(LINES))
    table = insight.bigram_table(model, LINES)
    v = len(LINES)
    assert table.labels == list(".abcdefghij") and table.probs.shape == (v, v)
    assert torch.allclose(table.probs.sum(1), torch.ones(v), atol=1e-5)
    with torch.no_grad():
        logits, _ = model(torch.arange(v).unsqueeze(1))  # each token alone: its next-token distribution
    assert torch.allclose(table.probs, F.softmax(logits[:, 0], -1), atol=1e-6)
    if kind == "counts":
        assert torch.equal(table.counts, model.counts) and int(table.counts.sum()) == 500
    else:
        assert table.counts is None


def test_bigram_row_is_sorted_and_knows_its_tokens():
    table = insight.bigram_table(_fitted_counts(STREAM), STREAM)
    row = table.row("e")
    assert [label for label, _ in row] != table.labels  # reordered...
    assert sorted(label for label, _ in row) == sorted(table.labels)
    assert [p for _, p in row] == sorted((p for _, p in row), reverse=True)  # ...most likely first
    assert row[0][1] == pytest.approx(float(table.probs[STREAM.stoi["e"]].max()))
    assert table.row(" ") == table.row("␣") and table.row("\n") == table.row("\\n")
    with pytest.raises(SeqlmError, match="not in the vocabulary"):
        table.row("Q")


def test_bigram_table_needs_a_bigram_model():
    with pytest.raises(SeqlmError, match="needs a bigram model; this is LSTM"):
        insight.bigram_table(TorchRNNLM(len(LINES), cell="lstm", hidden=8), LINES)


# -- health -------------------------------------------------------------------------------------


def test_grad_norms_are_the_norms_of_each_parameters_gradient():
    torch.manual_seed(5)
    model = MLP(len(LINES), emb=4, hidden=16)
    assert insight.health(model, torch.zeros(2, 3, dtype=torch.long), 0).grad_norms == []  # no step yet
    x = torch.randint(0, len(LINES), (32, 3))
    F.cross_entropy(model.batch_logits(x)[0], torch.randint(0, len(LINES), (32,))).backward()
    h = insight.health(model, x, 7)
    assert h.step == 7
    assert [n for n, _ in h.grad_norms] == [n for n, _ in model.named_parameters()]
    for (_, norm), p in zip(h.grad_norms, model.parameters()):
        assert norm == pytest.approx(float(torch.linalg.vector_norm(p.grad)), rel=1e-6)


def _scaled(model, factor):
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(factor)
    return model


def test_saturation_of_tanh_units():
    torch.manual_seed(6)
    v, x = len(LINES), torch.randint(0, len(LINES), (16, 12))
    big, tiny = _scaled(ElmanLM(v, hidden=32), 100.0), _scaled(ElmanLM(v, hidden=32), 1e-3)
    assert insight.health(big, x, 0).saturated > 0.95
    assert insight.health(tiny, x, 0).saturated == 0.0
    windows = torch.randint(0, v, (64, 3))
    assert insight.health(_scaled(MLP(v, emb=4, hidden=32), 100.0), windows, 0).saturated > 0.95
    assert insight.health(_scaled(MLP(v, emb=4, hidden=32), 1e-3), windows, 0).saturated == 0.0
    for cell in ("rnn", "lstm", "gru"):
        s = insight.health(TorchRNNLM(v, cell=cell, hidden=16, layers=2), x, 0).saturated
        assert 0.0 <= s < 0.5
        assert insight.health(_scaled(TorchRNNLM(v, cell=cell, hidden=16), 1e-3), x, 0).saturated == 0.0
    assert insight.health(_scaled(TorchRNNLM(v, cell="rnn", hidden=16), 100.0), x, 0).saturated > 0.9
    # the LSTM's h = o * tanh(c): large weights pin the gates (open for some units, shut for the others),
    # so some units sit at +-1 where the small weights gave none
    assert insight.health(_scaled(TorchRNNLM(v, cell="lstm", hidden=16), 100.0), x, 0).saturated > 0.05
    assert insight.health(TransformerLM(v, emb=8, heads=2, layers=1, block_size=4), x, 0).saturated is None
    assert insight.health(BigramNeural(v), windows[:, -1:], 0).saturated is None
    # between the extremes, the share is the model's own |h| > 0.97, counted here from its tanh units
    mid = _scaled(ElmanLM(v, hidden=32), 3.0)
    with torch.no_grad():
        h = mid.tanh_units(x).reshape(-1, 32)
    expected = (h.abs() > 0.97).float().mean().item()
    assert 0.05 < expected < 0.95 and (h.abs() > 0.5).float().mean().item() > expected + 0.05
    assert insight.health(mid, x, 0).saturated == pytest.approx(expected, abs=1e-6)


def test_saturation_leaves_padding_out():
    torch.manual_seed(7)
    model = _scaled(ElmanLM(len(LINES), hidden=8), 100.0)
    x = torch.randint(1, len(LINES), (4, 6))
    y = torch.full((4, 6), -1)
    y[0, 0] = 1  # one scored position: the share is of its 8 units only
    h = model.tanh_units(x)[0, 0]
    expected = float((h.abs() > insight.SATURATED).float().mean())
    assert insight.health(model, x, 0, y).saturated == pytest.approx(expected)


def test_trainer_reports_health_right_after_each_eval():
    run = new_run(apply(config_for("counting-elman"), {"train": {"steps": 30, "eval_every": 10}}))
    events = list(Trainer(run, sample_count=0).events())
    evals = [i for i, e in enumerate(events) if isinstance(e, ev.Eval)]
    healths = [e for e in events if isinstance(e, ev.Health)]
    assert len(evals) == len(healths) == 3
    assert all(isinstance(events[i + 1], ev.Health) for i in evals)
    assert [h.health.step for h in healths] == [events[i].step for i in evals] == [10, 20, 30]
    # the last report is of the last step's gradients, which are still on the parameters
    last = dict(healths[-1].health.grad_norms)
    for name, p in run.model.named_parameters():
        assert last[name] == pytest.approx(float(p.grad.norm()), rel=1e-6)
    rows = next(iter(make_batcher(run.dataset, "dev", "sequence", 1, 1, 35, "sequential").eval_batches(
        run.cfg.train.eval_cap)))
    assert healths[-1].health.saturated == pytest.approx(insight.saturation(run.model, rows[0][:1024], rows[1][:1024]))


def test_counting_bigram_reports_no_health():
    cfg = apply(config_for("counting-elman"), {"model": {"model": "bigram-counts"}})
    events = list(Trainer(new_run(cfg), sample_count=0).events())
    assert any(isinstance(e, ev.Eval) for e in events)
    assert not any(isinstance(e, ev.Health) for e in events)


# -- seqlm-tui inspect --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory, names):
    folder = tmp_path_factory.mktemp("inspect")
    paths = {}
    for key, model, steps in (("counts", {"model": "bigram-counts"}, 1),
                              ("mlp", {"model": "mlp", "emb": 2, "hidden": 16}, 20)):
        cfg = apply(config_for("names-fast"), {"model": model, "train": {"steps": steps, "eval_every": steps,
                                                                         "eval_cap": 2000}})
        run = new_run(cfg)
        for _ in Trainer(run, sample_count=0).events():
            pass
        paths[key] = checkpoint.save(run, folder / f"{key}.pt")
    return paths


def test_inspect_json_has_the_data(checkpoints, capsys):
    assert main(["inspect", "--checkpoint", str(checkpoints["counts"]), "--row", "q", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    table = data["bigram"]
    assert table["labels"][:3] == [".", "a", "b"] and len(table["probs"]) == 27
    assert all(sum(row) == pytest.approx(1.0, abs=1e-5) for row in table["probs"])
    assert data["row"]["token"] == "q" and data["row"]["next"][0][0] == "u"  # q is mostly followed by u
    assert "embedding" not in data

    assert main(["inspect", "--checkpoint", str(checkpoints["mlp"]), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)["embedding"]
    assert data["method"] == "raw 2-D embedding" and len(data["labels"]) == len(data["x"]) == 27


def test_inspect_draws_the_embedding_and_the_table(checkpoints, capsys):
    assert main(["inspect", "--checkpoint", str(checkpoints["mlp"]), "--embeddings"]) == 0
    text = capsys.readouterr().out
    assert "27 characters; raw 2-D embedding" in text and "\x1b[" not in text  # no colour codes into a pipe
    chart = text.split("27 characters")[0]
    assert sum(ch in chart for ch in "abcdefghijklmnopqrstuvwxyz") >= 20  # the labels are on the chart

    assert main(["inspect", "--checkpoint", str(checkpoints["counts"]), "--bigram"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == list(".abcdefghijklmnopqrstuvwxyz")
    grid = lines[2:29]
    assert [row.split()[0] for row in grid] == list(".abcdefghijklmnopqrstuvwxyz")
    assert all(len(row) == len(grid[0]) for row in grid) and "█" in "".join(grid)

    assert main(["inspect", "--checkpoint", str(checkpoints["counts"]), "--row", "q"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    probs = [float(r.split()[-2]) for r in rows]  # label, bar, probability, count
    assert rows[0].split()[0] == "u" and probs == sorted(probs, reverse=True) and len(rows) == 27


@pytest.mark.parametrize("argv, message", [
    (["--checkpoint", "{mlp}", "--bigram"], "the bigram table needs a bigram model; this is MLP"),
    (["--checkpoint", "{counts}", "--embeddings"], "has no character embedding"),
    (["--checkpoint", "{counts}", "--row", "Q"], "'Q' is not in the vocabulary"),
    (["--checkpoint", "{missing}"], "no such checkpoint"),
])
def test_inspect_errors_are_one_sentence(checkpoints, capsys, tmp_path, argv, message):
    paths = {k: str(v) for k, v in checkpoints.items()} | {"missing": str(tmp_path / "nope.pt")}
    assert main(["inspect", *[a.format(**paths) for a in argv]]) == 1
    captured = capsys.readouterr()
    assert message in captured.err and captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.out == ""
