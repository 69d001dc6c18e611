"""Faults and bad inputs, tried for real: kill -9 mid-save, failing disks, Ctrl+C in every command, files
that change while read, hyperparameter corners, big files, and what the program may touch (network, disk)."""

import ast
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch

from seqlm_tui.cli.main import main
from seqlm_tui.core import checkpoint, checkpoint_list, datafiles, datasets
from seqlm_tui.core.config import DataConfig
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.core.run import new_run
from seqlm_tui.core.train import Trainer

ROOT = Path(__file__).resolve().parents[2]
EXE = os.path.join(os.path.dirname(sys.executable), "seqlm-tui")


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_sentence(err: str) -> bool:
    return "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def counting_ckpt(tmp_path_factory):
    run = new_run(apply(config_for("counting-elman"), {"train": {"steps": 50}}))
    for _ in Trainer(run, sample_count=0).events():
        pass
    return checkpoint.save(run, tmp_path_factory.mktemp("ck") / "counting.pt")


# -- kill -9 while a checkpoint is being written: tests/cli/test_work_is_never_lost.py (a fault point in the
# save path stops the writer mid-save, so the kill lands there every time) ---------------------------------


def test_a_save_in_progress_elsewhere_keeps_its_temp_file(tmp_path, counting_ckpt):
    run = checkpoint.load(counting_ckpt)
    live = tmp_path / f".c.pt.{os.getppid()}.abcd.tmp"  # a living process's save in progress
    dead = tmp_path / ".c.pt.999999999.abcd.tmp"
    old_style = tmp_path / ".c.pt.k2j4_x9q.tmp"
    other_name = tmp_path / ".c.pt.old.pt.999999999.abcd.tmp"  # a save of "c.pt.old.pt", not ours
    for p in (live, dead, old_style, other_name):
        p.write_bytes(b"partial")
    checkpoint.save(run, tmp_path / "c.pt")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["c.pt", live.name, other_name.name])


def test_browse_survives_a_file_deleted_while_listing(tmp_path, counting_ckpt, monkeypatch):
    run = checkpoint.load(counting_ckpt)
    for name in ("a.pt", "b.pt"):
        checkpoint.save(run, tmp_path / name)
    real = checkpoint.read_payload

    def read_then_delete(p):
        d = real(p)
        if p.name == "a.pt":
            p.unlink()
        return d

    monkeypatch.setattr(checkpoint, "read_payload", read_then_delete)
    assert {i.path.name for i in checkpoint_list.browse(tmp_path)} == {"a.pt", "b.pt"}


# -- disk full / read-only folder on save -------------------------------------------------------


def test_save_into_a_full_disk_is_one_sentence_and_keeps_the_old_file(tmp_path, counting_ckpt, monkeypatch):
    run = checkpoint.load(counting_ckpt)
    target = checkpoint.save(run, tmp_path / "keep.pt")
    before = target.read_bytes()
    real_fdopen = os.fdopen

    def full_disk(fd, mode="r", *a, **kw):
        # The temp file is really created; every write to it then fails as on a full disk.
        os.close(fd)
        return real_fdopen(os.open("/dev/full", os.O_WRONLY), mode, *a, **kw)

    monkeypatch.setattr(os, "fdopen", full_disk)
    with pytest.raises(SeqlmError) as err:
        checkpoint.save(run, target)
    assert "No space left on device" in str(err.value) and "\n" not in str(err.value)
    assert target.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["keep.pt"]


def unwritable_folder(tmp_path) -> Path:
    """A folder a save cannot write into. chmod 0o555 does not stop root, so as root the folder's
    parent is a regular file instead (mkdir then fails the way a read-only mount does)."""
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        return ro
    (tmp_path / "plainfile").write_text("not a folder")
    return tmp_path / "plainfile" / "ck"


def test_cli_train_save_into_an_unwritable_folder_keeps_the_result(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "checkpoints"
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(folder))
    target = unwritable_folder(tmp_path) / "run.pt"
    code, out, err = run_cli(capsys, "train", "--preset", "counting-elman", "--steps", "30", "--eval-cap", "100",
                             "--save", str(target), "--json")
    assert code == 1 and one_sentence(err) and ("could not" in err or "cannot" in err)
    res = json.loads(out)  # the numbers are still reported...
    assert res["steps"] == 30 and math.isfinite(res["dev_loss"])
    rescued = Path(res["checkpoint"])  # ...and the trained run is kept in the checkpoint folder
    assert rescued.parent == folder and f"saved to {rescued} instead" in err
    kept = checkpoint.load(rescued)
    assert kept.step == res["kept"]["step"] and not target.exists()
    assert kept.metrics["dev_loss"] == pytest.approx(res["kept"]["dev_loss"])


def test_cli_train_on_a_full_disk_reports_the_run_and_exits_1(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(tmp_path / "rescue"))
    monkeypatch.setenv("SEQLM_FAULT", "checkpoint.written:enospc")  # every write fails, the rescue's too
    code, out, err = run_cli(capsys, "train", "--preset", "counting-elman", "--steps", "30", "--eval-cap", "100",
                             "--save", str(tmp_path / "run.pt"))
    assert code == 1 and one_sentence(err) and "No space left on device" in err
    assert "done: 30 steps" in out and "dev loss" in out
    assert list(tmp_path.rglob("*.pt")) == [] and list(tmp_path.rglob("*.tmp")) == []


# -- Ctrl+C in every command --------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_stream_ckpt(tmp_path_factory):
    """A checkpoint whose `eval --split train` takes seconds: a 2 MB stream file."""
    folder = tmp_path_factory.mktemp("bigeval")
    text = folder / "big.txt"
    gen = torch.Generator().manual_seed(0)
    text.write_text("".join("abcdefgh \n"[i] for i in torch.randint(0, 10, (2_000_000,), generator=gen).tolist()))
    cfg = apply(config_for(None, "lstm"), {"data": {"dataset": "file", "file": str(text), "mode": "stream"},
                                           "model": {"hidden": 256}, "train": {"steps": 1, "eval_cap": 10}})
    run = new_run(cfg)
    for _ in Trainer(run, sample_count=0).events():
        pass
    return checkpoint.save(run, folder / "big.pt")


COMMANDS = {  # the command, and the first thing it writes once it is at work (stdout, or stderr for bench)
    "train": (["train", "--preset", "counting-elman", "--steps", "100000000", "--save", "x.pt"], "training elman"),
    "sweep": (["sweep", "--dataset", "names", "--model", "mlp", "--lr-min", "1e-6", "--lr-max", "1e-5",
               "--steps", "1000000"], None),
    "generate": (["generate", "--prompt", "1 2", "--length", "100000000"], "3"),
    "sample": (["sample", "--num", "100000000"], ""),
    "eval": (["eval", "--split", "train"], None),
    "bench": (["bench", "--quick", "--only", "frontier"], "... frontier"),
}


def at_work(proc: subprocess.Popen, marker: str | None, stream) -> None:
    """Wait until the command is inside its work: its first line of output, or (for the ones that print only
    at the end) torch's library mapped and the main thread busy in it."""
    if marker is not None:
        seen = ""
        while marker not in seen or not seen:  # a character at a time: generate writes no newline
            ch = stream.read(1)
            assert ch, f"the command ended before it wrote {marker!r}"
            seen += ch
        return
    maps = Path(f"/proc/{proc.pid}/maps")
    while "libtorch" not in maps.read_text():
        assert proc.poll() is None
    stat = Path(f"/proc/{proc.pid}/stat")
    ticks = int(stat.read_text().split()[13])
    while int(stat.read_text().split()[13]) < ticks + 50:  # half a second of its own CPU time past start-up
        assert proc.poll() is None


@pytest.mark.parametrize("command", list(COMMANDS))
def test_ctrl_c_in_every_command(command, tmp_path, counting_ckpt, big_stream_ckpt):
    argv, marker = COMMANDS[command]
    if command in ("generate", "sample"):
        argv = [argv[0], "--checkpoint", str(counting_ckpt), *argv[1:]]
    if command == "eval":
        argv = [argv[0], "--checkpoint", str(big_stream_ckpt), *argv[1:]]
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    # A session of its own, and SIGINT to the whole group: what a terminal's Ctrl+C does.
    proc = subprocess.Popen([EXE, *argv], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    at_work(proc, marker, proc.stderr if command == "bench" else proc.stdout)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "seqlm-tui: interrupted." and "Traceback" not in err
    assert list(cwd.rglob("*")) == []  # no checkpoint, no temp file


def test_ctrl_c_during_start_up_is_one_line_too(tmp_path):
    """Before the command's work: while Python is still importing torch."""
    proc = subprocess.Popen([EXE, "train", "--preset", "counting-elman"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    maps = Path(f"/proc/{proc.pid}/maps")
    while proc.poll() is None and "libtorch" not in maps.read_text():
        pass  # the moment torch's library is mapped, its import is under way
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err.strip() == "seqlm-tui: interrupted.", err
    assert list(tmp_path.iterdir()) == []


# -- files that change while read -----------------------------------------------------------------


def _check_consistent(ds):
    """One consistent read: every item is a line of one version, the lines 0..n-1 of it without a gap (a
    prefix, when the file was caught half-written); never a mix of two versions."""
    words = sorted(ds.vocab.decode(sp.tokens[int(a) + 1:int(a) + int(n) - 1])
                   for sp in ds.splits.values() for a, n in zip(sp.starts, sp.lengths))
    k = max(set(w[-1] for w in words), key=lambda c: sum(w[-1] == c for w in words))
    odd = [w for w in words if w[-1] != k]
    assert len(odd) <= 1 and all(re.fullmatch(r"w(o(r(d\d*)?)?)?", w) for w in odd), odd  # the torn last line
    assert all(w.startswith("word") for w in words if w[-1] == k)
    numbers = sorted(int(w[4:-1]) for w in words if w[-1] == k)
    assert set(numbers) <= set(range(2000)) and len(range(numbers[-1] + 1)) - len(numbers) <= 1
    return len(words)


def _load(path):
    try:
        return datasets.load(DataConfig(dataset="file", file=str(path), mode="lines"))
    except SeqlmError as err:
        assert "\n" not in str(err) and str(err).endswith("."), err
        return str(err)


_VERSIONS = ["".join(f"word{i}{k}\n" for i in range(2000)) for k in range(3)] + ["", "x\n"]


def test_a_file_rewritten_while_it_is_read_gives_a_sentence_or_a_consistent_dataset(tmp_path):
    """A writer that never stops: whatever moment each read catches, it is a sentence or one consistent
    dataset. Which of the two depends on the timing, so only the kind of outcome is asserted here; the
    next test pins each stage of a rewrite to its outcome."""
    path = tmp_path / "moving.txt"
    path.write_text(_VERSIONS[0])
    stop = threading.Event()

    def rewrite():
        k = 0
        while not stop.is_set():
            with open(path, "w") as f:  # truncate, then write in pieces: readers see every stage
                text = _VERSIONS[k % len(_VERSIONS)]
                for i in range(0, len(text), 4096):
                    f.write(text[i:i + 4096])
                    f.flush()
            k += 1

    writer = threading.Thread(target=rewrite)
    writer.start()
    try:
        for _ in range(60):
            ds = _load(path)
            if not isinstance(ds, str):
                _check_consistent(ds)
    finally:
        stop.set()
        writer.join()


def test_each_stage_of_a_rewrite_reads_as_a_sentence_or_a_consistent_dataset(tmp_path):
    """The stages a reader can catch, held still: just truncated, part written, whole."""
    path = tmp_path / "moving.txt"
    whole = _VERSIONS[1]
    with open(path, "w") as f:
        assert _load(path) == f"{path} is empty."
        for i in range(0, len(whole), 4096):
            f.write(whole[i:i + 4096])
            f.flush()
            ds = _load(path)
            lines = whole[:i + 4096].count("\n")
            assert _check_consistent(ds) in (lines, lines + 1)  # the torn last line is an item too
    assert _check_consistent(_load(path)) == 2000


def test_pipes_and_devices_are_refused_not_read_forever(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for p in (fifo, Path("/dev/zero")):
        with pytest.raises(SeqlmError, match="not a regular file"):
            datafiles.read_text(p)


# -- hyperparameter corners through the CLI ------------------------------------------------------


@pytest.mark.parametrize("argv, words", [
    (["--lr", "inf"], "learning rate must be a finite number"),
    (["--lr", "1e308"], "learning rate must be at most 1000"),
    (["--clip", "nan"], "clip must be a finite number"),
    (["--epochs", "inf"], "epochs must be a finite number"),
    (["--model", "transformer", "--dropout", "nan"], "dropout must be a finite number"),
    (["--weight-decay=-inf"], "weight decay must be a finite number"),
    (["--optimizer", "momentum", "--momentum", "1e999"], "momentum must be a finite number"),
    (["--hidden", "9" * 500], "hidden must be at most 8192, not a number that large"),
    (["--seed", "99999999999"], "seed must be at most 4294967295"),
    (["--batch-size", "0"], "batch size must be at least 1"),
    (["--steps", "-5"], "steps must be at least 1"),
    (["--model", "lstm", "--hidden", "8192", "--layers", "32"], "the limit is 200,000,000"),
    (["--dataset", "names", "--model", "transformer", "--emb", "4096", "--heads", "64", "--layers", "32",
      "--block-size", "1024"], "the limit is 200,000,000"),
    (["--dataset", "names", "--model", "lstm", "--batch-size", "30000"], "larger than the training split"),
    (["--dataset", "timemachine", "--model", "rnn", "--num-steps", "4096", "--batch-size", "64"],
     "needs more text than the training split has"),
])
def test_hyperparameter_corners_are_one_sentence(capsys, argv, words):
    code, out, err = run_cli(capsys, "train", *argv, "--no-save")
    assert code == 1 and words in err and one_sentence(err), err


@pytest.mark.parametrize("argv, words", [
    (["sweep", "--lr-min", "nan"], "lr-min must be a positive number"),
    (["sweep", "--lr-max", "inf"], "lr-max must be a positive number"),
    (["sweep", "--steps", "10000000"], "sweep steps must be between"),
    (["generate", "--temperature", "nan", "--prompt", "1"], "temperature must be a positive number"),
    (["generate", "--temperature", "inf", "--prompt", "1"], "temperature must be a positive number"),
    (["generate", "--top-k", "-1", "--prompt", "1"], "top-k must be 0"),
    (["generate", "--length", "0", "--prompt", "1"], "length must be at least 1"),
    (["sample", "--num", "0"], "num must be at least 1"),
])
def test_sampling_and_sweep_corners_are_one_sentence(capsys, counting_ckpt, argv, words):
    if argv[0] != "sweep":
        argv = [argv[0], "--checkpoint", str(counting_ckpt), *argv[1:]]
    code, out, err = run_cli(capsys, *argv)
    assert code == 1 and words in err and one_sentence(err), err


@pytest.mark.parametrize("dataset, model", [("names", "mlp"), ("names", "transformer"),
                                            ("counting", "transformer"), ("counting", "mlp")])
def test_a_block_longer_than_any_item(capsys, dataset, model):
    # Names are at most 15 characters, counting windows 6 numbers. Padded data (names) and the
    # Transformer (its block is an upper bound) train; an MLP on counting has no padding to offer, so
    # it says so in one sentence.
    extra = ["--emb", "16", "--heads", "2", "--layers", "1"] if model == "transformer" else []
    code, out, err = run_cli(capsys, "train", "--dataset", dataset, "--model", model, "--block-size", "48",
                             *extra, "--steps", "5", "--eval-cap", "500", "--no-save", "--json")
    if (dataset, model) == ("counting", "mlp"):
        assert code == 1 and "block size 48 is longer than any item" in err and one_sentence(err)
        return
    assert code == 0, err
    res = json.loads(out)
    v = 27 if dataset == "names" else 128
    assert math.isfinite(res["train_loss"]) and 0 < res["dev_loss"] < math.log(v) + 1.0  # 5 steps: near uniform


def test_a_50_mb_single_line_file(tmp_path, capsys):
    path = tmp_path / "one-line.txt"
    gen = torch.Generator().manual_seed(0)
    alphabet = torch.tensor(list(b"abcdefghij klmnop"), dtype=torch.uint8)
    path.write_bytes(alphabet[torch.randint(0, 17, (50_000_000,), generator=gen)].numpy().tobytes())
    code, _, err = run_cli(capsys, "train", "--dataset", "file", "--file", str(path), "--mode", "lines",
                           "--no-save")
    assert code == 1 and "1 non-empty line(s)" in err and one_sentence(err)
    code, out, err = run_cli(capsys, "train", "--dataset", "file", "--file", str(path), "--mode", "stream",
                             "--model", "bigram-neural", "--steps", "3", "--eval-cap", "10000", "--no-save", "--json")
    assert code == 0, err
    assert 2.83 <= json.loads(out)["dev_loss"] < 4  # ln 17 = 2.83 is the floor: 17 equally likely characters
    ds = datasets.load(DataConfig(dataset="file", file=str(path), mode="stream"))
    assert ds.splits["train"].n_targets + ds.splits["dev"].n_targets == 50_000_000 - 2
    assert set(ds.vocab.tokens) >= set("abcdefghij klmnop")


# -- security: the network and the disk ------------------------------------------------------------


NETWORK = {"socket", "ssl", "urllib", "http", "requests", "httpx", "aiohttp", "ftplib", "smtplib", "telnetlib",
           "websockets", "asyncio.streams"}
# The one place that downloads, and the classroom server (its whole job is to listen on a socket).
MAY_USE_THE_NETWORK = {"core/datafiles.py", "cli/serve/server.py", "cli/commands/serve.py"}


def imported_modules(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Attribute) and node.attr in ("open_connection", "create_connection"):
            found.add(f"<call>.{node.attr}")  # asyncio.open_connection, socket.create_connection, aliased or not
    return found


def test_only_datafiles_can_reach_the_network():
    """Static: no other module of any package imports a network library (ast, so every form of import)."""
    offenders = []
    for py in sorted(ROOT.glob("*/**/*.py")):
        rel = str(py.relative_to(ROOT))
        if rel.split("/")[0] not in ("core", "tui", "cli") or rel in MAY_USE_THE_NETWORK:
            continue
        for mod in imported_modules(ast.parse(py.read_text())):
            if mod == "urllib.parse" or mod.startswith("urllib.parse."):
                continue  # splitting a URL into its parts reaches nothing (serve reads its --public-url)
            if mod.split(".")[0] in NETWORK or mod in NETWORK or mod.startswith("<call>"):
                offenders.append(f"{rel}: {mod}")
    assert offenders == []


def test_the_network_scan_sees_every_form_of_import():
    for code in ("import ssl", "from socket import create_connection", "import asyncio\nasyncio.open_connection()",
                 "import urllib.request as u", "from http import client", "import socket as s"):
        mods = imported_modules(ast.parse(code))
        assert any(m.split(".")[0] in NETWORK or m.startswith("<call>") for m in mods), code


def test_downloads_are_https_from_fixed_urls():
    assert all(k.url.startswith("https://") for k in datafiles.KNOWN.values())


def test_train_generate_eval_open_no_connection(tmp_path, capsys, monkeypatch):
    attempts = []

    def refuse(self, address, *a):
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **kw: refuse(None, address))
    ck = tmp_path / "c.pt"
    assert run_cli(capsys, "train", "--preset", "counting-elman", "--steps", "20", "--save", str(ck))[0] == 0
    assert run_cli(capsys, "train", "--dataset", "names", "--model", "mlp", "--steps", "2", "--eval-cap", "200",
                   "--no-save")[0] == 0
    assert run_cli(capsys, "generate", "--checkpoint", str(ck), "--prompt", "1 2", "--length", "5")[0] == 0
    assert run_cli(capsys, "sample", "--checkpoint", str(ck), "--num", "2")[0] == 0
    assert run_cli(capsys, "eval", "--checkpoint", str(ck))[0] == 0
    assert attempts == []


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_cli_writes_only_into_the_checkpoint_and_cache_folders(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "names.txt").write_bytes(datafiles.locate("names").read_bytes())  # the data folder is watched too
    home, cwd, tmp = tmp_path / "home", tmp_path / "cwd", tmp_path / "tmp"
    for d in (home, cwd, tmp):
        d.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEQLM_", "XDG_"))}
    env.update(HOME=str(home), TMPDIR=str(tmp), SEQLM_DATA_DIR=str(data), PYTHONDONTWRITEBYTECODE="1",
               XDG_CACHE_HOME=str(home / ".cache"), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_DATA_HOME=str(home / ".local/share"), XDG_STATE_HOME=str(home / ".local/state"))
    before = tree(tmp_path)
    res = subprocess.run([EXE, "train", "--dataset", "names", "--model", "mlp", "--steps", "5", "--eval-cap",
                          "200"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    saved = sorted(cwd.glob("checkpoints/*.pt"))
    assert len(saved) == 1
    new = tree(tmp_path) - before
    # torch itself makes an empty torchinductor_<user> folder in the system temp folder on import.
    allowed = ("cwd/checkpoints", "home/.cache/seqlm-tui", "tmp/torchinductor_")
    assert {p for p in new if not p.startswith(allowed)} == set()
