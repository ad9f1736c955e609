"""``initscape ntk finetune`` and ``initscape reproduce ntk`` on a tiny model and
CSV tasks, through click's runner."""

import csv
import json

import numpy as np
import pytest
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
