"""Datasets, vocabularies, text files and batchers, checked against the seed material's own recipes
(makemore's build_dataset, d2l's read_time_machine and partitions) re-implemented here in plain Python."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlm_tui.core import datafiles, datasets
from seqlm_tui.core.batches import ItemBatcher, StreamBatcher, WindowBatcher, make_batcher
from seqlm_tui.core.config import DataConfig
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.vocab import UNK, Vocab, char_counts

SPLITS = ("train", "dev", "test")


def items_of(ds: datasets.Dataset, split: str) -> list[str]:
    """The items of a lines split as text, without their boundary tokens."""
    s = ds.splits[split]
    out = []
    for start, length in zip(s.starts.tolist(), s.lengths.tolist()):
        ids = s.tokens[start:start + length].tolist()
        assert ids[0] == ids[-1] == ds.vocab.boundary
        out.append(ds.vocab.decode(ids[1:-1]))
    return out


def load_file(path, mode: str) -> datasets.Dataset:
    return datasets.load(DataConfig(dataset="file", file=str(path), mode=mode))


# -- names -----------------------------------------------------------------------------------------


def makemore_split(block: int = 3) -> dict[str, tuple[list, list]]:
    """makemore part 2, verbatim in spirit: read, seed 42 shuffle, 80/10/10, left-padded windows."""
    words = open(datafiles.locate("names"), encoding="utf-8").read().splitlines()
    chars = sorted(set("".join(words)))
    stoi = {ch: i + 1 for i, ch in enumerate(chars)}
    stoi["."] = 0
    random.seed(42)
    random.shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))

    def build(ws):
        xs, ys = [], []
        for w in ws:
            context = [0] * block
            for ch in w + ".":
                ix = stoi[ch]
                xs.append(context)
                ys.append(ix)
                context = context[1:] + [ix]
        return xs, ys

    return {"train": build(words[:n1]), "dev": build(words[n1:n2]), "test": build(words[n2:])}


def test_names_window_counts_match_makemore(names):
    sizes = [names.splits[k].n_windows(3, names.pad) for k in SPLITS]
    assert sizes == [182_625, 22_655, 22_866]
    assert sum(sizes) == 228_146
    assert names.vocab.tokens[0] == "." and names.vocab.boundary == 0 == names.pad
    assert "".join(names.vocab.tokens[1:]) == "abcdefghijklmnopqrstuvwxyz"


def test_names_windows_equal_makemores_tensors_exactly(names):
    ref = makemore_split(3)
    for k in SPLITS:
        x, y = WindowBatcher(names.splits[k], 3, names.pad, 32).all()
        assert x.tolist() == ref[k][0], k
        assert y.tolist() == ref[k][1], k


def test_first_windows_of_a_name(names):
    x, y = WindowBatcher(names.splits["train"], 3, names.pad, 32).all()
    word = items_of(names, "train")[0]
    ids = names.vocab.encode(word)
    # makemore: ... -> w0, ..w0 -> w1, .w0w1 -> w2, ..., last window predicts the boundary (0)
    assert x[0].tolist() == [0, 0, 0] and int(y[0]) == ids[0]
    assert x[1].tolist() == [0, 0, ids[0]] and int(y[1]) == ids[1]
    n = len(word)
    assert int(y[n]) == 0
    assert x[n].tolist() == ([0, 0, 0] + ids)[-3:]
    assert x[n + 1].tolist() == [0, 0, 0]  # the next name starts with a fresh context


def test_names_split_has_every_name_once(names):
    words = open(datafiles.locate("names"), encoding="utf-8").read().splitlines()
    got = [w for k in SPLITS for w in items_of(names, k)]
    assert sorted(got) == sorted(words)
    assert [names.splits[k].n_items for k in SPLITS] == [25_626, 3_203, 3_204]


# -- the Time Machine ------------------------------------------------------------------------------


def d2l_corpus() -> str:
    lines = open(datafiles.locate("timemachine"), encoding="utf-8").readlines()
    return "".join(re.sub("[^A-Za-z]+", " ", line).strip().lower() for line in lines)


def test_timemachine_matches_d2l(timemachine):
    corpus = d2l_corpus()
    total = sum(s.tokens.numel() for s in timemachine.splits.values())
    assert total == len(corpus) == 170_580
    assert list(timemachine.splits) == ["train", "dev"]
    v = timemachine.vocab
    assert len(v) == 28 and v.tokens[0] == UNK == "<unk>" and v.unk == 0
    assert set(v.tokens[1:]) == set(corpus)
    counts = [corpus.count(t) for t in v.tokens[1:]]
    assert counts == sorted(counts, reverse=True)  # d2l orders by decreasing frequency
    train, dev = (v.decode(timemachine.splits[k].tokens) for k in ("train", "dev"))
    assert train + dev == corpus
    # dev is the last 10%
    cut = int(0.9 * total)
    assert len(train) == cut and dev == corpus[cut:] and len(dev) == 17_058


# -- counting --------------------------------------------------------------------------------------


def test_counting_windows_and_split():
    ds = datasets.counting()
    assert [ds.splits[k].n_items for k in SPLITS] == [97, 12, 13]
    assert len(ds.vocab) == 128 and ds.vocab.kind == "numbers"
    firsts = []
    for k in SPLITS:
        b = ItemBatcher(ds.splits[k], 4)
        for x, y, fresh in b.eval_batches():
            assert fresh and x.shape[1] == 6 and y.shape[1] == 6
            for row_x, row_y in zip(x.tolist(), y.tolist()):
                i = row_x[0]
                assert row_x == list(range(i, i + 6))
                assert row_y == list(range(i + 1, i + 7))
                firsts.append(i)
    assert sorted(firsts) == list(range(122))  # every window exactly once, splits disjoint
    assert datasets.counting().splits["train"].starts.tolist() == ds.splits["train"].starts.tolist()


# -- vocabularies ----------------------------------------------------------------------------------


def test_number_vocab_round_trip():
    v = Vocab.numbers(128)
    assert v.encode("0 1 2 127") == [0, 1, 2, 127]
    assert v.encode("  7   8\t9 ") == [7, 8, 9]
    assert v.decode([5, 6, 7]) == "5 6 7"
    assert v.decode(torch.tensor([120, 121])) == "120 121"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 127), max_size=50))
def test_number_vocab_round_trip_property(ids):
    v = Vocab.numbers(128)
    assert v.encode(v.decode(ids)) == ids


@pytest.mark.parametrize("prompt", ["7 8 x", "200", "128", "-1", "3.5", "٣"])
def test_counting_prompt_outside_the_vocabulary(prompt):
    with pytest.raises(SeqlmError) as err:
        Vocab.numbers(128).encode(prompt)
    msg = str(err.value)
    assert "\n" not in msg and "0 to 127" in msg


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300)


@settings(max_examples=80, deadline=None)
@given(TEXT)
def test_char_vocab_round_trip_property(text):
    v = Vocab.for_stream(char_counts(text))
    ids = v.encode(text)
    assert 0 not in ids  # every character is known: none maps to <unk>
    assert v.decode(ids) == text
    assert v.encode_tensor(text).tolist() == ids
    lines_text = text.replace("\n", "")
    if lines_text:
        lv = Vocab.for_lines(set(lines_text))
        assert lv.decode(lv.encode(lines_text)) == lines_text
        assert lv.encode_tensor(lines_text).tolist() == lv.encode(lines_text)
        assert lv.tokens[0] not in lines_text  # the boundary never collides with the text


def test_vocab_survives_to_dict(names, timemachine):
    for v in (names.vocab, timemachine.vocab, Vocab.numbers(128)):
        assert Vocab.from_dict(v.to_dict()) == v


def test_unknown_characters_become_unk_in_stream_vocab(timemachine):
    v = timemachine.vocab
    ids = v.encode("time 9!É")
    assert ids[:5] == [v.stoi[c] for c in "time "] and ids[5:] == [0, 0, 0]
    assert v.decode(ids) == "time <unk><unk><unk>"
    assert v.encode_tensor("time 9!É").tolist() == ids


def test_unknown_characters_refused_by_lines_vocab(names):
    with pytest.raises(SeqlmError) as err:
        names.vocab.encode("Zoë\n")
    msg = str(err.value)
    assert "\n" not in msg
    assert "abcdefghijklmnopqrstuvwxyz" in msg  # what the model does know
    assert "Z" in msg and "ë" in msg  # what it does not, as typed
    assert "\\\\" not in msg  # not escaped twice
    with pytest.raises(SeqlmError):
        names.vocab.encode_tensor("anna" * 100_000 + "Z")
    assert names.vocab.encode("anna") == [1, 14, 14, 1]


def test_encode_tensor_on_a_large_text_matches_encode():
    alphabet = list("abcdefghijklmnopqrstuvwxyz .,;'\né—ü") + ["\u4e2d", "\U0001f600", "\t"]
    known = alphabet[:-3]  # the last three are unknown to the vocabulary
    v = Vocab.for_stream({ch: 1 for ch in known})
    g = torch.Generator().manual_seed(0)
    idx = torch.randint(0, len(alphabet), (5_000_000,), generator=g).numpy()
    cps = np.array([ord(c) for c in alphabet], dtype="<u4")[idx]
    text = cps.tobytes().decode("utf-32-le")
    assert len(text) == 5_000_000
    t = v.encode_tensor(text)
    assert t.dtype == torch.uint8 and t.numel() == len(text)
    # every character against a lookup table of the vocabulary's own ids (chunk edges included, wherever)
    ids = np.array([v.stoi.get(c, v.unk) for c in alphabet], dtype=np.uint8)
    assert np.array_equal(t.numpy(), ids[idx])
    assert t[:2000].tolist() == v.encode(text[:2000])


# -- text files ------------------------------------------------------------------------------------


LINES = [f"item {i}" for i in range(30)]


def test_lines_file_with_bom_and_crlf(tmp_path):
    p = tmp_path / "my items.txt"
    p.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(LINES + ["", "  "]).encode("utf-8") + b"\r\n")
    ds = load_file(p, "lines")
    assert ds.name == "my items.txt" and ds.mode == "lines" and not ds.is_stream
    assert [ds.splits[k].n_items for k in SPLITS] == [24, 3, 3]
    assert sorted(w for k in SPLITS for w in items_of(ds, k)) == sorted(LINES)
    assert "\r" not in ds.vocab.tokens and "\ufeff" not in ds.vocab.tokens
    assert ds.vocab.tokens[0] == "." and ds.pad == 0


def test_lines_file_using_dots_gets_a_newline_boundary(tmp_path):
    p = tmp_path / "dots.txt"
    words = [f"st. {c}" for c in "abcdefghij"]  # exactly 10 lines: the smallest lines file
    p.write_text("\n".join(words), encoding="utf-8")
    ds = load_file(p, "lines")
    assert ds.vocab.tokens[0] == "\n" and "." in ds.vocab.tokens
    assert [ds.splits[k].n_items for k in SPLITS] == [8, 1, 1]
    assert sorted(w for k in SPLITS for w in items_of(ds, k)) == words


def test_stream_file_with_bom_and_crlf(tmp_path):
    p = tmp_path / "story.txt"
    text = "\n".join(LINES) + "\n"
    p.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    ds = load_file(p, "stream")
    assert ds.is_stream and ds.mode == "stream" and ds.vocab.unk == 0 and list(ds.splits) == ["train", "dev"]
    assert "\r" not in ds.vocab.tokens and "\ufeff" not in ds.vocab.tokens
    assert ds.vocab.decode(ds.splits["train"].tokens) + ds.vocab.decode(ds.splits["dev"].tokens) == text


BAD_FILES = {
    "missing": None,
    "empty": b"",
    "whitespace": b"  \n\t\r\n   \n",
    "not-utf8": "café au lait\n".encode("latin-1") * 20,
    "nul-bytes": "hello\n".encode("utf-16") * 20,
    "few-lines": b"one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n",
}


REASON = {"missing": "no such file", "empty": "empty", "whitespace": "empty", "not-utf8": "not UTF-8",
          "nul-bytes": "binary", "few-lines": "at least 10", "directory": "folder"}


@pytest.mark.parametrize("kind, mode", [(k, m) for k in [*BAD_FILES, "directory"] for m in ("lines", "stream")
                                         if (k, m) != ("few-lines", "stream")])  # nine lines are a fine stream
def test_bad_file_is_one_sentence_naming_the_file(tmp_path, kind, mode):
    p = tmp_path / f"bad-{kind}.txt"
    if kind == "directory":
        p.mkdir()
    elif BAD_FILES[kind] is not None:
        p.write_bytes(BAD_FILES[kind])
    with pytest.raises(SeqlmError) as err:
        load_file(p, mode)
    msg = str(err.value)
    assert p.name in msg and "\n" not in msg and msg.endswith(".")
    assert REASON[kind] in msg
    if kind == "few-lines":
        assert "stream" in msg  # says what to do instead


def test_short_stream_file_is_refused(tmp_path):
    p = tmp_path / "tiny.txt"
    p.write_text("just a few words", encoding="utf-8")
    with pytest.raises(SeqlmError, match="tiny.txt"):
        load_file(p, "stream")


# -- batchers --------------------------------------------------------------------------------------


def test_window_batcher_shapes_and_rows(names):
    b = WindowBatcher(names.splits["train"], 3, names.pad, 32, torch.Generator().manual_seed(0))
    assert b.eval_targets() == 182_625 and b.steps_per_epoch == 5_708
    windows = {tuple(r) for r in torch.cat([b.all()[0], b.all()[1][:, None]], 1).tolist()}
    for _ in range(3):
        x, y, fresh = b.next()
        assert x.shape == (32, 3) and y.shape == (32,) and fresh
        assert x.dtype == y.dtype == torch.long
        for row in torch.cat([x, y[:, None]], 1).tolist():
            assert tuple(row) in windows
    seen = sum(int(y.numel()) for _, y, _ in b.eval_batches(size=10_000))
    assert seen == 182_625
    assert sum(int(y.numel()) for _, y, _ in b.eval_batches(cap=1000, size=300)) == 1000


def test_window_batcher_on_a_stream(timemachine):
    split = timemachine.splits["dev"]
    b = WindowBatcher(split, 4, timemachine.pad, 8)
    x, y = b.all()
    n = split.tokens.numel()
    assert x.shape == (n - 4, 4) and y.shape == (n - 4,)
    tok = split.tokens.long()
    assert torch.equal(x[:, 0], tok[:n - 4]) and torch.equal(x[:, 3], tok[3:n - 1]) and torch.equal(y, tok[4:])


def test_item_batcher_targets_are_inputs_shifted(names):
    b = ItemBatcher(names.splits["train"], 16, torch.Generator().manual_seed(1))
    words = set(items_of(names, "train"))
    for _ in range(3):
        x, y, fresh = b.next()
        assert fresh and x.shape == y.shape and x.shape[0] == 16
        valid = y >= 0
        assert torch.equal(x[:, 1:][valid[:, :-1]], y[:, :-1][valid[:, :-1]])
        assert bool((x[:, 0] == 0).all())  # every item starts at the boundary
        for row_x, row_y, ok in zip(x.tolist(), y.tolist(), valid.tolist()):
            n = sum(ok)
            assert ok == [True] * n + [False] * (len(ok) - n)  # padding only at the end
            assert row_y[n - 1] == 0  # and ends predicting the boundary
            assert names.vocab.decode(row_x[1:n]) in words
        assert x.shape[1] == int(valid.sum(1).max())  # padded to the longest in the batch


def test_sequential_partition_rows_continue(timemachine):
    corpus = timemachine.splits["train"].tokens
    raw = corpus.numpy().tobytes()
    b = StreamBatcher(timemachine.splits["train"], 16, 35, "sequential", torch.Generator().manual_seed(0))
    k = b.steps_per_epoch
    assert k == ((corpus.numel() - 1 - 35) // 16) // 35
    batches = [b.next() for _ in range(2 * k + 2)]
    assert [f for _, _, f in batches] == [True] + [False] * (k - 1) + [True] + [False] * (k - 1) + [True, False]
    for epoch in (batches[:k], batches[k:2 * k]):
        xs = torch.cat([x for x, _, _ in epoch], 1)
        ys = torch.cat([y for _, y, _ in epoch], 1)
        assert xs.shape == (16, k * 35)
        for x, y, _ in epoch:
            assert x.shape == y.shape == (16, 35)
            assert torch.equal(x[:, 1:], y[:, :-1])
        starts = []
        for r in range(16):
            # row r of batch j+1 continues row r of batch j: the whole row is one slice of the corpus
            at = raw.find(xs[r].to(torch.uint8).numpy().tobytes())
            assert at >= 0
            assert torch.equal(ys[r], corpus[at + 1:at + 1 + k * 35].long())
            starts.append(at)
        stride = starts[1] - starts[0]
        assert stride >= k * 35 and starts == [starts[0] + r * stride for r in range(16)]


def test_random_partition_is_fresh_every_batch(timemachine):
    corpus = timemachine.splits["train"].tokens
    raw = corpus.numpy().tobytes()
    b = StreamBatcher(timemachine.splits["train"], 8, 35, "random", torch.Generator().manual_seed(0))
    first = None
    for _ in range(b.steps_per_epoch + 3):
        x, y, fresh = b.next()
        assert fresh and x.shape == y.shape == (8, 35)
        assert torch.equal(x[:, 1:], y[:, :-1])
        first = x if first is None else first
    for r in range(8):
        rows = torch.cat([x[r], y[r, -1:]]).to(torch.uint8).numpy().tobytes()
        assert raw.find(rows) >= 0
    again = StreamBatcher(timemachine.splits["train"], 8, 35, "random", torch.Generator().manual_seed(0))
    assert torch.equal(again.next()[0], first)  # seeded: reproducible


@pytest.mark.parametrize("partition", ["sequential", "random"])
def test_batch_larger_than_the_split(timemachine, partition):
    n = timemachine.splits["train"].tokens.numel()
    largest = (n - 1 - 35) // 35
    b = make_batcher(timemachine, "train", "sequence", 1, largest, 35, partition, torch.Generator().manual_seed(3))
    for _ in range(5):  # whatever the random offset, a batch can be made
        x, y, _ = b.next()
        assert x.shape == (largest, 35)
    for size in (largest + 1, 100_000):
        with pytest.raises(SeqlmError) as err:
            make_batcher(timemachine, "train", "sequence", 1, size, 35, partition)
        assert "batch size" in str(err.value) and "training split" in str(err.value) and "\n" not in str(err.value)
    # the dev split is only ever evaluated: any batch size and sequence length read it whole
    dev = make_batcher(timemachine, "dev", "sequence", 1, 100_000, 4096, partition)
    assert sum(int((y >= 0).sum()) for _, y, _ in dev.eval_batches()) == dev.eval_targets()


def test_make_batcher_picks_the_kind(names, timemachine):
    assert isinstance(make_batcher(names, "train", "window", 3, 8), WindowBatcher)
    assert isinstance(make_batcher(names, "train", "sequence", 1, 8), ItemBatcher)
    assert isinstance(make_batcher(timemachine, "train", "sequence", 1, 8), StreamBatcher)
    with pytest.raises(SeqlmError, match="test"):
        make_batcher(timemachine, "test", "sequence", 1, 8)
