"""Faults and bad inputs, tried for real: kill -9 mid-save, failing disks, Ctrl+C in every command, files
that change while read, hyperparameter corners, big files, and what the program may touch (network, disk)."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from cli.main import main
from core import checkpoint, datafiles, datasets
from core.config import DataConfig
from core.errors import SeqlmError
from core.presets import apply, config_for
from core.run import new_run
from core.train import Trainer

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


# -- kill -9 while a checkpoint is being written ------------------------------------------------

CHILD = """
import sys
from core import checkpoint
from core.presets import apply, config_for
from core.run import new_run

# ~19 MB: a write takes long enough (tens of ms) to be killed in the middle of it.
run = new_run(apply(config_for("counting-elman"), {"model": {"hidden": 2048}, "train": {"seed": 7}}))
while True:
    print("writing", flush=True)
    checkpoint.save(run, sys.argv[1])
"""


def test_kill_9_mid_save_keeps_the_previous_checkpoint_and_no_visible_temp_file(tmp_path):
    folder = tmp_path / "ck"
    target = folder / "run.pt"
    first = new_run(apply(config_for("counting-elman"), {"model": {"hidden": 2048}}))
    checkpoint.save(first, target)
    torn = 0
    for writes, delay in [(1, 0.0), (2, 0.01), (3, 0.03)]:
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(target)], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for _ in range(writes):
            assert child.stdout.readline() == "writing\n"
        time.sleep(delay)
        child.kill()
        child.wait(10)
        child.stdout.close()
        leftovers = [p for p in folder.iterdir() if p != target]
        torn += bool(leftovers)
        assert all(p.name.startswith(".run.pt.") and p.name.endswith(".tmp") for p in leftovers)
        back = checkpoint.load(target)  # the first save or a complete later one, never a torn file
        assert back.model.num_params() == first.model.num_params()
        # The browser lists the checkpoint alone, readable; the temp file neither shows nor breaks it.
        infos = checkpoint.browse(folder)
        assert [(i.path.name, i.error) for i in infos] == [("run.pt", None)]
    assert torn, "no kill landed mid-write: the test proved nothing"
    # The next save of that name clears what the killed writers left behind.
    checkpoint.save(first, target)
    assert [p.name for p in folder.iterdir()] == ["run.pt"]


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
    assert {i.path.name for i in checkpoint.browse(tmp_path)} == {"a.pt", "b.pt"}


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
    assert res["steps"] == 30 and res["dev_loss"] is not None
    rescued = Path(res["checkpoint"])  # ...and the trained run is kept in the checkpoint folder
    assert rescued.parent == folder and f"saved to {rescued} instead" in err
    assert checkpoint.load(rescued).step == 30 and not target.exists()


def test_cli_train_on_a_full_disk_reports_the_run_and_exits_1(tmp_path, capsys, monkeypatch):
    def full(*a, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", full)
    code, out, err = run_cli(capsys, "train", "--preset", "counting-elman", "--steps", "30", "--eval-cap", "100",
                             "--save", str(tmp_path / "run.pt"))
    assert code == 1 and one_sentence(err) and "No space left on device" in err
    assert "done: 30 steps" in out and "dev loss" in out
    assert list(tmp_path.rglob("*.pt")) == [] and list(tmp_path.rglob("*.tmp")) == []


# -- Ctrl+C in every command --------------------------------------------------------------------


def torch_loaded(pid: int) -> bool:
    """The command has imported torch, so it is past start-up and inside its own work."""
    try:
        return "libtorch" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


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


@pytest.mark.parametrize("command", ["train", "sweep", "generate", "sample", "eval", "bench"])
def test_ctrl_c_in_every_command(command, tmp_path, counting_ckpt, big_stream_ckpt):
    argv = {
        "train": ["train", "--preset", "counting-elman", "--steps", "100000000", "--save", "x.pt"],
        "sweep": ["sweep", "--dataset", "names", "--model", "mlp", "--lr-min", "1e-6", "--lr-max", "1e-5",
                  "--steps", "1000000"],
        "generate": ["generate", "--checkpoint", str(counting_ckpt), "--prompt", "1 2", "--length", "100000000"],
        "sample": ["sample", "--checkpoint", str(counting_ckpt), "--num", "100000000"],
        "eval": ["eval", "--checkpoint", str(big_stream_ckpt), "--split", "train"],
        "bench": ["bench", "--quick"],
    }[command]
    out_path, err_path = tmp_path / "out", tmp_path / "err"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        # A session of its own, and SIGINT to the whole group: what a terminal's Ctrl+C does.
        proc = subprocess.Popen([EXE, *argv], cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        deadline = time.monotonic() + 60
        while not torch_loaded(proc.pid) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(1.0)  # well inside the work (loading data, training, streaming...)
        assert proc.poll() is None, f"{command} ended before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)
        code = proc.wait(60)
    err = err_path.read_text()
    assert code == 130, err
    assert "interrupted" in err and "Traceback" not in err and len(err.strip().splitlines()) <= 3
    assert list(cwd.rglob("*")) == []  # no checkpoint, no temp file


# -- files that change while read -----------------------------------------------------------------


def test_a_file_rewritten_while_it_is_read_gives_a_sentence_or_a_consistent_dataset(tmp_path):
    path = tmp_path / "moving.txt"
    versions = ["".join(f"word{i}{k}\n" for i in range(2000)) for k in range(3)] + ["", "x\n"]
    path.write_text(versions[0])
    stop = threading.Event()

    def rewrite():
        k = 0
        while not stop.is_set():
            with open(path, "w") as f:  # truncate, then write in pieces: readers see every stage
                text = versions[k % len(versions)]
                for i in range(0, len(text), 4096):
                    f.write(text[i:i + 4096])
                    f.flush()
            k += 1

    writer = threading.Thread(target=rewrite)
    writer.start()
    outcomes = set()
    try:
        for _ in range(60):
            try:
                ds = datasets.load(DataConfig(dataset="file", file=str(path), mode="lines"))
            except SeqlmError as err:
                outcomes.add("error")
                assert "\n" not in str(err)
                continue
            outcomes.add("dataset")
            # Whatever was read is self-consistent: every item decodes to a line of some version.
            items = ds.splits["train"].n_items + ds.splits["dev"].n_items + ds.splits["test"].n_items
            assert 10 <= items <= 2000 and set(ds.vocab.tokens[1:]) <= set("word0123456789")
    finally:
        stop.set()
        writer.join()
    assert outcomes  # each read ended in one of the two acceptable ways


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
    assert 0 < res["train_loss"] < 10 and 0 < res["dev_loss"] < 10


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


def test_only_datafiles_can_reach_the_network():
    """Static: no other module imports a network library."""
    names = ("import socket", "urllib", "http.client", "requests", "httpx", "aiohttp", "ftplib")
    offenders = []
    for py in [*ROOT.glob("core/**/*.py"), *ROOT.glob("tui/**/*.py")]:
        if py == ROOT / "core" / "datafiles.py":
            continue
        text = py.read_text()
        offenders += [f"{py.relative_to(ROOT)}: {n}" for n in names if n in text]
    assert offenders == []


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
