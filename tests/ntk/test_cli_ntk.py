"""``initscape ntk analyze`` end to end on the tiny test model and real tweets."""

import json

import numpy as np
from click.testing import CliRunner

from initscape.cli import main


def test_analyze_prints_json_and_writes_plots(tmp_path):
    out = tmp_path / "run"
    args = [
        "ntk",
        "analyze",
        "--model",
        "tiny-encoder",
        "--start",
        "random",
        "--n",
        "16",
        "--n-test",
        "16",
        "--json",
        "--out",
        str(out),
        "--no-progress",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["n_train"] == 16 and summary["n_test"] == 16
    assert summary["n_params"] == 576 and summary["method"] == "exact"
    # the default head: a probe split of 32 tweets, disjoint from train and test
    assert summary["head"] == "probe split of 32"
    top = summary["spectrum"]["top_eigenvalues"]
    assert top == sorted(top, reverse=True) and top[0] > 0
    stop = summary["stopping"]
    assert stop["noise_plugin"] == "label-range" and stop["noise_level"] == 1.0
    assert summary["at_T_hat"]["step"] == stop["T_hat"]
    assert summary["at_start"]["step"] == 0
    assert 0 <= summary["at_best"]["test_accuracy"] <= 1
    for name in ("spectrum.png", "risk.png", "summary.json"):
        assert (out / name).stat().st_size > 0
    assert json.loads((out / "summary.json").read_text())["n_params"] == 576


def test_analyze_summary_in_words_with_the_sketch():
    args = [
        "ntk",
        "analyze",
        "--model",
        "tiny-causal",
        "--start",
        "random",
        "--n",
        "8",
        "--n-test",
        "4",
        "--method",
        "sketch",
        "--sketch-dim",
        "64",
        "--no-progress",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "P=512, method=sketch" in result.output
    assert "sketch JL bound" in result.output and "T_hat =" in result.output
    assert np.isfinite(float(result.output.split("T_hat = ")[1].split()[0]))


def test_analyze_errors_name_the_option():
    runner = CliRunner()
    bad_task = runner.invoke(main, ["ntk", "analyze", "--task", "imdb", "--n", "4"])
    assert bad_task.exit_code == 2 and "--task" in bad_task.output
    assert "name_or_csv must be one of" in bad_task.output
    tiny = runner.invoke(
        main, ["ntk", "analyze", "--model", "tiny-encoder", "--n", "4"]
    )
    assert tiny.exit_code == 2 and "use --start random" in tiny.output
    path = runner.invoke(
        main, ["ntk", "analyze", "--model", "/no/such/folder", "--n", "4"]
    )
    assert path.exit_code == 2 and "does not exist" in path.output
