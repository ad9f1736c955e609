"""``initscape sbm landscape`` and ``initscape reproduce sbm``."""

import json

import pytest
from click.testing import CliRunner

from initscape.cli import main
from initscape.report import read_numbers
from initscape.sbm.landscape import _reproduce

TINY_PLAN = {
    "census": ((20, 0.5, 0.1), (100, 0.8, 0.5)),
    "portraits": ((20, 0.5, 0.1),),
    "resolution": 21,
    "ns": (100, 200),
    "n_starts_n": 20,
    "reduced_ns": (100, 1000),
    "reduced_starts": 500,
    "sample_n": 100,
    "sample_starts": 10,
    "sweep_settings": ((100, 0.5, 0.1),),
    "sweep_starts": 5,
    "trajectory_starts": 2,
}


def test_landscape_prints_census_and_fractions():
    result = CliRunner().invoke(
        main,
        [
            "sbm",
            "landscape",
            "--n",
            "100",
            "--p",
            "0.5",
            "--q",
            "0.1",
            "--n-starts",
            "20",
            "--seed",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "critical points (9, census complete)" in out
    assert out.count("edge_saddle") == 4
    assert "P_inf = 0.8975" in out
    for name in ("truth", "one_block", "uninformative", "cycle", "other"):
        assert f"  {name} " in out


def test_landscape_json_is_one_object():
    result = CliRunner().invoke(
        main,
        [
            "sbm",
            "landscape",
            "--n",
            "200",
            "--p",
            "0.8",
            "--q",
            "0.5",
            "--params",
            "estimated",
            "--version",
            "population",
            "--n-starts",
            "10",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["study"]["fractions"]["uninformative"] == 1.0
    assert payload["study"]["settings"]["params"] == "estimated"
    assert len(payload["census"]["points"]) == 3
    assert payload["census"]["cycles"][0]["attracting"] is False
    assert payload["limit_success_probability"] == pytest.approx(0.95355, abs=1e-5)


def test_landscape_bad_input_names_the_parameter():
    result = CliRunner().invoke(main, ["sbm", "landscape", "--p", "0.1", "--q", "0.5"])
    assert result.exit_code == 2
    assert "q must be smaller than p (assortative blocks); got p=0.1, q=0.5" in (
        result.output
    )
    result = CliRunner().invoke(main, ["sbm", "landscape", "--n", "101"])
    assert result.exit_code == 2 and "n must be even" in result.output


def test_reproduce_writes_figures_numbers_and_report(tmp_path, monkeypatch):
    monkeypatch.setitem(_reproduce.PLANS, "quick", TINY_PLAN)
    out = tmp_path / "rep"
    result = CliRunner().invoke(
        main, ["reproduce", "sbm", "--quick", "--out", str(out), "--jobs", "1"]
    )
    assert result.exit_code == 0, result.output
    numbers = read_numbers(out)
    assert set(numbers) >= {"constants", "census", "known", "estimated", "seconds"}
    assert numbers["plan"] == "quick"
    # every figure of the issue is written and shown in the page
    page = (out / "index.html").read_text()
    figures = sorted(p.name for p in out.glob("*.png"))
    assert figures == sorted(
        [
            "phase_n20_p0.5_q0.1.png",
            "success_vs_n_p0.5_q0.1.png",
            "success_vs_n_p0.2_q0.1.png",
            "joint_trajectories.png",
            "correlation_sweep.png",
        ]
    )
    for name in figures:
        assert f'src="{name}"' in page
    # each claim of the abstract is set beside its theory
    assert "random starts ending at the uninformative point" in page
    assert "starts reaching the truth" in page
    assert "start correlation where half the runs escape" in page
    assert "d* = 2 sqrt(rho(1 - rho)/n)/(p - q)" in page
    sweep = numbers["estimated"]["sweep,100,0.5,0.1"]
    assert sweep["d_star"] == pytest.approx(2 * (0.21 / 100) ** 0.5 / 0.4)


def test_population_fraction_agrees_only_within_three_standard_errors():
    # The quick run's p=0.2, q=0.1 row: 0.995 +- 0.0029 at n=30000 against
    # P_inf 0.9396 is 19 standard errors away, though closer than at n=100.
    rows = [
        {"n": 100, "fraction": 1.0, "standard_error": 0.0},
        {"n": 30000, "fraction": 0.995, "standard_error": 0.0029},
    ]
    assert not _reproduce._within_3_se(rows[-1], 0.9396)
    assert _reproduce._within_3_se(rows[-1], 0.995 - 3 * 0.0029 + 1e-9)
    trend = _reproduce._trend_claim("population", 0.2, 0.1, rows, 0.9396)
    assert trend.agrees is True
    assert trend.measured == "approaching: 1.000 at n=100, 0.995 at n=30000"
    assert trend.predicted == "P_inf 0.9396"
    assert "a claim about the direction only" in trend.note
    away = _reproduce._trend_claim("population", 0.2, 0.1, rows[::-1], 0.9396)
    assert away.agrees is False and away.measured.startswith("not approaching")


def test_report_and_help_use_the_users_words():
    import inspect

    source = inspect.getsource(_reproduce)
    assert "the issue asks" not in source and "closer to P_inf than" not in source
    text = CliRunner().invoke(main, ["reproduce", "sbm", "--help"]).output
    assert "under a minute on two cores (18 s idle, 48 s busy)" in " ".join(
        text.split()
    )


def test_an_output_folder_that_cannot_be_made_is_a_usage_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(
        main, ["reproduce", "sbm", "--quick", "--out", str(blocker / "report")]
    )
    assert result.exit_code == 2
    assert "Invalid value for --out: cannot create the folder" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_request_too_large_for_memory_is_a_clear_error():
    # 10^11 nodes: the population study's per-start arrays need hundreds of GiB
    result = CliRunner().invoke(
        main,
        [
            "sbm",
            "landscape",
            "--n",
            "100000000000",
            "--p",
            "0.5",
            "--q",
            "0.1",
            "--version",
            "population",
            "--n-starts",
            "5",
        ],
    )
    assert result.exit_code == 1
    assert "Error: out of memory: Unable to allocate" in result.output
    assert "Try a smaller problem" in result.output
    assert isinstance(result.exception, SystemExit)
