"""The attention view's numbers: the explicit softmax(QK^T / sqrt(d)) path gives the fast path's outputs
on every layer (whole text and streamed with the cache), and its weights are a causal, windowed
distribution per query."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from seqlm_tui.core import attention
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.models import registry
from seqlm_tui.core.models.transformer import rotation
from seqlm_tui.core.neurons import prepare
from seqlm_tui.core.vocab import Vocab

VOCAB = Vocab.for_lines(set("abcdefghijklmnopqrstuvwxyz"))
TEXT = "emma\nolivia\nava\nisabella\nsophia\nmia"


pytestmark = pytest.mark.usefixtures("one_thread")


def build(window: int = 8, **over):
    torch.manual_seed(0)
    cfg = replace(registry.defaults_for("transformer"), emb=32, heads=4, layers=3, block_size=window, **over)
    return registry.build(cfg, len(VOCAB), 0).eval()


def ids(text: str = TEXT) -> torch.Tensor:
    return torch.tensor([prepare(VOCAB, text)[0]])


@torch.no_grad()
def test_explicit_attention_gives_the_fast_paths_outputs_on_every_layer():
    model = build()
    x = ids()
    pos = torch.arange(x.shape[1])
    h = model.tok(x)
    rot = rotation(pos, 32 // 4, h.dtype)
    for block in model.blocks:
        inp = block.ln1(h)
        fast, fast_cache, none = block.attn(inp, pos, rot, None)
        slow, slow_cache, weights = block.attn(inp, pos, rot, None, explicit=True)
        assert none is None and weights.shape == (1, 4, x.shape[1], x.shape[1])
        assert torch.allclose(fast, slow, atol=1e-5)
        assert all(torch.equal(a, b) for a, b in zip(fast_cache, slow_cache))
        h, _, _ = block(h, pos, rot, None)  # the next layer reads what this one gives
    logits, state = model(x)
    logits2, state2, maps = model.attention_maps(x)
    assert torch.allclose(logits, logits2, atol=1e-5) and state[0] == state2[0] and len(maps) == 3


@torch.no_grad()
def test_explicit_path_streams_with_the_cache_like_the_fast_path():
    model = build()
    x = ids()
    state_fast = state_slow = None
    for i in range(0, x.shape[1], 5):  # pieces, as generation feeds a long prompt
        fast, state_fast = model(x[:, i:i + 5], state_fast)
        slow, state_slow, maps = model.attention_maps(x[:, i:i + 5], state_slow)
        assert torch.allclose(fast, slow, atol=1e-5)
        assert maps[0].shape[-1] == min(i, 7) + x[:, i:i + 5].shape[1]  # the cached keys, then the new ones


def test_rows_are_distributions_that_are_causal_and_zero_outside_the_window():
    model = build(window=8)
    reading = attention.read_attention(model, VOCAB, TEXT)
    n = len(reading)
    assert reading.labels[:6] == list(".emma.") and reading.weights.shape == (3, 4, n, n) and n > 16
    w = reading.weights
    assert torch.allclose(w.sum(-1), torch.ones(3, 4, n), atol=1e-5)
    q, k = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    assert float(w[..., k > q].abs().max()) == 0.0           # no query looks ahead
    assert float(w[..., q - k >= 8].abs().max()) == 0.0      # nor further back than the window
    assert float(w[..., (q - k < 8) & (k <= q)].min()) > 0.0  # and every position inside it has some weight
    assert torch.equal(reading.allowed(), (k <= q) & (q - k < 8))
    grid = reading.grid(0, 1, 10, 20)
    assert [v == attention.MASKED for v in grid[0]] == [not a for a in reading.allowed()[10, 10:20].tolist()]
    avg = reading.matrix(1)
    assert torch.allclose(avg, w[1].mean(0))
    assert 0 < reading.reach(0, 0) < 8


def test_how_far_a_head_is_from_its_layers_average():
    """Total variation between a head's rows and the average's: 0 when the heads agree, 1/2 for two heads
    that look at disjoint keys (each is half its mass from their average)."""
    eye, first = torch.eye(3), torch.zeros(3, 3)
    first[:, 0] = 1.0
    reading = attention.AttentionReading(list("abc"), torch.stack([torch.stack([eye, eye]), torch.stack([eye, first])]),
                                         8, "planted")
    assert reading.apart(0, 0) == reading.apart(0, 1) == 0.0
    # rows 1 and 2 disjoint (itself against the first key), row 0 the same: (0 + 1/2 + 1/2) / 3
    assert reading.apart(1, 0) == pytest.approx(1 / 3) and reading.apart(1, 1) == pytest.approx(1 / 3)


def test_reading_does_not_change_the_model():
    model = build(dropout=0.2).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    attention.read_attention(model, VOCAB, "emma")
    assert model.training and all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_refusals_are_one_sentence():
    lstm = registry.build(registry.defaults_for("lstm"), len(VOCAB), 0)
    with pytest.raises(SeqlmError, match="the LSTM has no attention .only the Transformer has.; look at its hidden"):
        attention.read_attention(lstm, VOCAB, TEXT)
    counts = registry.build(registry.defaults_for("bigram-counts"), len(VOCAB), 0)
    with pytest.raises(SeqlmError, match="has no attention; only the Transformer has"):
        attention.read_attention(counts, VOCAB, TEXT)
    reading = attention.read_attention(build(), VOCAB, "emma")
    with pytest.raises(SeqlmError, match="has 3 layers; there is no layer 4"):
        attention.check_head(reading, 4, 1)
    with pytest.raises(SeqlmError, match="has 4 heads per layer; there is no head 0"):
        attention.check_head(reading, 1, 0)
    assert attention.check_head(reading, None, None) == (0, 0)
    with pytest.raises(SeqlmError, match="reads at most 256"):
        attention.read_attention(build(), VOCAB, "a" * 300)


def test_rope_as_a_complex_product_is_the_pairwise_rotation_checkpoints_were_trained_with():
    """The rotation is computed as a complex product (3x faster); it must stay the interleaved pairwise
    rotation of the first version, or every saved Transformer would read its positions wrong."""
    import math

    from seqlm_tui.core.models.transformer import rope, rotation

    torch.manual_seed(0)
    x = torch.randn(3, 9, 2, 4, 16)  # (B, T, q/k, heads, D)
    pos = torch.arange(100_000, 100_009)  # far into a long session
    inv = 1.0 / (10000 ** (torch.arange(0, 16, 2, dtype=torch.float64) / 16))
    ang = torch.remainder(pos.to(torch.float64).unsqueeze(1) * inv, 2 * math.pi)
    cos, sin = ang.cos().float()[:, None, None, :], ang.sin().float()[:, None, None, :]
    x1, x2 = x[..., 0::2], x[..., 1::2]
    reference = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)
    assert torch.allclose(rope(x, rotation(pos, 16, x.dtype)), reference, atol=1e-6)


def test_the_causal_fast_path_equals_the_masked_one_with_dropout_off():
    from seqlm_tui.core.models.transformer import TransformerLM

    torch.manual_seed(1)
    model = TransformerLM(27, emb=32, heads=4, layers=2, block_size=8).eval()
    x = torch.randint(0, 27, (5, 8))
    fast, _ = model(x)  # whole window, no cache: the causal kernel
    stepped, state = [], None
    for i in range(8):  # one token at a time through the cache: the masked kernel
        out, state = model(x[:, i:i + 1], state)
        stepped.append(out)
    assert torch.allclose(fast, torch.cat(stepped, 1), atol=1e-5)
