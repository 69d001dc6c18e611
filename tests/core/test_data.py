"""Datasets: the seed material's numbers, vocabularies, batching, bad files."""

import hashlib

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from core import datafiles, datasets
from core.batches import ItemBatcher, StreamBatcher, WindowBatcher, make_batcher
from core.config import DataConfig
from core.errors import SeqlmError
from core.vocab import Vocab


def test_names_split_sizes_match_makemore(names):
    sizes = [names.splits[k].n_windows(3, names.pad) for k in ("train", "dev", "test")]
    assert sizes == [182_625, 22_655, 22_866]
    assert sum(sizes) == 228_146
    assert len(names.vocab) == 27 and names.vocab.tokens[0] == "." and names.vocab.boundary == 0


def test_names_windows_are_built_like_makemore(names):
    b = WindowBatcher(names.splits["train"], 3, names.pad, 32)
    x, y = b.all()
    first = names.vocab.decode([int(t) for t in y[:20]])
    word = first.split(".")[0]
    # the first name's windows: [0,0,0] -> w[0], [0,0,w0] -> w[1], ... ending with target '.'
    assert x[0].tolist() == [0, 0, 0]
    assert x[1].tolist() == [0, 0, int(y[0])]
    assert int(y[len(word)]) == 0
    assert x[len(word)].tolist() == [names.vocab.stoi[c] for c in ("..." + word)[-3:]]


def test_timemachine_d2l_numbers(timemachine):
    total = sum(s.tokens.numel() for s in timemachine.splits.values())
    assert total == 170_580
    assert len(timemachine.vocab) == 28 and timemachine.vocab.tokens[0] == "<unk>"
    assert timemachine.vocab.tokens[1] == " "  # the most frequent character
    dev = timemachine.splits["dev"].tokens.numel()
    assert dev == total - int(total * 0.9)
    assert "test" not in timemachine.splits


def test_counting_windows():
    ds = datasets.counting()
    assert [ds.splits[k].n_items for k in ("train", "dev", "test")] == [97, 12, 13]
    b = ItemBatcher(ds.splits["train"], 8)
    x, y, fresh = b.next()
    assert x.shape == (8, 6) and y.shape == (8, 6) and fresh
    assert torch.equal(y, x + 1)
    assert torch.equal(x[:, 1:], x[:, :-1] + 1)


def test_numbers_vocab_prompts():
    v = Vocab.numbers(128)
    assert v.encode("7 8 9 10") == [7, 8, 9, 10]
    assert v.decode([11, 12]) == "11 12"
    for bad in ("7 8 x", "200", "-1", "3.5"):
        with pytest.raises(SeqlmError, match="number"):
            v.encode(bad)


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz .,'", max_size=200))
def test_char_vocab_round_trip(text):
    v = Vocab.for_stream({ch: 1 for ch in "abcdefghijklmnopqrstuvwxyz .,'"})
    assert v.decode(v.encode(text)) == text
    if text:
        assert v.encode_tensor(text).tolist() == v.encode(text)


def test_unknown_characters(names, timemachine):
    with pytest.raises(SeqlmError) as err:
        names.vocab.encode("Zoë")
    assert "abcdefghijklmnopqrstuvwxyz" in str(err.value)
    ids = timemachine.vocab.encode("time 9!")
    assert ids[-2:] == [0, 0]  # <unk>


def test_text_file_modes_with_bom_and_crlf(tmp_path):
    lines = [f"item{i}" for i in range(30)]
    p = tmp_path / "lines.txt"
    p.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode())
    ds = datasets.load(DataConfig(dataset="file", file=str(p), mode="lines"))
    assert sum(s.n_items for s in ds.splits.values()) == 30
    assert "\r" not in ds.vocab.tokens and "\ufeff" not in ds.vocab.tokens
    ds = datasets.load(DataConfig(dataset="file", file=str(p), mode="stream"))
    assert "\r" not in ds.vocab.tokens and "\ufeff" not in ds.vocab.tokens
    assert ds.is_stream and ds.vocab.unk == 0


@pytest.mark.parametrize("content, words", [
    (None, "no such file"), (b"", "empty"), (b"  \n\t\n", "empty"), (b"\xff\xfe\x00a", "binary"),
    (b"caf\xe9 au lait\n" * 20, "not UTF-8"), (b"one\ntwo\n", "at least 10"),
])
def test_bad_files_give_one_sentence(tmp_path, content, words):
    p = tmp_path / "bad.txt"
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(SeqlmError) as err:
        datasets.load(DataConfig(dataset="file", file=str(p), mode="lines"))
    msg = str(err.value)
    assert words in msg and "bad.txt" in msg and "\n" not in msg


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(SeqlmError, match="folder"):
        datasets.load(DataConfig(dataset="file", file=str(tmp_path)))


def test_sequential_partition_continues_rows(timemachine):
    b = StreamBatcher(timemachine.splits["train"], 4, 10, "sequential", torch.Generator().manual_seed(0))
    x1, y1, f1 = b.next()
    x2, y2, f2 = b.next()
    assert f1 and not f2
    assert torch.equal(x1[:, 1:], y1[:, :-1])
    assert torch.equal(y1[:, -1], x2[:, 0])  # each row goes on where it stopped
    r = StreamBatcher(timemachine.splits["train"], 4, 10, "random", torch.Generator().manual_seed(0))
    assert all(r.next()[2] for _ in range(3))


def test_batch_too_large_for_stream(timemachine):
    with pytest.raises(SeqlmError, match="batch size"):
        make_batcher(timemachine, "dev", "sequence", 1, 10_000, 35)


def test_large_text_encodes_with_tensor_ops():
    text = ("the quick brown fox jumps over the lazy dog\n" * 120_000)  # ~5 MB
    ds = datasets.stream_dataset(text, "big", "generated")
    assert ds.splits["train"].tokens.dtype == torch.uint8
    assert ds.vocab.decode(ds.splits["train"].tokens[:44].tolist()) == text[:44]


def test_fetch_verifies_checksum(tmp_path):
    src = tmp_path / "src.txt"
    src.write_text("hello names\n")
    good = hashlib.sha256(src.read_bytes()).hexdigest()
    dest = tmp_path / "cache" / "names.txt"
    with pytest.raises(SeqlmError, match="checksum"):
        datafiles.fetch(src.as_uri(), dest, "0" * 64)
    assert not dest.exists() and not list(dest.parent.glob("*.part"))
    assert datafiles.fetch(src.as_uri(), dest, good).read_text() == "hello names\n"


def test_locate_downloads_into_the_cache(tmp_path, monkeypatch):
    src = tmp_path / "names-src.txt"
    src.write_text("\n".join(f"n{i}" for i in range(20)))
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    monkeypatch.setitem(datafiles.KNOWN, "names", datafiles.KnownFile("names.txt", src.as_uri(), sha, 0))
    monkeypatch.setenv("SEQLM_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(datafiles, "cache_dir", lambda: tmp_path / "cache")
    assert datafiles.locate("names") == tmp_path / "cache" / "names.txt"
    # a wrong copy in SEQLM_DATA_DIR is refused with a sentence
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "names.txt").write_text("tampered")
    with pytest.raises(SeqlmError, match="checksum"):
        datafiles.locate("names")


def test_offline_download_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setitem(datafiles.KNOWN, "names",
                        datafiles.KnownFile("names.txt", (tmp_path / "missing").as_uri(), "0" * 64, 0))
    monkeypatch.setenv("SEQLM_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(datafiles, "cache_dir", lambda: tmp_path / "cache")
    with pytest.raises(SeqlmError, match="SEQLM_DATA_DIR"):
        datafiles.locate("names")
