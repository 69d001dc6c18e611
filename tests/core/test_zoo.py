"""The model zoo: parameter counts, Elman == nn.RNN, streaming == whole sequence, each model learns."""

import pytest
import torch
import torch.nn.functional as F

from core.config import ModelConfig, RunConfig, validate
from core.errors import SeqlmError
from core.models import registry
from core.models.elman import ElmanRNN, copy_weights


@pytest.mark.parametrize("emb, hidden, count", [(2, 100, 3_481), (2, 300, 10_281), (10, 200, 11_897)])
def test_mlp_parameter_counts(emb, hidden, count):
    cfg = ModelConfig(model="mlp", block_size=3, emb=emb, hidden=hidden)
    assert registry.build(cfg, 27).num_params() == count


@pytest.mark.parametrize("with_h0", [False, True])
def test_elman_matches_torch_rnn(with_h0):
    torch.manual_seed(0)
    mine, ref = ElmanRNN(7, 16), torch.nn.RNN(7, 16, batch_first=True)
    copy_weights(mine, ref)
    x = torch.randn(3, 11, 7)
    h0 = torch.randn(3, 16) if with_h0 else None
    out, h = mine(x, h0)
    rout, rh = ref(x, None if h0 is None else h0.unsqueeze(0))
    assert torch.allclose(out, rout, atol=1e-5) and torch.allclose(h, rh[0], atol=1e-5)
    out.sum().backward()
    rout.sum().backward()
    assert torch.allclose(mine.W_hh.grad, ref.weight_hh_l0.grad, atol=1e-4)
    assert torch.allclose(mine.W_ih.grad, ref.weight_ih_l0.grad, atol=1e-4)
    # and back the other way
    other = ElmanRNN(7, 16)
    copy_weights(ref, other)
    assert torch.allclose(other(x, h0)[0], rout, atol=1e-5)


def variants():
    for name in registry.MODELS:
        yield name, {}
    for name in ("elman", "rnn", "lstm", "gru"):
        yield name, {"one_hot": False}
    yield "lstm", {"layers": 2}
    yield "transformer", {"block_size": 8, "emb": 32, "layers": 2}


@pytest.mark.parametrize("name, over", list(variants()))
def test_step_by_step_equals_whole_sequence(name, over):
    torch.manual_seed(0)
    cfg = registry.defaults_for(name)
    for k, v in over.items():
        setattr(cfg, k, v)
    model = registry.build(cfg, 27, 0).eval()
    if model.trains_by_counting:
        model.fit(torch.randint(0, 27, (400, 1)), torch.randint(0, 27, (400,)))
    x = torch.randint(0, 27, (2, 50))  # longer than every context window
    with torch.no_grad():
        whole, _ = model(x)
        state, steps = None, []
        for t in range(x.shape[1]):
            logits, state = model(x[:, t:t + 1], state)
            steps.append(logits)
    assert torch.allclose(whole, torch.cat(steps, 1), atol=1e-5)


@pytest.mark.parametrize("name", [n for n in registry.MODELS if n != "bigram-counts"])
def test_each_model_overfits_one_batch(name):
    torch.manual_seed(0)
    cfg = registry.defaults_for(name)
    if name in ("rnn", "lstm", "gru"):
        cfg.hidden = 64
    if name == "transformer":
        cfg.emb, cfg.layers = 32, 2
    model = registry.build(cfg, 20, 0)
    if model.batch_kind == "window":
        x, y = torch.randint(0, 20, (16, model.context)), torch.randint(0, 20, (16,))
    else:
        x = torch.randint(0, 20, (4, 12))
        y = torch.roll(x, -1, 1)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)

    def loss():
        logits, _ = model.batch_logits(x)
        return F.cross_entropy(logits.reshape(-1, 20), y.reshape(-1))

    start = loss().item()
    for _ in range(150):
        opt.zero_grad()
        value = loss()
        value.backward()
        opt.step()
    assert loss().item() < 0.3 * start


def test_bigram_counts_table():
    model = registry.build(ModelConfig(model="bigram-counts", smoothing=0.0), 4)
    x = torch.tensor([[0], [0], [1], [2]])
    y = torch.tensor([1, 1, 2, 3])
    model.fit(x, y)
    expect = torch.zeros(4, 4)
    for a, b in zip(x[:, 0].tolist(), y.tolist(), strict=True):
        expect[a, b] += 1
    assert torch.equal(model.counts, expect)
    assert model.probs()[0, 1] == pytest.approx(1.0)


def test_defaults_and_validation():
    assert registry.defaults_for("mlp").hidden == 200 and registry.defaults_for("rnn").hidden == 256
    validate(RunConfig())
    for section, field, value in [("train", "lr", float("nan")), ("train", "lr", -1.0), ("train", "lr", 0.0),
                                  ("train", "lr", float("inf")), ("model", "hidden", 0), ("data", "batch_size", -3),
                                  ("model", "hidden", 10**9), ("train", "steps", 0)]:
        cfg = RunConfig()
        setattr(getattr(cfg, section), field, value)
        with pytest.raises(SeqlmError):
            validate(cfg)
    cfg = RunConfig()
    cfg.model = registry.defaults_for("transformer")
    cfg.model.heads = 3
    with pytest.raises(SeqlmError, match="divisible"):
        validate(cfg)
