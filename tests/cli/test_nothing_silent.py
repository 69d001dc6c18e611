"""Nothing silent or misleading, no traceback or hang, output that fits the terminal (issue 11, items 7-17)."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys

import pytest

from seqlm_tui.core import checkpoint
from seqlm_tui.core.fmt import cell_width
from tests.cli.conftest import one_sentence, proc_env

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def lines_file(tmp_path, n=40, name="words.txt"):
    p = tmp_path / name
    p.write_text("\n".join(f"word{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(n)))
    return p


# -- 7. data flags -------------------------------------------------------------------------------


def test_a_file_alone_means_the_dataset_file(cli, tmp_path):
    data = lines_file(tmp_path)
    code, out, err = cli("train", "--file", data, "--model", "bigram-counts", "--json", "--save", tmp_path / "f.pt")
    assert code == 0, err
    run = checkpoint.load(tmp_path / "f.pt")
    assert run.cfg.data.dataset == "file" and run.cfg.data.file == str(data)
    assert run.dataset_info["file"]["size"] == data.stat().st_size


@pytest.mark.parametrize("argv, words", [
    (["--dataset", "names", "--file", "x.txt"], "--file is read only for the dataset 'file'"),
    (["--mode", "stream"], "--mode is read only for the dataset 'file'"),
    (["--dataset", "timemachine", "--mode", "stream"], "--mode is read only"),
    (["--memory-length", "20"], "--memory-length is for the dataset 'memory'"),
    (["--dataset", "names", "--num-steps", "20"], "applies to stream data only"),
])
def test_conflicting_data_flags_are_refused(cli, argv, words):
    code, out, err = cli("train", *argv, "--no-save")
    assert code == 2 and words in err and one_sentence(err) and out == ""


# -- 8. flags the chosen model does not use ----------------------------------------------------


@pytest.mark.parametrize("argv, words", [
    (["--model", "transformer", "--hidden", "64"], "--hidden is not used by the transformer model (it applies to mlp"),
    (["--model", "lstm", "--emb", "8"], "--emb is not used with one-hot input"),
    (["--model", "mlp", "--one-hot"], "--one-hot is not used by the mlp model"),
    (["--model", "lstm", "--dropout", "0.2"], "needs 2 layers or more"),
    (["--model", "gru", "--forget-bias", "3"], "--forget-bias is not used by the gru model (it applies to lstm)"),
    (["--model", "bigram-counts", "--lr", "0.1"], "--lr is not used by the count-based bigram"),
    (["--optimizer", "adam", "--momentum", "0.5"], "--momentum is used by the optimizer 'momentum' only"),
    (["--warmup", "10"], "--warmup is used by the schedule 'cosine' only"),
    (["--steps", "10", "--epochs", "2"], "--steps or --epochs, not both"),
    (["--json", "--quiet"], "--quiet has no effect with --json"),
    (["--no-save", "--keep", "last"], "--keep"),
])
def test_a_flag_that_would_do_nothing_is_refused(cli, argv, words):
    extra = [] if "--no-save" in argv else ["--no-save"]
    code, out, err = cli("train", *argv, *extra)
    assert code == 2 and words in err and one_sentence(err), err


def test_presets_may_set_fields_for_other_models(cli):
    """names-fast sets an MLP's block size and hidden size; with --model lstm only the typed flag is judged."""
    code, out, err = cli("train", "--preset", "names-fast", "--model", "lstm", "--hidden", "16", "--steps", "2",
                         "--eval-every", "2", "--eval-cap", "200", "--no-save", "--json")
    assert code == 0, err
    assert json.loads(out)["steps"] == 2


@pytest.mark.parametrize("flag", [["--temperature", "0.5"], ["--top-k", "3"], ["--seed", "1"]])
def test_sampling_flags_with_greedy_are_refused(cli, ckpt, flag):
    code, _, err = cli("generate", "--checkpoint", ckpt, "--greedy", *flag)
    assert code == 2 and f"{flag[0]} has no effect with --greedy" in err and one_sentence(err)


def test_typed_flags_reach_the_config(cli, tmp_path):
    """Each typed flag ends up in the run's configuration (and so in the checkpoint)."""
    cases = {
        ("--dataset", "timemachine", "--model", "rnn", "--hidden", "8", "--partition", "random",
         "--num-steps", "7", "--steps", "3"): {"data.partition": "random", "data.num_steps": 7, "model.hidden": 8},
        ("--dataset", "memory", "--memory-length", "7", "--model", "lstm", "--hidden", "8", "--forget-bias", "2",
         "--no-one-hot", "--emb", "4", "--steps", "3"): {"data.memory_length": 7, "model.forget_bias": 2.0,
                                                          "model.one_hot": False, "model.emb": 4},
        ("--dataset", "counting", "--model", "elman", "--epochs", "2", "--lr-schedule", "step", "--decay-at", "3",
         "--device", "cpu"): {"train.epochs": 2.0, "train.schedule": "step", "train.decay_at": 3,
                              "train.device": "cpu"},
        ("--dataset", "counting", "--model", "gru", "--hidden", "8", "--one-hot", "--steps", "3"):
            {"model.model": "gru", "model.one_hot": True},
    }
    for i, (argv, want) in enumerate(cases.items()):
        path = tmp_path / f"c{i}.pt"
        code, _, err = cli("train", *argv, "--eval-cap", "100", "--save", path, "--quiet", "--keep", "last")
        assert code == 0, err
        cfg = checkpoint.load(path).cfg
        for key, value in want.items():
            section, name = key.split(".")
            assert getattr(getattr(cfg, section), name) == value, key
    # two epochs of counting at batch 32: the run's length follows --epochs
    assert checkpoint.load(tmp_path / "c2.pt").step == 2 * 4


# -- 9. the data a checkpoint was trained on ------------------------------------------------------


def test_a_changed_or_moved_data_file_is_said_and_a_moved_copy_can_be_named(cli, tmp_path):
    data = lines_file(tmp_path, 60)
    original = data.read_text()
    path = tmp_path / "w.pt"
    assert cli("train", "--file", data, "--model", "bigram-counts", "--save", path, "--quiet")[0] == 0
    code, out, _ = cli("eval", "--checkpoint", path, "--json")
    loss = json.loads(out)["loss"]
    data.write_text("\n".join(reversed(original.splitlines())))  # same alphabet, other lines
    code, out, err = cli("eval", "--checkpoint", path)
    assert code == 1 and "has changed since this model was trained" in err and one_sentence(err)
    code, _, err = cli("train", "--resume", path, "--no-save")
    assert code == 1 and "has changed" in err
    moved = tmp_path / "elsewhere.txt"
    moved.write_text(original)
    data.unlink()
    code, _, err = cli("eval", "--checkpoint", path)
    assert code == 1 and "is not there" in err and "--file" in err
    code, out, err = cli("eval", "--checkpoint", path, "--file", moved, "--json")
    assert code == 0 and json.loads(out)["loss"] == pytest.approx(loss)


def test_eval_file_on_a_builtin_dataset_is_refused(cli, ckpt, tmp_path):
    code, _, err = cli("eval", "--checkpoint", ckpt, "--file", lines_file(tmp_path))
    assert code == 2 and "trained on names" in err


# -- 10. messages tell the truth -------------------------------------------------------------------


def test_a_long_sequence_on_a_small_stream_file_trains_and_counts_one_way(cli, tmp_path):
    data = tmp_path / "story.txt"
    data.write_text(("the time traveller smiled. " * 1300)[:35_000])
    path = tmp_path / "s.pt"
    code, out, err = cli("train", "--file", data, "--mode", "stream", "--model", "rnn", "--hidden", "8",
                         "--num-steps", "3000", "--batch-size", "4", "--steps", "2", "--save", path, "--keep", "last")
    assert code == 0, err
    said = int(re.search(r"dev loss on ([\d,]+) targets", out).group(1).replace(",", ""))
    code, out, _ = cli("eval", "--checkpoint", path, "--json")
    assert json.loads(out)["targets"] == said == 3_499
    code, _, err = cli("train", "--file", data, "--mode", "stream", "--model", "rnn", "--num-steps", "4000",
                       "--batch-size", "16", "--steps", "2", "--no-save")
    assert code == 1 and "batch size 16 x sequence length 4000" in err and "training split" in err


# -- 11. where --save and --checkpoint-dir lead --------------------------------------------------


def test_save_into_a_folder_writes_inside_it(cli, tmp_path):
    for arg in (f"{tmp_path / 'new'}/", str(tmp_path)):
        code, out, err = cli("train", "--preset", "counting-elman", "--steps", "5", "--save", arg, "--quiet")
        assert code == 0, err
        saved = out.split("saved ")[1].strip()
        assert os.path.dirname(saved) == arg.rstrip("/") and checkpoint.load(saved).step == 5


def test_checkpoint_folder_precedence_and_a_file_in_its_way(cli, tmp_path, monkeypatch):
    env_dir, flag_dir = tmp_path / "env", tmp_path / "flag"
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(env_dir))
    cli("train", "--preset", "counting-elman", "--steps", "3", "--quiet")
    cli("train", "--preset", "counting-elman", "--steps", "3", "--quiet", "--checkpoint-dir", flag_dir)
    assert len(list(env_dir.glob("*.pt"))) == 1 and len(list(flag_dir.glob("*.pt"))) == 1
    monkeypatch.delenv("SEQLM_CHECKPOINT_DIR")
    monkeypatch.chdir(tmp_path)
    cli("train", "--preset", "counting-elman", "--steps", "3", "--quiet")
    assert len(list((tmp_path / "checkpoints").glob("*.pt"))) == 1
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    for how in (("--checkpoint-dir", blocker), ("--checkpoint-dir", blocker / "sub")):
        code, out, err = cli("train", "--preset", "counting-elman", *how)
        assert code == 1 and "is a file, not a folder" in err and out == ""  # before any training
    monkeypatch.setenv("SEQLM_CHECKPOINT_DIR", str(blocker))
    code, out, err = cli("train", "--preset", "counting-elman")
    assert code == 1 and out == ""


# -- 12. one cap on the length of a run ----------------------------------------------------------


def test_epochs_cannot_bypass_the_step_limit(cli):
    code, out, err = cli("train", "--dataset", "names", "--model", "mlp", "--epochs", "1e6", "--no-save")
    assert code == 1 and "the limit is 100,000,000 steps" in err and one_sentence(err)


# -- 13, 14. no traceback, no hang ---------------------------------------------------------------


@pytest.mark.parametrize("temp", ["1e-38", "1e-320", "5e-324"])
def test_a_tiny_temperature_samples_like_greedy(cli, ckpt, temp):
    code, greedy, _ = cli("generate", "--checkpoint", ckpt, "--prompt", "ma", "--greedy", "--length", "12")
    for extra in ([], ["--top-k", "5"]):
        code, out, err = cli("generate", "--checkpoint", ckpt, "--prompt", "ma", "--temperature", temp, "--length",
                             "12", *extra)
        assert code == 0 and out == greedy and "too small to sample with" in err and "Traceback" not in err


def test_generate_is_reproducible_with_a_seed(cli, ckpt):
    runs = [cli("generate", "--checkpoint", ckpt, "--prompt", "a", "--seed", str(s), "--length", "40")[1]
            for s in (7, 7, 8)]
    assert runs[0] == runs[1] and runs[0] != runs[2]


@pytest.mark.parametrize("how", ["fifo", "symlink to a fifo"])
def test_a_fifo_as_checkpoint_is_refused_at_once(cli, tmp_path, how):
    """Opening a FIFO to read waits for a writer: a command that tried would hang (the test's timeout)."""
    fifo = tmp_path / "pipe.pt"
    os.mkfifo(fifo)
    path = fifo
    if how != "fifo":
        path = tmp_path / "link.pt"
        path.symlink_to(fifo)
    for command in (["eval"], ["generate", "--prompt", "a"], ["train", "--resume"]):
        flag = [] if command[-1] == "--resume" else ["--checkpoint"]
        code, _, err = cli(*command, *flag, path)
        assert code == 1 and "not a regular file" in err and one_sentence(err)


# -- 15, 16. terminal output -----------------------------------------------------------------------


def on_a_terminal(argv: list[str], stderr_too: bool = False, **env: str) -> str:
    """Run the CLI with stdout (and stderr, with ``stderr_too``) on a pseudo-terminal (isatty is true) and
    return what it printed there; the exit code is checked to be 0."""
    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "seqlm_tui.cli.main", *argv], stdout=slave,
                         stderr=slave if stderr_too else subprocess.PIPE, env=proc_env(**env))
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert p.wait(timeout=120) == 0
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


def test_no_color_on_a_terminal_and_each_curve_its_own_marker(tmp_path):
    argv = ["compare", "--dataset", "counting", "--model", "elman", "--lrs", "0.01,0.1,1", "--steps", "40",
            "--eval-cap", "50"]
    coloured = on_a_terminal(argv, COLUMNS="80")
    assert ANSI.search(coloured)
    plain = on_a_terminal(argv, NO_COLOR="1", COLUMNS="80")
    assert not ANSI.search(plain)
    legend = [line for line in plain.splitlines() if re.search(r"\b(aa|bb|cc) lr ", line)]
    assert len(legend) == 3 and {"aa lr 0.01", "bb lr 0.1", "cc lr 1"} <= {m.group() for line in legend
                                                                         for m in re.finditer(r"\w\w lr [\d.]+", line)}


WIDE = ("こんにちは世界\n" * 4 + "cafe\u0301 nai\u0308ve\n" * 4 + "emoji 😀🎉 fun\n" * 4
        + "\n".join(f"line {i} hello world" for i in range(40)))


@pytest.mark.parametrize("columns", [60, 100])
def test_wide_and_combining_characters_fit_the_terminal(cli, tmp_path, monkeypatch, columns):
    data = tmp_path / "wide.txt"
    data.write_text(WIDE)
    cli("train", "--file", data, "--model", "bigram-counts", "--save", tmp_path / "b.pt", "--quiet")
    cli("train", "--file", data, "--model", "mlp", "--emb", "2", "--steps", "50", "--save", tmp_path / "e.pt",
        "--quiet")
    monkeypatch.setenv("COLUMNS", str(columns))
    for argv in (["--checkpoint", tmp_path / "e.pt", "--embeddings"], ["--checkpoint", tmp_path / "b.pt", "--bigram"],
                 ["--checkpoint", tmp_path / "b.pt", "--row", "こ"]):
        code, out, err = cli("inspect", *argv)
        assert code == 0, err
        widths = [cell_width(line) for line in out.splitlines()]
        assert max(widths) <= columns, (argv, widths)
    # the grid's columns line up under their labels: every row is as wide as the label row
    code, out, _ = cli("inspect", "--checkpoint", tmp_path / "b.pt", "--bigram")
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("  "))  # the label row
    last = next(i for i, line in enumerate(lines) if line.startswith("rows: current character"))
    assert last - first > 5 and len({cell_width(r) for r in lines[first:last]}) == 1
    # the frame of the scatter: each plotted row is exactly as wide as the frame
    code, out, _ = cli("inspect", "--checkpoint", tmp_path / "e.pt", "--embeddings")
    framed = [line for line in out.splitlines() if "│" in line]
    assert len({cell_width(line) for line in framed}) == 1
    placed = sum(1 for line in framed for ch in line.split("│")[1] if ch.strip())
    vocab = len(checkpoint.load(tmp_path / "e.pt").vocab)
    assert placed >= vocab or "no room for" in out


# -- 17. help ----------------------------------------------------------------------------------------


COMMANDS = ("train", "sweep", "generate", "sample", "eval", "inspect", "compare", "memory", "bench")


def option_entries(text: str) -> list[tuple[str, str]]:
    """(flags, description) for each option in an argparse help text."""
    entries, current = [], None
    for line in text.splitlines():
        m = re.match(r"^  (-[^ ].*?)(?:\s{2,}(.*))?$", line)
        if m:
            current = [m.group(1), m.group(2) or ""]
            entries.append(current)
        elif current is not None and line.startswith("      ") and line.strip():
            current[1] += " " + line.strip()
        elif not line.strip() or not line.startswith(" "):
            current = None
    return [tuple(e) for e in entries]


def test_every_flag_has_help_and_model_flags_say_which_models_use_them(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps to the terminal's width, which it reads from here
    for name in COMMANDS:
        code, out, _ = cli(name, "--help")
        assert code == 0
        entries = option_entries(out)
        assert entries, name
        for flags, description in entries:
            assert description.strip(), f"{name} {flags} has no help"
        if name == "train":
            hidden = next(d for f, d in entries if f.startswith("--hidden"))
            assert "for mlp, elman, rnn, lstm, gru; default mlp 200" in hidden
            lr = next(d for f, d in entries if f.startswith("--lr "))
            assert "default 0.1" in lr
        if name == "eval":
            assert "(default: auto)" in next(d for f, d in entries if f.startswith("--device"))
        if name == "bench":
            assert all(item in out for item in ("engine_mlp", "startup"))
