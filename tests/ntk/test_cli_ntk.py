"""``initscape ntk analyze`` end to end on the tiny test model and real tweets."""

import json

import numpy as np
import pytest
import torch
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


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a CPU-only torch")
def test_analyze_cuda_on_a_cpu_only_torch_is_a_clean_error():
    # regression: "AssertionError: Torch not compiled with CUDA enabled"
    args = ["ntk", "analyze", "--n", "4", "--n-test", "4", "--model"]
    args += ["tiny-encoder", "--start", "random", "--device", "cuda"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "Invalid value for --device" in result.output
    assert "torch.cuda.is_available() is False" in result.output


@pytest.mark.parametrize("device", ["tpu", ""])
def test_analyze_unknown_device_is_a_clean_error(device):
    # regression: torch's own RuntimeError about the device string
    args = ["ntk", "analyze", "--n", "4", "--n-test", "4", "--model"]
    args += ["tiny-encoder", "--start", "random", "--device", device]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert f"Invalid value for '--device': '{device}' is not one of" in result.output


def test_analyze_bad_model_files_are_clean_errors(tmp_path):
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"GGUFgarbage")
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    folder = tmp_path / "folder"
    folder.mkdir()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{oops")
    table = tmp_path / "table.csv"
    table.write_text("text,label\na,b\n")
    cases = {
        fake: "which cannot be loaded (struct.error",
        empty: "an empty file",
        folder: "a folder without config.json",
        broken: "whose config.json cannot be read as JSON",
        table: "a file that is not a .gguf file",
    }
    for path, what in cases.items():
        args = ["ntk", "analyze", "--model", str(path), "--n", "4", "--n-test", "4"]
        result = CliRunner().invoke(main, [*args, "--no-progress"])
        assert result.exit_code == 2, result.output
        assert isinstance(result.exception, SystemExit)  # no traceback
        # click wraps long lines: compare with the line breaks taken out
        said = " ".join(result.output.split())
        assert "Invalid value for --model: name_or_path must be 'minilm'" in said
        assert "a Hugging Face model folder (with config.json and weights)" in said
        assert what in said


def test_analyze_empty_params_is_refused():
    args = ["ntk", "analyze", "--model", "tiny-encoder", "--start", "random"]
    result = CliRunner().invoke(main, [*args, "--n", "4", "--params", ""])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "Invalid value for --params" in result.output
    assert "non-empty regular expression; got ''" in result.output


def test_analyze_out_folder_that_cannot_be_made_is_refused_first(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    args = ["ntk", "analyze", "--model", "tiny-encoder", "--start", "random"]
    args += ["--n", "4", "--n-test", "4", "--out", str(blocker / "plots")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "Invalid value for --out: cannot create the folder" in result.output


def test_analyze_with_too_few_eigenvalues_for_a_decay_fit(tmp_path):
    # n = 4: the decay fit's window (the top half) holds 2 eigenvalues, too few
    args = ["ntk", "analyze", "--model", "tiny-encoder", "--start", "random"]
    args += ["--n", "4", "--n-test", "4", "--no-progress", "--out", str(tmp_path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "decay: not fitted (it needs 3 eigenvalues" in result.output
    assert (tmp_path / "spectrum.png").stat().st_size > 0
    as_json = CliRunner().invoke(main, [*args[:-2], "--json"])
    summary = json.loads(as_json.output)
    assert summary["spectrum"]["polynomial_rate"] is None


def test_analyze_empty_out_is_refused():
    args = ["ntk", "analyze", "--model", "tiny-encoder", "--start", "random"]
    result = CliRunner().invoke(main, [*args, "--n", "4", "--out", ""])
    assert result.exit_code == 2
    assert "Invalid value for --out: must be a folder path; got ''." in result.output
