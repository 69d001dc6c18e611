"""Finding and downloading the known data files, offline: file:// URLs stand in for the canonical ones."""

from __future__ import annotations

import hashlib

import pytest

from seqlm_tui.core import datafiles, datasets
from seqlm_tui.core.config import DataConfig
from seqlm_tui.core.errors import SeqlmError

NAMES = "\n".join(f"name{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(40))


@pytest.fixture
def source(tmp_path):
    """A small names file served from a file:// URL, and its checksum."""
    p = tmp_path / "server" / "names.txt"
    p.parent.mkdir()
    p.write_text(NAMES, encoding="utf-8")
    return p, hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def offline(tmp_path, monkeypatch, source):
    """SEQLM_DATA_DIR is an empty folder, the cache is in tmp, and 'names' is served from ``source``."""
    src, sha = source
    data_dir, cache = tmp_path / "data", tmp_path / "cache"
    data_dir.mkdir()
    monkeypatch.setenv("SEQLM_DATA_DIR", str(data_dir))
    monkeypatch.setattr(datafiles, "cache_dir", lambda: cache)
    monkeypatch.setitem(datafiles.KNOWN, "names",
                        datafiles.KnownFile("names.txt", src.as_uri(), sha, len(NAMES)))
    return data_dir, cache


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_fetch_with_wrong_checksum_leaves_nothing(tmp_path, source):
    src, sha = source
    dest = tmp_path / "cache" / "names.txt"
    with pytest.raises(SeqlmError) as err:
        datafiles.fetch(src.as_uri(), dest, "0" * 64)
    msg = str(err.value)
    assert "checksum" in msg and "names.txt" in msg and "\n" not in msg
    assert not dest.exists()
    assert leftovers(dest.parent) == []  # no .part temp file either


def test_fetch_with_wrong_checksum_keeps_an_existing_file(tmp_path, source):
    src, _ = source
    dest = tmp_path / "cache" / "names.txt"
    dest.parent.mkdir()
    dest.write_text("the old copy", encoding="utf-8")
    with pytest.raises(SeqlmError):
        datafiles.fetch(src.as_uri(), dest, "f" * 64)
    assert dest.read_text(encoding="utf-8") == "the old copy"
    assert leftovers(dest.parent) == ["names.txt"]


def test_fetch_with_right_checksum_writes_the_file(tmp_path, source):
    src, sha = source
    dest = tmp_path / "cache" / "deeper" / "names.txt"
    assert datafiles.fetch(src.as_uri(), dest, sha) == dest
    assert dest.read_bytes() == src.read_bytes()
    assert leftovers(dest.parent) == ["names.txt"]


def test_fetch_of_a_missing_url_says_what_to_do(tmp_path):
    dest = tmp_path / "cache" / "names.txt"
    with pytest.raises(SeqlmError) as err:
        datafiles.fetch((tmp_path / "nowhere.txt").as_uri(), dest, "0" * 64)
    msg = str(err.value)
    assert "could not download names.txt" in msg and "SEQLM_DATA_DIR" in msg and "\n" not in msg
    assert leftovers(dest.parent) == []


def test_locate_downloads_into_the_cache_once(offline, source):
    data_dir, cache = offline
    src, _ = source
    assert not datafiles.is_available("names")
    got = datafiles.locate("names")
    assert got == cache / "names.txt" and got.read_text(encoding="utf-8") == NAMES
    assert leftovers(cache) == ["names.txt"] and leftovers(data_dir) == []
    assert datafiles.is_available("names")
    src.unlink()  # the "server" is gone: the verified cached copy is used, no second download
    assert datafiles.locate("names") == got


def test_locate_replaces_a_damaged_cached_copy(offline):
    _, cache = offline
    cache.mkdir()
    (cache / "names.txt").write_text("truncated", encoding="utf-8")
    assert not datafiles.is_available("names")
    assert datafiles.locate("names").read_text(encoding="utf-8") == NAMES


def test_locate_without_download_refuses(offline):
    with pytest.raises(SeqlmError, match="not downloaded"):
        datafiles.locate("names", download=False)
    assert leftovers(offline[1]) == []


def test_dataset_loads_through_the_download(offline):
    ds = datasets.load(DataConfig(dataset="names"))
    assert sum(s.n_items for s in ds.splits.values()) == 40
    assert ds.source == str(offline[1] / "names.txt")


def test_bad_copy_in_data_dir_gives_a_clear_error(offline):
    data_dir, cache = offline
    bad = data_dir / "names.txt"
    bad.write_text(NAMES + "\nintruder", encoding="utf-8")
    with pytest.raises(SeqlmError) as err:
        datafiles.locate("names")
    msg = str(err.value)
    assert str(bad) in msg and "checksum" in msg and "SEQLM_DATA_DIR" in msg and "\n" not in msg
    assert leftovers(cache) == []  # it did not quietly download around the user's file


def test_good_copy_in_data_dir_is_used_as_is(offline, source):
    data_dir, cache = offline
    (data_dir / "names.txt").write_bytes(source[0].read_bytes())
    assert datafiles.locate("names") == data_dir / "names.txt"
    assert leftovers(cache) == []


def test_shared_data_dir_files_match_the_known_checksums():
    for name, known in datafiles.KNOWN.items():
        p = datafiles.locate(name, download=False)
        assert p.stat().st_size == known.size, name
        assert datafiles.sha256_of(p) == known.sha256, name
