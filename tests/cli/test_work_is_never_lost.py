"""The command line never loses work: resume in place, read-back before rename, read-only files, divergence,
the best evaluation kept, signals (issue 11, items 1-6)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time

import pytest
import torch

from seqlm_tui.core import checkpoint, checkpoint_list, datafiles
from tests.cli.conftest import ROOT, one_sentence, proc_env, start

ARCH_FLAGS = [("--model", "lstm"), ("--hidden", "64"), ("--emb", "5"), ("--block-size", "8"),
              ("--dataset", "counting")]


def digest(path) -> bytes:
    return path.read_bytes()


@pytest.mark.parametrize("flag, value", ARCH_FLAGS)
def test_resume_in_place_refuses_a_flag_that_changes_the_architecture(cli, ckpt, flag, value):
    before = digest(ckpt)
    code, out, err = cli("train", "--resume", ckpt, flag, value, "--steps", "700", "--save", ckpt)
    assert code == 2 and one_sentence(err), err
    assert flag in err and "architecture" in err and out == ""
    assert digest(ckpt) == before and checkpoint.load(ckpt).step == 300


def test_resume_takes_the_flags_that_may_change(cli, ckpt, tmp_path):
    out_path = tmp_path / "more.pt"
    trained = checkpoint.load(ckpt).cfg.model
    code, out, err = cli("train", "--resume", ckpt, "--steps", "340", "--lr", "0.002", "--lr-schedule", "constant",
                         "--batch-size", "64", "--keep", "last", "--save", out_path, "--quiet")
    assert code == 0, err
    run = checkpoint.load(out_path)
    assert run.step == 340
    assert (run.cfg.train.lr, run.cfg.train.schedule, run.cfg.data.batch_size) == (0.002, "constant", 64)
    assert run.cfg.model == trained  # the architecture stayed
    assert run.history.train.steps[-1] == 340 and sorted(run.history.train.steps) == run.history.train.steps


def test_resume_in_place_with_a_preset_is_refused(cli, ckpt):
    code, _, err = cli("train", "--resume", ckpt, "--preset", "names-mlp-seed", "--save", ckpt)
    assert code == 2 and "--preset" in err and one_sentence(err)


def test_a_save_that_does_not_read_back_replaces_nothing(cli, ckpt, monkeypatch):
    """The fault makes the written file half its length without any error from the OS."""
    before = digest(ckpt)
    monkeypatch.setenv("SEQLM_FAULT", "checkpoint.written:truncate")
    code, _, err = cli("train", "--resume", ckpt, "--steps", "320", "--save", ckpt, "--quiet")
    assert code == 1 and "did not read back" in err and "was not replaced" in err
    assert digest(ckpt) == before
    assert not [p for p in ckpt.parent.iterdir() if p.name.startswith(".")]  # no temp file left


def test_every_writer_reads_back_before_renaming(ckpt, monkeypatch, tmp_path):
    """The same fault through the core API that the app and autosave use."""
    run = checkpoint.load(ckpt)
    before = digest(ckpt)
    monkeypatch.setenv("SEQLM_FAULT", "checkpoint.written:truncate")
    for keep in ("best", "last"):
        with pytest.raises(checkpoint.SeqlmError, match="did not read back"):
            checkpoint.save(run, ckpt, keep)
    assert digest(ckpt) == before
    monkeypatch.delenv("SEQLM_FAULT")
    assert checkpoint.load(checkpoint.save(run, tmp_path / "fine.pt")).step == run.step


def test_a_read_only_checkpoint_is_not_replaced_and_the_run_is_rescued(cli, ckpt, tmp_path, monkeypatch):
    folder = tmp_path / "rescue"
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(folder))
    ckpt.chmod(0o444)
    before = digest(ckpt)
    code, out, err = cli("train", "--resume", ckpt, "--steps", "320", "--save", ckpt, "--quiet")
    assert code == 1 and "read-only" in err and one_sentence(err)
    assert digest(ckpt) == before and stat.S_IMODE(ckpt.stat().st_mode) == 0o444
    rescued = list(folder.glob("*.pt"))
    assert len(rescued) == 1 and str(rescued[0]) in err and checkpoint.load(rescued[0]).step == 320


needs_setpriv = pytest.mark.skipif(shutil.which("setpriv") is None or os.geteuid() != 0,
                                   reason="needs root and util-linux's setpriv to drop root's override")
DROP = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]


@needs_setpriv
@pytest.mark.parametrize("case", ["mode 0444", "another user's file"])
def test_without_roots_override_a_file_the_user_cannot_write_is_left_alone(ckpt, tmp_path, case):
    folder = tmp_path / "rescue"
    if case == "mode 0444":
        ckpt.chmod(0o444)
    else:
        os.chown(ckpt, 4321, 4321)  # writable by its owner only, and that is not us
        ckpt.chmod(0o644)
    before = digest(ckpt)
    env = proc_env(SEQLM_CHECKPOINT_DIR=str(folder))
    # The check that the override is really gone: opening the file for writing must fail in the child.
    probe = subprocess.run([*DROP, sys.executable, "-c", f"open({str(ckpt)!r}, 'r+b')"], capture_output=True)
    assert probe.returncode != 0 and b"PermissionError" in probe.stderr
    res = subprocess.run([*DROP, sys.executable, "-m", "seqlm_tui.cli.main", "train", "--resume", str(ckpt),
                          "--steps", "310", "--save", str(ckpt), "--quiet"],
                         env=env, capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 1 and "read-only" in res.stderr and one_sentence(res.stderr), res.stderr
    assert digest(ckpt) == before
    assert [checkpoint.load(p).step for p in folder.glob("*.pt")] == [310]


def test_divergence_saves_the_best_good_weights_and_says_where(cli, tmp_path):
    target = tmp_path / "dw.pt"
    code, out, err = cli("train", "--dataset", "names", "--model", "mlp", "--steps", "600", "--lr", "8",
                         "--lr-schedule", "cosine", "--warmup", "600", "--eval-every", "50", "--save", target,
                         "--quiet")
    assert code == 1 and "last good step" in err and str(target) in err
    run = checkpoint.load(target)
    card = checkpoint.read_card(target)
    good = int(err.split("last good step (")[1].split(")")[0].replace(",", ""))
    assert card["kept"]["rule"] == "best" and run.step == card["kept"]["step"] <= good
    assert run.step % 50 == 0 and run.metrics["dev_loss"] < 3.0  # a real evaluation, not the blown-up weights
    # --keep last keeps the last good step itself
    code, _, err = cli("train", "--dataset", "names", "--model", "mlp", "--steps", "600", "--lr", "8",
                       "--lr-schedule", "cosine", "--warmup", "600", "--eval-every", "50", "--keep", "last",
                       "--save", tmp_path / "last.pt", "--quiet")
    assert code == 1 and checkpoint.load(tmp_path / "last.pt").step == good


def test_train_keeps_the_best_dev_evaluation_and_says_which(cli, tmp_path):
    """60 names: the MLP learns them by heart, and the dev loss rises after its minimum."""
    data = tmp_path / "few.txt"
    data.write_text("\n".join(datafiles.read_text(datafiles.locate("names")).splitlines()[:60]))
    common = ["train", "--file", data, "--model", "mlp", "--hidden", "256", "--emb", "16", "--optimizer", "adam",
              "--lr", "0.01", "--steps", "600", "--eval-every", "50", "--json"]
    code, out, err = cli(*common, "--save", tmp_path / "best.pt")
    assert code == 0, err
    res = json.loads(out)
    run = checkpoint.load(tmp_path / "best.pt")
    dev = dict(zip(run.history.dev.steps, run.history.dev.values))
    best_step = min(dev, key=dev.get)
    assert dev[600] > dev[best_step] + 0.1  # the case this is about: it overfits
    assert res["kept"] == {"rule": "best", "step": best_step, "dev_loss": pytest.approx(dev[best_step]),
                           "trained_steps": 600}
    assert run.step == best_step and checkpoint.read_card(tmp_path / "best.pt")["kept"]["step"] == best_step
    code, out, _ = cli(*common, "--save", tmp_path / "last.pt", "--keep", "last")
    assert json.loads(out)["kept"]["rule"] == "last" and checkpoint.load(tmp_path / "last.pt").step == 600
    # the kept weights are the ones evaluated at that step
    code, out, _ = cli("eval", "--checkpoint", tmp_path / "best.pt", "--json")
    assert json.loads(out)["loss"] == pytest.approx(dev[best_step], abs=1e-5)


def _first_line(p: subprocess.Popen) -> str:
    return p.stdout.readline()


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_a_signal_during_training_is_one_line_and_leaves_nothing(tmp_path, sig, code):
    target = tmp_path / "sig.pt"
    p = start("train", "--dataset", "names", "--model", "mlp", "--steps", "10000000", "--save", target,
              "--quiet", cwd=tmp_path)
    assert _first_line(p).startswith("training mlp")  # the loop is running
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    assert p.returncode == code and one_sentence(err), err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_during_a_save_keeps_the_old_file_and_no_temp(ckpt, tmp_path, sig, code):
    before = digest(ckpt)
    mark = tmp_path / "mark"
    env = proc_env(SEQLM_FAULT="checkpoint.written:wait", SEQLM_FAULT_MARK=str(mark))
    p = start("train", "--resume", ckpt, "--steps", "310", "--save", ckpt, "--quiet", env=env)
    deadline = time.monotonic() + 120
    while not mark.exists():  # the save has written its temp file and waits there
        assert p.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    assert [q.name for q in ckpt.parent.iterdir() if q.name.endswith(".tmp")]
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    assert p.returncode == code and one_sentence(err), err
    assert digest(ckpt) == before and not [q for q in ckpt.parent.iterdir() if q.name.endswith(".tmp")]
    assert checkpoint.load(ckpt).step == 300


def test_kill_9_during_a_save_keeps_the_old_file_and_the_next_save_cleans_up(ckpt, tmp_path):
    before = digest(ckpt)
    mark = tmp_path / "mark"
    env = proc_env(SEQLM_FAULT="checkpoint.written:wait", SEQLM_FAULT_MARK=str(mark))
    p = start("train", "--resume", ckpt, "--steps", "310", "--save", ckpt, "--quiet", env=env)
    while not mark.exists():
        assert p.poll() is None
        time.sleep(0.02)
    p.kill()
    p.wait(timeout=30)
    left = [q for q in ckpt.parent.iterdir() if q.name.endswith(".tmp")]
    assert len(left) == 1 and left[0].name.startswith(".")  # hidden, and the browser skips it
    assert digest(ckpt) == before and [i.path for i in checkpoint_list.browse(ckpt.parent)] == [ckpt]
    run = checkpoint.load(ckpt)
    checkpoint.save(run, ckpt)
    assert not [q for q in ckpt.parent.iterdir() if q.name.endswith(".tmp")]


def test_a_checkpoint_card_is_read_without_the_weights(ckpt):
    card = checkpoint.read_card(ckpt)
    assert card["step"] == 300 and card["config"]["model"]["model"] == "mlp" and "model_state" not in card
    with open(ckpt, "rb") as f:
        assert f.read(len(checkpoint.MAGIC)) == checkpoint.MAGIC
    payload = checkpoint.read_payload(ckpt)
    assert {k: payload[k] for k in ("step", "kept")} == {k: card[k] for k in ("step", "kept")}
    assert isinstance(payload["model_state"]["C.weight"], torch.Tensor)


def test_a_signal_whose_exception_was_lost_still_ends_the_command(tmp_path, monkeypatch, capsys):
    """Python may lose an exception raised by a signal handler (inside a __del__ or a GC callback). The
    train and sweep loops watch the signal's event and end as the signal would have: exit 130, one line,
    nothing saved; and the command gives the caller's signal handlers back when it ends."""
    import signal
    import threading

    from seqlm_tui.cli import main, stopping

    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    before = {sig: signal.getsignal(sig) for sig in stopping.SIGNALS}

    def lose_a_signal():  # once the command has its handlers: what a lost exception leaves behind
        while signal.getsignal(signal.SIGINT) is not stopping.on_signal:
            threading.Event().wait(0.01)
        stopping.request(signal.SIGINT)

    for argv in (["sweep", "--preset", "counting-elman", "--steps", "1000000"],
                 ["train", "--preset", "counting-elman", "--steps", "100000000", "--save", "x.pt"]):
        threading.Thread(target=lose_a_signal, daemon=True).start()
        assert main.main(argv) == 130, argv
        assert capsys.readouterr().err.strip().splitlines()[-1] == "seqlm-tui: interrupted."
        assert {sig: signal.getsignal(sig) for sig in stopping.SIGNALS} == before
        assert not stopping.STOP.is_set()
    assert list(cwd.rglob("*")) == []


def test_a_lost_signal_still_ends_a_command_without_a_loop_to_watch(tmp_path):
    """generate (like eval) watches no event: when the signal's exception is lost (forced here at the
    fault point ``signal:lose``), the process still ends with the signal's line and code."""
    ckpt = tmp_path / "c.pt"
    start("train", "--preset", "counting-elman", "--steps", "20", "--save", ckpt, "--quiet").communicate(timeout=120)
    p = start("generate", "--checkpoint", ckpt, "--prompt", "1 2", "--length", "100000000",
              env=proc_env(SEQLM_FAULT="signal:lose"), cwd=tmp_path)
    assert p.stdout.read(1)  # it is generating
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130 and err.strip().splitlines()[-1] == "seqlm-tui: interrupted.", err
    assert sorted(x.name for x in tmp_path.iterdir()) == ["c.pt"]
