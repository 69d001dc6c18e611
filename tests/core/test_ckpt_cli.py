"""Checkpoints (safe, atomic, clear errors) and the headless CLI."""

import json
import math
import os
import pickle
import subprocess
import sys

import pytest
import torch

from seqlm_tui.cli.main import main
from seqlm_tui.core import checkpoint, checkpoint_list
from seqlm_tui.core.errors import SeqlmError
from seqlm_tui.core.presets import apply, config_for
from seqlm_tui.core.run import new_run
from seqlm_tui.core.train import Trainer


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = new_run(apply(config_for("counting-elman"), {"train": {"steps": 400}}))
    for _ in Trainer(run, sample_count=0).events():
        pass
    path = checkpoint.save(run, tmp_path_factory.mktemp("ck") / "counting.pt")
    return run, path


def test_round_trip(trained):
    run, path = trained
    back = checkpoint.load(path)
    assert back.cfg == run.cfg and back.vocab == run.vocab and back.step == run.step == 400
    assert back.history.train.values == run.history.train.values
    x = torch.tensor([[7, 8, 9, 10]])
    with torch.no_grad():
        assert torch.allclose(back.model(x)[0], run.model(x)[0])


class Evil:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ['EVIL_MARKER']}",))


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("EVIL_MARKER", str(marker))
    bad = tmp_path / "evil.pt"
    torch.save({"format": "seqlm-tui", "version": 1, "config": Evil()}, bad)
    with pytest.raises(SeqlmError, match="refused"):
        checkpoint.load(bad)
    plain = tmp_path / "evil.pkl"
    plain.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(SeqlmError):
        checkpoint.load(plain)
    assert not marker.exists()


@pytest.mark.parametrize("make, words", [
    (lambda p, good: p.write_bytes(good.read_bytes()[:200]), "truncated"),
    (lambda p, good: p.write_bytes(b""), "truncated"),
    (lambda p, good: p.write_bytes(os.urandom(3000)), "truncated"),
    (lambda p, good: torch.save(dict(checkpoint.read_payload(good), version=99), p), "version 99"),
    (lambda p, good: torch.save({"weights": torch.zeros(3)}, p), "not a seqlm-tui checkpoint"),
])
def test_bad_checkpoints_give_one_sentence(trained, tmp_path, make, words):
    _, good = trained
    p = tmp_path / "bad.pt"
    make(p, good)
    with pytest.raises(SeqlmError) as err:
        checkpoint.load(p)
    assert words in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(SeqlmError, match="folder"):
        checkpoint.load(tmp_path)


def test_browse_lists_checkpoints_and_skips_temp_files(trained, tmp_path):
    run, _ = trained
    checkpoint.save(run, tmp_path / "a.pt")
    (tmp_path / ".a.pt.123.tmp").write_bytes(b"partial")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    infos = {i.path.name: i for i in checkpoint_list.browse(tmp_path)}
    assert set(infos) == {"a.pt", "junk.pt"}
    assert infos["a.pt"].dataset == "counting" and infos["a.pt"].model == "elman" and infos["a.pt"].step == 400
    assert infos["junk.pt"].error


@pytest.mark.parametrize("keep", [0.5, -10])
def test_a_truncated_checkpoint_is_listed_as_such_from_its_size_and_its_end(trained, tmp_path, keep):
    """The listing reads only cards, so a file cut short used to list as whole until it was loaded. What
    is cheap is checked: the size against the card's parameter count, the archive's closing record."""
    run, _ = trained
    whole = checkpoint.save(run, tmp_path / "whole.pt").read_bytes()
    cut = whole[:int(len(whole) * keep)] if keep > 0 else whole[:keep]
    (tmp_path / "cut.pt").write_bytes(cut)
    infos = {i.path.name: i for i in checkpoint_list.browse(tmp_path)}
    assert infos["whole.pt"].error is None
    assert "truncated" in infos["cut.pt"].reason and "truncated" in infos["cut.pt"].error
    with pytest.raises(SeqlmError, match="truncated"):
        checkpoint.load(tmp_path / "cut.pt")  # what loading it would have said


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_train_generate_eval_sample(tmp_path, capsys):
    ck = tmp_path / "c.pt"
    code, out, _ = run_cli(capsys, "train", "--preset", "counting-elman", "--save", str(ck), "--json")
    assert code == 0
    res = json.loads(out)
    assert res["steps"] == 600 and res["checkpoint"] == str(ck) and res["params"] == 9_408
    assert 0 < res["dev_loss"] < 0.5 and 0 < res["train_loss"] < math.log(128)
    assert res["dev_ppl"] == pytest.approx(math.exp(res["dev_loss"])) and res["tokens_per_s"] > 0
    code, out, _ = run_cli(capsys, "generate", "--checkpoint", str(ck), "--prompt", "7 8 9 10", "--greedy",
                           "--length", "1")
    assert (code, out.strip()) == (0, "11")
    code, out, _ = run_cli(capsys, "eval", "--checkpoint", str(ck), "--json", "--split", "test")
    res = json.loads(out)
    assert code == 0 and res["split"] == "test" and res["targets"] == 78 and 0 < res["loss"] < 1.0
    code, out, _ = run_cli(capsys, "sample", "--checkpoint", str(ck), "--num", "3", "--length", "5")
    assert code == 0 and len(out.strip().splitlines()) == 3


def test_cli_sweep_json(capsys):
    code, out, _ = run_cli(capsys, "sweep", "--dataset", "names", "--model", "mlp", "--steps", "200", "--json")
    assert code == 0
    res = json.loads(out)
    lrs = res["lrs"]
    assert len(lrs) == len(res["losses"]) == len(res["smoothed"]) and 20 < len(lrs) <= 200
    assert lrs == sorted(lrs) and lrs[0] == pytest.approx(1e-3)
    assert res["suggested_lr"] in lrs and 1e-3 <= res["suggested_lr"] <= 1.0


def test_cli_sweep_chart_in_a_pipe_has_no_colour_codes(capsys):
    code, out, _ = run_cli(capsys, "sweep", "--dataset", "names", "--model", "mlp", "--steps", "200")
    assert code == 0 and "learning-rate range test: mlp on names" in out and "suggested learning rate" in out
    assert "\x1b" not in out  # captured output is not a terminal: plain text


@pytest.mark.parametrize("argv, words", [
    (["generate", "--checkpoint", "nope.pt", "--prompt", "a"], "no such checkpoint"),
    (["train", "--dataset", "file", "--file", "/no/such/file.txt"], "no such file"),
    (["train", "--lr", "-1", "--no-save"], "learning rate"),
    (["train", "--lr", "nan", "--no-save"], "learning rate"),
    (["train", "--batch-size", "5000", "--no-save"], "larger than the training split"),
    (["train", "--dataset", "names", "--model", "mlp", "--block-size", "0", "--no-save"], "block size"),
])
def test_cli_errors_are_one_line(capsys, argv, words):
    code, out, err = run_cli(capsys, *argv)
    assert code == 1 and words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_bad_prompt(trained, capsys):
    _, ck = trained
    code, _, err = run_cli(capsys, "generate", "--checkpoint", str(ck), "--prompt", "7 8 nine")
    assert code == 1 and "'nine' is not a number" in err


def test_installed_command_and_usage_errors():
    exe = os.path.join(os.path.dirname(sys.executable), "seqlm-tui")
    res = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and "seqlm-tui" in res.stdout
    res = subprocess.run([exe, "train", "--no-such-flag"], capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr


@pytest.mark.parametrize("model", ["bigram-counts", "bigram-neural", "mlp", "elman", "rnn", "lstm", "gru",
                                   "transformer"])
def test_every_model_trains_from_the_cli(capsys, model):
    steps = [] if model == "bigram-counts" else ["--steps", "5", "--eval-every", "5"]
    code, out, err = run_cli(capsys, "train", "--dataset", "names", "--model", model, *steps,
                             "--eval-cap", "500", "--no-save", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert math.isfinite(res["dev_loss"]) and math.isfinite(res["train_loss"])
    assert res["dev_loss"] < math.log(27) + (1.0 if model != "bigram-counts" else -0.5)
