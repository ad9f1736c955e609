"""``initscape ntk finetune`` and ``initscape reproduce ntk`` on a tiny model and
CSV tasks, through click's runner."""

import csv
import json
import re
import time

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from initscape.cli import main
from initscape.report import read_numbers
from tests.ntk._toy import POLITICS, SPORT, word_task


@pytest.fixture(scope="module")
def csv_tasks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tasks")
    rng = np.random.default_rng(0)
    paths = []
    for name, words in (("sentiment", ()), ("topic", (SPORT, POLITICS))):
        split = word_task(100, rng, *words)
        path = folder / f"{name}.csv"
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["text", "label"])
            for text, label in zip(split.texts, split.labels, strict=True):
                writer.writerow([text, "pos" if label > 0 else "neg"])
        paths.append(str(path))
    return paths


def _finetune(args):
    result = CliRunner().invoke(main, ["ntk", "finetune", *args])
    return result


def test_finetune_json_reports_start_best_and_end(csv_tasks):
    args = [
        "--model",
        "tiny-encoder",
        "--task",
        csv_tasks[0],
        "--n",
        "6",
        "--n-test",
        "6",
        "--steps",
        "3",
        "--step-size",
        "0.2",
        "--json",
    ]
    result = _finetune(args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["n_steps"] == 3 and out["step_size"] == 0.2
    assert out["optimizer"] == "gd" and out["linearized"] is False
    assert 0 <= out["best"]["step"] <= 3
    assert out["best"]["test_risk"] <= out["start"]["test_risk"]
    # the linearised model starts from the same f_0: the same held-out risk at t=0
    lin = json.loads(_finetune([*args, "--linearized"]).output)
    assert lin["linearized"] is True
    assert lin["start"]["test_risk"] == pytest.approx(out["start"]["test_risk"])


def test_finetune_text_output_and_bad_task(csv_tasks, tmp_path):
    args = [
        "--model",
        "tiny-encoder",
        "--task",
        csv_tasks[0],
        "--n",
        "6",
        "--n-test",
        "4",
        "--steps",
        "2",
        "--step-size",
        "0.2",
        "--out",
        str(tmp_path),
    ]
    result = _finetune(args)
    assert result.exit_code == 0, result.output
    assert "held-out risk" in result.output
    history = json.loads((tmp_path / "history.json").read_text())
    assert history["steps"] == [0, 1, 2]
    assert (tmp_path / "learning_curve.png").stat().st_size > 0
    bad = _finetune(["--model", "tiny-encoder", "--task", "no-such-task"])
    assert bad.exit_code == 2
    assert "name_or_csv must be one of" in bad.output


def test_linearised_run_with_the_default_step_size(csv_tasks):
    # regression: --linearized without --step-size crashed in the power iteration
    args = ["--model", "tiny-encoder", "--start", "random", "--task", csv_tasks[0]]
    args += ["--n", "4", "--n-test", "4", "--steps", "1", "--json"]
    real = _finetune(args)
    linear = _finetune([*args, "--linearized"])
    assert real.exit_code == 0, real.output
    assert linear.exit_code == 0, linear.output
    # the eNTK of f_lin at theta_0 is that of f: the same power iteration
    alpha = json.loads(real.output)["step_size"]
    assert json.loads(linear.output)["step_size"] == pytest.approx(alpha, rel=1e-12)


def test_finetune_reports_the_time_of_the_whole_command(csv_tasks):
    # regression: only the steps' time was printed, a fraction of the command's
    args = ["--model", "tiny-encoder", "--task", csv_tasks[0], "--n", "4"]
    args += ["--n-test", "4", "--steps", "1", "--no-progress"]
    began = time.perf_counter()
    result = _finetune(args)
    elapsed = time.perf_counter() - began
    assert result.exit_code == 0, result.output
    line = result.output.splitlines()[0]
    found = re.search(
        r"; ([0-9.]+) s of training, ([0-9.]+) s choosing the step size, "
        r"([0-9.]+) s in all$",
        line,
    )
    assert found, line
    training, choosing, total = (float(v) for v in found.groups())
    # printed to 0.1 s: each number may be rounded by 0.05 either way
    assert training + choosing <= total + 0.1
    assert total <= elapsed + 0.05
    # --no-progress draws no bar on the (mixed-in) error stream
    assert "fine-tuning" not in result.output.replace("fine-tuned", "")


@pytest.mark.parametrize(
    ("extra", "option", "message"),
    [
        (["--seed", "-1"], "'--seed'", "-1 is not in the range x>=0"),
        (["--n", "1"], "'--n'", "1 is not in the range x>=2"),
        (["--n-test", "1"], "'--n-test'", "1 is not in the range x>=2"),
        (["--max-length", "0"], "'--max-length'", "0 is not in the range x>=1"),
        (["--device", "tpu"], "'--device'", "'tpu' is not one of 'cpu', 'cuda'"),
        (["--params", ""], "--params", "a non-empty regular expression; got ''"),
        (
            ["--checkpoint", "/nonexistent/dir/ck.pt"],
            "--checkpoint",
            "checkpoint must be a file in an existing folder",
        ),
        (
            ["--checkpoint", "/proc/ck.pt"],
            "--checkpoint",
            "checkpoint must be a file that can be written; got '/proc/ck.pt'",
        ),
    ],
)
def test_finetune_errors_name_the_option(csv_tasks, extra, option, message):
    args = ["--model", "tiny-encoder", "--task", csv_tasks[0], "--n", "4"]
    result = _finetune([*args, "--n-test", "4", "--steps", "1", *extra])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a click error, no traceback
    assert f"Invalid value for {option}" in result.output
    assert message in result.output


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a CPU-only torch")
def test_cuda_on_a_cpu_only_torch_is_a_clean_error(tmp_path):
    finetune = _finetune(["--model", "tiny-encoder", "--device", "cuda"])
    reproduce = CliRunner().invoke(
        main,
        ["reproduce", "ntk", "--quick", "--model", "tiny-encoder", "--device"]
        + ["cuda", "--out", str(tmp_path / "x")],
    )
    for result in (finetune, reproduce):
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
        assert "Invalid value for --device" in result.output
        assert "torch.cuda.is_available() is False" in result.output
    # refused before anything was written
    assert not (tmp_path / "x").exists()


def test_bad_model_or_checkpoint_file_is_a_clean_error(csv_tasks, tmp_path):
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"GGUFgarbage")
    model = _finetune(["--model", str(fake)])
    assert model.exit_code == 2 and isinstance(model.exception, SystemExit)
    assert "Invalid value for --model: name_or_path must be" in model.output
    # an existing file that is not a checkpoint: refused before any step
    table = csv_tasks[0]
    args = ["--model", "tiny-encoder", "--task", table, "--n", "4", "--n-test", "4"]
    ck = _finetune([*args, "--steps", "1", "--checkpoint", table, "--no-progress"])
    assert ck.exit_code == 2 and isinstance(ck.exception, SystemExit)
    assert "checkpoint must be a file written by finetune" in ck.output
    assert "cannot be read as one" in ck.output


@pytest.mark.slow
def test_reproduce_ntk_writes_report_and_numbers(csv_tasks, tmp_path):
    args = [
        "reproduce",
        "ntk",
        "--quick",
        "--model",
        "tiny-encoder",
        "--tasks",
        ",".join(csv_tasks),
        "--n-max",
        "8",
        "--steps",
        "2",
        "--out",
        str(tmp_path),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    page = (tmp_path / "index.html").read_text()
    for title in (
        "Real, linearised and kernel trajectories",
        "Stopping",
        "Pretrained vs random start",
        "Task vectors",
    ):
        assert title in page
    numbers = read_numbers(tmp_path)
    # the linearised run and the closed form are the same float64 trajectory
    assert numbers["trajectories"]["max_linear_vs_kernel"] < 1e-9
    assert numbers["stopping"]["fine_tuning"]["t_hat"] >= 0
    assert len(numbers["task_vectors"]["real_accuracy"]) == 16  # 4 x 4 alphas
    for name in ("trajectories", "learning_curves", "spectra", "task_vectors"):
        assert (tmp_path / f"{name}.png").is_file()


def test_reproduce_ntk_needs_two_tasks(csv_tasks):
    result = CliRunner().invoke(
        main, ["reproduce", "ntk", "--model", "tiny-encoder", "--tasks", csv_tasks[0]]
    )
    assert result.exit_code == 2
    assert "needs at least 2 comma-separated tasks" in result.output


def test_reproduce_loads_every_model_on_the_device(monkeypatch):
    # The eNTK is computed where the model lives, so a --device cuda run must load
    # the model there, not only move it for fine-tuning. Recorded on the CPU: the
    # loader is called with the device it is given.
    from initscape.ntk import _reproduce

    seen = []

    def fake_load_model(name, **kwargs):
        seen.append(("load_model", kwargs["device"]))
        raise RuntimeError("stop here")

    def fake_tiny_model(kind, **kwargs):
        seen.append(("tiny_model", kwargs["device"]))
        raise RuntimeError("stop here")

    monkeypatch.setattr(_reproduce, "load_model", fake_load_model)
    monkeypatch.setattr(_reproduce, "tiny_model", fake_tiny_model)
    for name in ("minilm", "tiny-encoder"):
        with pytest.raises(RuntimeError, match="stop here"):
            _reproduce._load(name, "pretrained", 0, 16, "cuda:1")
    assert seen == [("load_model", "cuda:1"), ("tiny_model", "cuda:1")]
