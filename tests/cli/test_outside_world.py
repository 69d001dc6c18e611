"""A trained run survives whatever the outside world does (issue 21): a closed pipe, a full disk, an
ASCII-only stream, a dumb terminal, a signal in the middle of a save, no terminal at all, a dropped one."""

from __future__ import annotations

import hashlib
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seqlm_tui.core import checkpoint
from tests.cli.conftest import ROOT, one_sentence, proc_env, start

QUICK = ["--preset", "counting-elman", "--steps", "40", "--eval-every", "20"]


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def wait_for(path: Path, proc: subprocess.Popen, what: str, cap_s: float = 120.0) -> None:
    """Until ``path`` exists (the state a test waits for); the cap only keeps a broken build from hanging."""
    end = time.monotonic() + cap_s
    while not path.exists():
        assert proc.poll() is None, f"the command ended before {what}: {proc.communicate()}"
        assert time.monotonic() < end, f"no {what} after {cap_s} s"
        time.sleep(0.02)


# -- 1. the output side fails ------------------------------------------------------------------------


def test_a_reader_that_leaves_costs_nothing_of_the_run(tmp_path):
    """`train ... | head -1` / `| true`: the run trains to its end, is saved, and the exit says output was lost."""
    target = tmp_path / "o" / "p.pt"
    p = start("train", *QUICK, "--save", target)
    p.stdout.close()  # the reader leaves before the first line
    err = p.stderr.read()
    assert p.wait(timeout=300) == 1, err
    assert "standard output was lost (the pipe's reader left)" in err and str(target) in err and one_sentence(err)
    assert checkpoint.load(target).step == 40


def test_a_full_stdout_costs_nothing_of_the_run(tmp_path):
    """`train ... > /dev/full`: not "a bug", and the run is saved."""
    target = tmp_path / "p.pt"
    with open("/dev/full", "w") as full:
        res = subprocess.run([sys.executable, "-m", "seqlm_tui.cli.main", "train", *QUICK, "--save", str(target)],
                             stdout=full, stderr=subprocess.PIPE, text=True, env=proc_env())
    assert res.returncode == 1 and "No space left on device" in res.stderr and "bug" not in res.stderr
    assert one_sentence(res.stderr)
    assert checkpoint.load(target).step == 40


def test_output_only_commands_end_when_their_reader_leaves(ckpt):
    p = start("sample", "--checkpoint", ckpt, "--num", "200")
    p.stdout.close()
    err = p.stderr.read()
    assert p.wait(timeout=120) == 1 and "standard output was lost" in err and one_sentence(err), err


ACCENTS = ["josé", "zoë", "çağla", "naïve", "renée", "émile", "chloé", "maëlle", "björn"]


def test_an_ascii_only_locale_trains_prints_its_samples_and_saves(tmp_path):
    """LC_ALL=C without Python's UTF-8 mode: samples with accents are escaped, the run is saved."""
    data = tmp_path / "accents.txt"
    data.write_text("\n".join(ACCENTS * 20), encoding="utf-8")
    target = tmp_path / "acc.pt"
    env = proc_env(LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    res = subprocess.run([sys.executable, "-m", "seqlm_tui.cli.main", "train", "--file", str(data), "--mode", "lines",
                          "--model", "mlp", "--steps", "60", "--eval-every", "20", "--save", str(target)],
                         capture_output=True, env=env)
    assert res.returncode == 0, res.stderr.decode("ascii", "replace")
    out = res.stdout.decode("ascii")  # nothing but ASCII reached the stream
    assert "\\x" in out and f"saved {target}" in out
    assert checkpoint.load(target).step == 60


def ascii_stdout(monkeypatch):
    """Standard output as an ASCII-only stream (PYTHONIOENCODING=ascii), in this process; returns a function
    that gives what was written. Set in the test itself: pytest puts its capture back at each phase."""
    import io

    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", errors="strict", write_through=True)
    monkeypatch.setattr(sys, "stdout", stream)
    monkeypatch.setenv("COLUMNS", "80")
    return lambda: stream.flush() or raw.getvalue().decode("ascii")  # raises if anything else got through


def test_every_drawing_falls_back_to_ascii(tmp_path, capsys, monkeypatch):
    from seqlm_tui.cli.main import main
    from seqlm_tui.core.presets import apply, config_for
    from seqlm_tui.core.run import new_run
    from seqlm_tui.core.train import train_to_end

    data = tmp_path / "a.txt"
    data.write_text("\n".join(ACCENTS * 20), encoding="utf-8")
    run = new_run(apply(config_for("names-fast"), {"data": {"dataset": "file", "file": str(data)},
                                                   "train": {"steps": 30}}))
    train_to_end(run)
    ckpt = checkpoint.save(run, tmp_path / "acc.pt")
    written = ascii_stdout(monkeypatch)
    for argv in (["inspect", "--checkpoint", ckpt, "--embeddings"],
                 ["sample", "--checkpoint", ckpt, "--num", "10", "--seed", "1"],
                 ["sweep", "--dataset", "counting", "--model", "elman", "--steps", "40"],
                 ["compare", "--dataset", "counting", "--model", "elman", "--lrs", "0.1,1", "--steps", "10"]):
        assert main([str(a) for a in argv]) == 0, capsys.readouterr().err
    text = written()
    assert "+-----" in text and "|" in text  # the frames, in ASCII
    assert "\\x" in text  # an accented label or sample, escaped


def test_a_dumb_terminal_gets_no_cursor_moves_and_no_colour():
    from tests.cli.test_nothing_silent import on_a_terminal

    text = on_a_terminal(["train", *QUICK, "--no-save"], stderr_too=True, TERM="dumb")
    assert "done: 40 steps" in text
    assert "\x1b" not in text and "\r\n" in text and "\r[" not in text


# -- 2. the save itself fails ---------------------------------------------------------------------------


def test_a_full_disk_mid_archive_rescues_the_run_into_the_checkpoint_folder(tmp_path, names_ckpt):
    """torch's archive writer turns the disk's error into 'unexpected pos': it is still a full disk, the old
    file stays, no temp file is left, and the run goes to the checkpoint folder."""
    full, folder = tmp_path / "full", tmp_path / "ck"
    full.mkdir()
    old = full / "old.pt"
    shutil.copy(names_ckpt, old)
    before = digest(old)
    env = proc_env(SEQLM_FAULT="checkpoint.archive:enospc", SEQLM_FAULT_PATH=str(full))
    res = subprocess.run([sys.executable, "-m", "seqlm_tui.cli.main", "train", *QUICK, "--save", str(old),
                          "--checkpoint-dir", str(folder), "--quiet"], capture_output=True, text=True, env=env)
    assert res.returncode == 1, res.stderr
    assert "No space left on device" in res.stderr and "bug" not in res.stderr and one_sentence(res.stderr)
    assert digest(old) == before and sorted(p.name for p in full.iterdir()) == ["old.pt"]
    rescued = list(folder.glob("*.pt"))
    assert len(rescued) == 1 and str(rescued[0]) in res.stderr and checkpoint.load(rescued[0]).step == 40


@pytest.mark.parametrize("sig, code, words", [(15, 143, "stopped by SIGTERM"), (2, 130, "interrupted")])
def test_a_signal_while_the_archive_is_written_ends_the_command_as_a_signal(tmp_path, names_ckpt, sig, code, words):
    target = tmp_path / "old.pt"
    shutil.copy(names_ckpt, target)
    before = digest(target)
    mark = tmp_path / "writing"
    p = start("train", *QUICK, "--save", target, "--quiet",
              env=proc_env(SEQLM_FAULT="checkpoint.archive:wait", SEQLM_FAULT_MARK=str(mark)))
    wait_for(mark, p, "archive being written")
    p.send_signal(sig)
    out, err = p.communicate(timeout=60)
    assert p.returncode == code and words in err and "bug" not in err, err
    assert digest(target) == before and sorted(q.name for q in tmp_path.iterdir()) == ["old.pt", "writing"]


# -- 3. other expected problems -------------------------------------------------------------------------


def test_a_cache_folder_that_cannot_be_made_is_one_sentence(tmp_path):
    from tests.cli.test_work_is_never_lost import DROP, needs_setpriv  # noqa: F401

    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    env = proc_env(XDG_CACHE_HOME=str(locked / "cache"))
    env.pop("SEQLM_DATA_DIR", None)
    res = subprocess.run([*DROP, sys.executable, "-m", "seqlm_tui.cli.main", "train", "--dataset", "names",
                          "--steps", "3", "--no-save"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert res.returncode == 1 and one_sentence(res.stderr), res.stderr
    assert "cannot be written (Permission denied)" in res.stderr and "SEQLM_DATA_DIR" in res.stderr


def test_out_of_memory_is_one_sentence_that_says_what_to_shrink(tmp_path):
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (3_000_000_000, 3_000_000_000))

    res = subprocess.run([sys.executable, "-m", "seqlm_tui.cli.main", "train", "--dataset", "names", "--model",
                          "transformer", "--emb", "1024", "--layers", "2", "--heads", "4", "--block-size", "1024",
                          "--batch-size", "4096", "--steps", "3", "--no-save"], capture_output=True, text=True,
                         env=proc_env(), preexec_fn=limit)
    assert res.returncode == 1 and one_sentence(res.stderr), res.stderr
    assert "out of memory" in res.stderr and "batch size" in res.stderr and "bug" not in res.stderr


def test_the_app_without_a_terminal_refuses_at_once(tmp_path):
    with open(tmp_path / "log", "w") as log:
        res = subprocess.run([sys.executable, "-m", "seqlm_tui.cli.main"], stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.PIPE, text=True, env=proc_env(), timeout=120)
    assert res.returncode == 2 and "needs a terminal" in res.stderr and "train" in res.stderr
    assert one_sentence(res.stderr) and (tmp_path / "log").read_text() == ""


def test_the_signal_handlers_are_in_before_the_heavy_imports():
    """A Ctrl+C while torch loads (the first second or two) ends in the usual line, not a traceback."""
    code = """
import signal, sys
seen = []
class Spy:
    def find_spec(self, name, path=None, target=None):
        if name in ("torch", "seqlm_tui.cli.parser") and not seen:
            seen.append((name, signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)))
sys.meta_path.insert(0, Spy())
from seqlm_tui.cli.main import main
assert not seen, seen  # importing the entry point loads nothing heavy
main(["eval", "--help"])
print(seen[0][0], seen[0][1].__name__, seen[0][2].__name__, file=sys.stderr)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=proc_env())
    assert res.stderr.split()[-2:] == ["on_signal", "on_signal"], res.stderr


def test_a_bare_pickle_is_refused_for_what_it_is(tmp_path, cli):
    import pickle

    for name, obj in (("plain.pt", {"format": "seqlm-tui"}), ("list.pt", [1, 2, 3])):
        path = tmp_path / name
        path.write_bytes(pickle.dumps(obj, protocol=4))
        code, out, err = cli("eval", "--checkpoint", path)
        assert code == 1 and one_sentence(err) and "Warning" not in err, err
        assert "bare Python pickle" in err and "truncated" not in err


# -- 5. flags that keep their promises --------------------------------------------------------------


@pytest.mark.parametrize("argv, words", [
    (["--preset", "counting-elman", "--epochs", "0"], "--epochs must be more than 0"),
    (["--dataset", "file", "--mode", "lines"], "--dataset file needs --file"),
    (["--preset", "counting-elman", "--threads", "100000"], "CPU core"),
])
def test_flags_that_cannot_be_carried_out_are_usage_errors(cli, argv, words):
    code, out, err = cli("train", *argv, "--no-save")
    assert code == 2 and words in err and one_sentence(err) and out == "", err


def test_a_folder_given_as_a_file_is_named_once(cli, tmp_path):
    code, _, err = cli("train", "--file", tmp_path, "--no-save")
    assert code == 1 and f"{tmp_path} is a folder, not a text file." in err and "file file" not in err


def test_a_diverged_run_still_prints_its_json(cli, tmp_path):
    code, out, err = cli("train", "--preset", "names-fast", "--steps", "30", "--lr", "50", "--json",
                         "--save", tmp_path / "d.pt")
    assert code == 1
    result = json.loads(out)
    assert result["diverged"] is True and "learning rate" in result["error"]
    assert result["checkpoint"] == str(tmp_path / "d.pt") and checkpoint.load(result["checkpoint"])
