"""What the README promises that is cheap to check: presets, eval, bench, sample, threads."""

from __future__ import annotations

import json
import math

import torch

from seqlm_tui.core import checkpoint
from seqlm_tui.core.presets import config_for
from seqlm_tui.core.run import new_run
from seqlm_tui.core.train import Trainer


def test_names_fast_reaches_dev_2_20(cli, tmp_path):
    code, out, err = cli("train", "--preset", "names-fast", "--json", "--save", tmp_path / "fast.pt")
    assert code == 0, err
    res = json.loads(out)
    assert res["steps"] == 300 and res["kept"]["dev_loss"] <= 2.20


def test_eval_agrees_with_the_runs_own_dev_loss(cli, tmp_path):
    code, out, _ = cli("train", "--preset", "counting-elman", "--steps", "200", "--keep", "last", "--json",
                       "--save", tmp_path / "c.pt")
    trained = json.loads(out)
    code, out, _ = cli("eval", "--checkpoint", tmp_path / "c.pt", "--json")
    evaluated = json.loads(out)
    assert evaluated["loss"] == trained["dev_loss"] and evaluated["step"] == 200
    assert evaluated["perplexity"] == math.exp(evaluated["loss"])
    code, out, _ = cli("eval", "--checkpoint", tmp_path / "c.pt", "--split", "test", "--json")
    assert json.loads(out)["targets"] == 13 * 6  # 13 test windows of 6 targets


def test_sample_json_says_where_each_name_comes_from(cli, ckpt):
    code, out, err = cli("sample", "--checkpoint", ckpt, "--num", "12", "--seed", "3", "--json")
    assert code == 0, err
    res = json.loads(out)
    from seqlm_tui.core.novelty import Novelty

    novelty = Novelty.for_run(checkpoint.load(ckpt))
    assert len(res["samples"]) == 12
    assert [s["source"] for s in res["samples"]] == [novelty.where(s["text"]) for s in res["samples"]]
    assert res["new_share"] == sum(s["source"] == "new" for s in res["samples"]) / 12
    code, again, _ = cli("sample", "--checkpoint", ckpt, "--num", "12", "--seed", "3", "--json")
    assert again == out  # --seed: the same names


def test_bench_quick_json_has_its_rows(cli):
    code, out, err = cli("bench", "--quick", "--only", "streaming", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert {r["key"] for r in rows} == {f"stream_{m}" for m in ("bigram-counts", "bigram-neural", "mlp", "elman",
                                                               "rnn", "lstm", "gru", "transformer")}
    assert all(r["value"] > 0 and r["goal"] and isinstance(r["met"], bool) for r in rows)


def test_a_runs_threads_setting_is_what_torch_uses_while_it_trains():
    before = torch.get_num_threads()
    seen = []
    try:
        run = new_run(config_for("counting-elman"))
        run.cfg.train.threads, run.cfg.train.steps = 2, 5
        for _ in Trainer(run, sample_count=0).events():
            seen.append(torch.get_num_threads())
        assert set(seen) == {2}
    finally:
        torch.set_num_threads(before)
