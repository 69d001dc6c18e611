"""The model zoo: parameter counts, the hand-written Elman RNN against torch, streaming equals whole
sequences for every model, every trainable model can overfit a batch, the count table, config validation."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import fields, replace

import pytest
import torch
import torch.nn.functional as F

from seqlm_tui.core import config, datafiles
from seqlm_tui.core.batches import WindowBatcher
from seqlm_tui.core.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.models import registry
from seqlm_tui.core.models.elman import ElmanLM, ElmanRNN, copy_weights
from seqlm_tui.core.rules import validate

V = 27


pytestmark = pytest.mark.usefixtures("one_thread")


def build(name: str, **over) -> torch.nn.Module:
    cfg = replace(registry.defaults_for(name), **over)
    return registry.build(cfg, V, 0)


# -- parameter counts ----------------------------------------------------------------------------


@pytest.mark.parametrize("emb, hidden, count", [(2, 100, 3_481), (2, 300, 10_281), (10, 200, 11_897)])
def test_mlp_parameter_counts_of_the_seed(emb, hidden, count):
    model = build("mlp", block_size=3, emb=emb, hidden=hidden)
    assert model.num_params() == count == sum(p.numel() for p in model.parameters())


def test_bigram_parameter_counts():
    assert build("bigram-counts").num_params() == V * V
    assert build("bigram-neural").num_params() == V * V


# -- the hand-written Elman RNN --------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["elman-to-torch", "torch-to-elman"])
@pytest.mark.parametrize("with_h0", [False, True])
def test_elman_equals_torch_rnn(direction, with_h0):
    torch.manual_seed(0)
    mine, ref = ElmanRNN(7, 16), torch.nn.RNN(7, 16, nonlinearity="tanh", batch_first=True)
    if direction == "elman-to-torch":
        copy_weights(mine, ref)
    else:
        copy_weights(ref, mine)
    assert torch.equal(mine.W_hh, ref.weight_hh_l0) and torch.equal(mine.b_ih, ref.bias_ih_l0)
    x1 = torch.randn(3, 11, 7, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    h1 = torch.randn(3, 16, requires_grad=True) if with_h0 else None
    h2 = h1.detach().clone().unsqueeze(0).requires_grad_(True) if with_h0 else None

    out, h = mine(x1, h1)
    rout, rh = ref(x2, h2)
    assert out.shape == rout.shape == (3, 11, 16) and h.shape == (3, 16)
    assert torch.allclose(out, rout, atol=1e-5)
    assert torch.allclose(h, rh[0], atol=1e-5)
    assert torch.equal(out[:, -1], h)

    w_out, w_h = torch.randn(3, 11, 16), torch.randn(3, 16)  # a loss that weighs every output differently
    ((out * w_out).sum() + (h * w_h).sum()).backward()
    ((rout * w_out).sum() + (rh[0] * w_h).sum()).backward()
    for a, b in [("W_ih", "weight_ih_l0"), ("W_hh", "weight_hh_l0"), ("b_ih", "bias_ih_l0"),
                 ("b_hh", "bias_hh_l0")]:
        assert torch.allclose(getattr(mine, a).grad, getattr(ref, b).grad, atol=1e-5), a
    assert torch.allclose(x1.grad, x2.grad, atol=1e-5)
    if with_h0:
        assert torch.allclose(h1.grad, h2.grad[0], atol=1e-5)


def test_elman_weights_start_like_torch():
    torch.manual_seed(0)
    mine = ElmanRNN(5, 64)
    bound = 1 / math.sqrt(64)
    for p in mine.parameters():  # uniform(-1/sqrt(H), 1/sqrt(H)), like nn.RNN
        assert float(p.detach().abs().max()) <= bound and float(p.detach().std()) > bound / 4


def test_elman_lm_one_hot_is_an_rnn_on_one_hot_vectors():
    torch.manual_seed(0)
    lm = ElmanLM(V, hidden=16, one_hot=True)
    ref = torch.nn.RNN(V, 16, batch_first=True)
    copy_weights(lm.rnn, ref)
    x = torch.randint(0, V, (2, 9))
    h0 = torch.randn(2, 16)
    logits, h = lm(x, h0)
    rout, rh = ref(F.one_hot(x, V).float(), h0.unsqueeze(0))
    assert torch.allclose(logits, lm.head(rout), atol=1e-5) and torch.allclose(h, rh[0], atol=1e-5)


# -- streaming equals the whole sequence -----------------------------------------------------------


def variants():
    for name in registry.MODELS:
        yield pytest.param(name, {}, id=name)
    for name in ("elman", "rnn", "lstm", "gru"):
        yield pytest.param(name, {"one_hot": False}, id=f"{name}-embedding")
    yield pytest.param("lstm", {"layers": 2}, id="lstm-2-layers")
    yield pytest.param("transformer", {"block_size": 8, "emb": 32, "layers": 2}, id="transformer-window-8")


def prepared(name: str, over: dict) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build(name, **over).eval()
    if model.trains_by_counting:
        g = torch.Generator().manual_seed(1)
        model.fit(torch.randint(0, V, (2000, 1), generator=g), torch.randint(0, V, (2000,), generator=g))
    return model


def run_in_chunks(model, x, sizes):
    state, outs, t = None, [], 0
    for n in sizes:
        logits, state = model(x[:, t:t + n], state)
        outs.append(logits)
        t += n
    assert t == x.shape[1]
    return torch.cat(outs, 1)


@pytest.mark.parametrize("name, over", list(variants()))
def test_one_token_at_a_time_equals_one_call(name, over):
    model = prepared(name, over)
    window = registry.defaults_for("transformer").block_size
    x2 = torch.randint(0, V, (2, window + 13), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        whole2, _ = model(x2)
        for x in (x2, x2[:1]):  # batch 1 is what generation streams (and takes its own kernels)
            whole, _ = model(x)
            steps = run_in_chunks(model, x, [1] * x.shape[1])
            chunks = run_in_chunks(model, x, [5, 1, window - 2, 3, 6])
            assert whole.shape == (x.shape[0], x.shape[1], V)
            assert torch.allclose(whole, whole2[:x.shape[0]], atol=1e-5)
            assert torch.allclose(whole, steps, atol=1e-5), float((whole - steps).abs().max())
            assert torch.allclose(whole, chunks, atol=1e-5), float((whole - chunks).abs().max())
        assert not torch.allclose(whole[:, 1], whole[:, 2], atol=1e-3)  # the logits do depend on the input
        if model.recurrent or model.context > 1:
            # ... and on the carried state: dropping it changes the answer, so the test above can fail
            forgetful = torch.cat([model(x[:, t:t + 1])[0] for t in range(x.shape[1])], 1)
            assert not torch.allclose(whole, forgetful, atol=1e-3)


@pytest.mark.parametrize("name", [n for n in registry.MODELS if build(n).batch_kind == "window"])
def test_window_models_generate_what_they_were_trained_on(name):
    # Training calls batch_logits on (B, context) windows, generation calls forward on a stream:
    # position t of the stream must be scored exactly like the window that ends at x_t.
    model = prepared(name, {})
    x = torch.randint(1, V, (2, 12), generator=torch.Generator().manual_seed(4))
    c = model.context
    padded = torch.cat([torch.zeros(2, c, dtype=torch.long), x], 1)  # pad 0, as init_state starts
    with torch.no_grad():
        stream, _ = model(x)
        for t in range(x.shape[1]):
            window = padded[:, t + 1:t + 1 + c]
            assert window[:, -1].tolist() == x[:, t].tolist()
            logits, _ = model.batch_logits(window)
            assert torch.allclose(stream[:, t], logits, atol=1e-6), t


def test_transformer_state_is_bounded_by_its_window():
    model = prepared("transformer", {"block_size": 8, "emb": 16, "layers": 2})
    x = torch.randint(0, V, (1, 50), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        _, state = model(x)
        pos, caches = state
        assert pos == 50 and len(caches) == 2
        for k, v, kpos in caches:
            assert k.shape[2] == v.shape[2] == kpos.numel() == 7
            assert kpos.tolist() == list(range(43, 50))
        # each layer looks 7 tokens back, so the last prediction reads exactly the last 2 * 7 + 1 tokens
        last = model(x)[0][:, -1]
        far, near = x.clone(), x.clone()
        far[0, :35] = (far[0, :35] + 1) % V
        near[0, 35] = (near[0, 35] + 1) % V
        assert torch.allclose(last, model(far)[0][:, -1], atol=1e-5)
        assert not torch.allclose(last, model(near)[0][:, -1], atol=1e-4)


# -- every trainable model learns ---------------------------------------------------------------


SMALL = {  # the defaults, made smaller where the defaults would make this slow
    "rnn": {"hidden": 64}, "lstm": {"hidden": 64}, "gru": {"hidden": 64},
    "transformer": {"emb": 32, "layers": 2, "block_size": 16},
}


TRAINABLE = [n for n, spec in registry.MODELS.items() if not spec.trains_by_counting]


def test_only_the_count_table_trains_by_counting():
    assert [n for n in registry.MODELS if n not in TRAINABLE] == ["bigram-counts"]


@pytest.mark.parametrize("name", TRAINABLE)
def test_each_trainable_model_overfits_one_batch(name):
    torch.manual_seed(0)
    model = build(name, **SMALL.get(name, {}))
    assert not model.trains_by_counting
    g = torch.Generator().manual_seed(0)
    if model.batch_kind == "window":
        x = torch.randint(0, V, (64, model.context), generator=g)
        y = (7 * x[:, -1] + 3) % V  # learnable from the last token alone, so every window model can
    else:
        x = torch.randint(0, V, (4, 16), generator=g)
        y = torch.cat([x[:, 1:], torch.randint(0, V, (4, 1), generator=g)], 1)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)

    def loss():
        logits, _ = model.batch_logits(x)
        return F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))

    with torch.no_grad():
        start = float(loss())
    assert start == pytest.approx(math.log(V), rel=0.25)  # starts near chance
    for _ in range(200):
        opt.zero_grad()
        value = loss()
        value.backward()
        opt.step()
    with torch.no_grad():
        end = float(loss())
    assert end < 0.3 * start, (start, end)


# -- the count-based bigram ---------------------------------------------------------------------


def test_bigram_counts_table_equals_a_hand_count(names):
    words = [w for k in ("train",) for w in _items(names, k)]
    hand = Counter()
    for w in words:
        chs = "." + w + "."
        hand.update(zip(chs, chs[1:]))
    model = registry.build(ModelConfig(model="bigram-counts", smoothing=1.0), len(names.vocab))
    x, y = WindowBatcher(names.splits["train"], 1, names.pad, 32).all()
    model.fit(x, y)
    stoi = names.vocab.stoi
    expect = torch.zeros(V, V)
    for (a, b), n in hand.items():
        expect[stoi[a], stoi[b]] = n
    assert torch.equal(model.counts, expect)
    assert int(model.counts.sum()) == 182_625
    model.fit(x, y)  # fitting adds
    assert torch.equal(model.counts, 2 * expect)


def test_bigram_counts_loss_on_names_matches_makemore():
    # makemore's bigram lecture: counts over all names, add-one smoothing, mean NLL over all 228,146 bigrams
    words = open(datafiles.locate("names"), encoding="utf-8").read().splitlines()
    from seqlm_tui.core import datasets

    ds = datasets.load(DataConfig(dataset="names"))
    model = registry.build(ModelConfig(model="bigram-counts", smoothing=1.0), V)
    xs, ys = zip(*(WindowBatcher(s, 1, ds.pad, 32).all() for s in ds.splits.values()))
    x, y = torch.cat(xs), torch.cat(ys)
    model.fit(x, y)
    nll = -model.batch_logits(x)[0].double().gather(1, y[:, None]).mean()
    hand = Counter()
    for w in words:
        hand.update(zip("." + w, w + "."))
    rows = Counter()
    for (a, _), n in hand.items():
        rows[a] += n
    ref = -sum(n * math.log((n + 1) / (rows[a] + V)) for (a, _), n in hand.items()) / sum(hand.values())
    assert float(nll) == pytest.approx(ref, abs=1e-4)
    assert ref == pytest.approx(2.4546, abs=1e-4)
    assert torch.allclose(model.probs().sum(1), torch.ones(V))


def test_bigram_counts_without_smoothing():
    model = registry.build(ModelConfig(model="bigram-counts", smoothing=0.0), 4)
    model.fit(torch.tensor([[0], [0], [0], [1]]), torch.tensor([1, 1, 2, 3]))
    p = model.probs()
    assert p[0].tolist() == pytest.approx([0, 2 / 3, 1 / 3, 0]) and p[1].tolist() == [0, 0, 0, 1]
    # contexts never seen (2 and 3) have no counts to normalise: uniform, not 0/0 = NaN
    assert not p.isnan().any()
    assert p[3].tolist() == [0.25] * 4
    logits, _ = model(torch.tensor([[3, 2]]))
    assert torch.isfinite(logits).all()
    smoothed = registry.build(ModelConfig(model="bigram-counts", smoothing=1.0), 4)
    smoothed.counts.copy_(model.counts)
    assert smoothed.probs()[0].tolist() == pytest.approx([1 / 7, 3 / 7, 2 / 7, 1 / 7])


def _items(ds, split):
    s = ds.splits[split]
    return [ds.vocab.decode(s.tokens[a + 1:a + n - 1].tolist()) for a, n in zip(s.starts.tolist(), s.lengths.tolist())]


# -- defaults and validation ----------------------------------------------------------------------


def test_defaults_for_gives_each_models_own_defaults():
    expect = {
        "bigram-counts": {"smoothing": 1.0},
        "mlp": {"block_size": 3, "emb": 10, "hidden": 200},
        "elman": {"hidden": 32, "one_hot": True},
        "rnn": {"hidden": 256, "layers": 1, "one_hot": True},
        "lstm": {"hidden": 256, "layers": 1},
        "gru": {"hidden": 256, "layers": 1},
        "transformer": {"emb": 64, "heads": 4, "layers": 4, "block_size": 32, "dropout": 0.0},
    }
    for name in registry.MODELS:
        cfg = registry.defaults_for(name)
        assert isinstance(cfg, ModelConfig) and cfg.model == name
        for k, v in expect.get(name, {}).items():
            assert getattr(cfg, k) == v, (name, k)
        validate(RunConfig(model=cfg))
        model = registry.build(cfg, V)
        assert model.num_params() > 0
    a = registry.defaults_for("mlp")
    a.hidden = 7
    assert registry.defaults_for("mlp").hidden == 200  # a fresh config every time
    assert registry.defaults_for("transformer").block_size == 32 != registry.defaults_for("mlp").block_size
    with pytest.raises(SeqlmError, match="unknown model"):
        registry.defaults_for("gpt-5")


def test_built_models_use_their_config():
    assert build("lstm", hidden=48, layers=2).rnn.num_layers == 2
    assert build("lstm", hidden=48).rnn.hidden_size == 48
    assert build("mlp", block_size=5).context == 5
    assert build("transformer", layers=3).context == 32 and len(build("transformer", layers=3).blocks) == 3


def test_validate_accepts_the_defaults():
    cfg = RunConfig()
    assert validate(cfg) is cfg
    for dataset in ("counting", "names", "timemachine"):
        validate(RunConfig(data=DataConfig(dataset=dataset)))
    validate(RunConfig(data=DataConfig(dataset="file", file="x.txt")))


BAD = [
    ("train", "lr", float("nan")), ("train", "lr", float("inf")), ("train", "lr", -float("inf")),
    ("train", "lr", -0.1), ("train", "lr", 0.0),
    ("model", "hidden", 0), ("model", "hidden", -5), ("model", "hidden", float("nan")),
    ("model", "emb", 0), ("model", "layers", 0), ("model", "block_size", 0), ("model", "hidden", 10**9),
    ("data", "batch_size", 0), ("data", "batch_size", -3), ("data", "num_steps", 0),
    ("train", "steps", 0), ("train", "momentum", float("nan")), ("train", "clip", float("inf")),
    ("train", "weight_decay", -1.0), ("model", "dropout", 1.0), ("model", "smoothing", -1.0),
    ("train", "optimizer", "rmsprop"), ("data", "dataset", "wikipedia"), ("model", "model", "gpt"),
]


@pytest.mark.parametrize("section, name, value", BAD, ids=[f"{s}.{n}={v}" for s, n, v in BAD])
def test_validate_rejects_bad_values(section, name, value):
    cfg = RunConfig()
    setattr(getattr(cfg, section), name, value)
    with pytest.raises(SeqlmError) as err:
        validate(cfg)
    msg = str(err.value)
    assert "\n" not in msg and msg.endswith(".")
    assert config.label(config.field_spec(section, name)) in msg  # it says which value is wrong


def test_validate_checks_every_numeric_field():
    # no field is left out of validation: each numeric one refuses NaN
    for section, kind in (("data", DataConfig), ("model", ModelConfig), ("train", TrainConfig)):
        for f in fields(kind):
            if type(f.default) in (int, float):
                cfg = RunConfig()
                setattr(getattr(cfg, section), f.name, float("nan"))
                with pytest.raises(SeqlmError):
                    validate(cfg)


def test_dataset_file_needs_a_path():
    with pytest.raises(SeqlmError, match="file"):
        validate(RunConfig(data=DataConfig(dataset="file", file="  ")))


@pytest.mark.parametrize("emb, heads, words", [(30, 4, "divisible"), (64, 3, "divisible"), (12, 4, "even")])
def test_transformer_refuses_heads_that_do_not_fit(emb, heads, words):
    cfg = replace(registry.defaults_for("transformer"), emb=emb, heads=heads)
    with pytest.raises(SeqlmError, match=words):
        validate(RunConfig(model=cfg))
    with pytest.raises(SeqlmError, match=words):
        registry.build(cfg, V)
    # the same sizes are fine for a model that has no heads
    validate(RunConfig(model=replace(registry.defaults_for("mlp"), emb=emb, heads=heads)))
