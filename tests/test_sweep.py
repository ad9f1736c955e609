"""Tests of initscape.sweep: seeds by position, Dask equals local, resume."""

import json

import numpy as np
import pytest

from initscape.sweep import point_seeds, run_sweep

CALLS = []


def draw(a, b, random_state):
    """A sweep function whose output depends on its parameters and its seed."""
    CALLS.append((a, b))
    rng = np.random.default_rng(random_state)
    return {
        "mean": float(a + b * rng.standard_normal(50).mean()),
        "first": rng.random(),
    }


def fail_on_three(a, b, random_state):
    if a == 3:
        raise RuntimeError("interrupted")
    return draw(a, b, random_state)


POINTS = [{"a": a, "b": b} for a in range(5) for b in (0.5, 1.0)]


def test_seeds_depend_on_position_only():
    # spawned children: the first k seeds do not depend on how many are spawned,
    # and they are what SeedSequence.spawn gives directly
    ten = point_seeds(7, 10)
    assert point_seeds(7, 4) == ten[:4]
    assert len(set(ten)) == 10
    child = np.random.SeedSequence(7).spawn(3)[2]
    assert ten[2] == int(child.generate_state(1, np.uint64)[0]) >> 1


def test_local_pool_equals_serial_and_keeps_order():
    serial = run_sweep(draw, POINTS, n_jobs=1, random_state=3)
    pooled = run_sweep(draw, POINTS, n_jobs=2, random_state=3)
    assert pooled == serial
    assert [(r["a"], r["b"]) for r in serial] == [(p["a"], p["b"]) for p in POINTS]
    # the numbers are what the function gives with the point's own seed
    seeds = point_seeds(3, len(POINTS))
    assert serial[5]["mean"] == draw(**POINTS[5], random_state=seeds[5])["mean"]
    assert run_sweep(draw, POINTS, n_jobs=1, random_state=4) != serial


@pytest.mark.parametrize("processes", [False, True])
def test_dask_local_cluster_equals_local(processes, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    local = run_sweep(draw, POINTS[:4], n_jobs=1, random_state=11)
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        host="127.0.0.1",
        processes=processes,
        protocol="tcp",  # threads in-process would default to "inproc://"
        dashboard_address=None,
    ) as cluster:
        seen = []
        remote = run_sweep(
            draw,
            POINTS[:4],
            scheduler=cluster.scheduler_address,
            random_state=11,
            out=tmp_path / "d.jsonl",
            callback=lambda done, total: seen.append((done, total)),
        )
    assert remote == local
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)
    assert len((tmp_path / "d.jsonl").read_text().splitlines()) == 4


def test_interrupted_sweep_resumes(tmp_path):
    out = tmp_path / "sweep.jsonl"
    # the first run dies at a = 3 after writing the points before it
    with pytest.raises(RuntimeError, match="interrupted"):
        run_sweep(fail_on_three, POINTS, out=out, n_jobs=1, random_state=5)
    lines = out.read_text().splitlines()
    assert len(lines) == 6
    # a torn last line, as a kill during a write leaves, is skipped
    with out.open("a") as handle:
        handle.write('{"index": 6, "po')
    CALLS.clear()
    resumed = run_sweep(draw, POINTS, out=out, n_jobs=1, random_state=5)
    # only the missing points were computed, and the result equals a fresh run
    assert CALLS == [(p["a"], p["b"]) for p in POINTS[6:]]
    assert resumed == run_sweep(draw, POINTS, n_jobs=1, random_state=5)
    CALLS.clear()
    assert run_sweep(draw, POINTS, out=out, n_jobs=1, random_state=5) == resumed
    assert CALLS == []
    records = [json.loads(x) for x in out.read_text().splitlines() if x.endswith("}")]
    assert sorted(r["index"] for r in records) == list(range(len(POINTS)))


def test_bad_input(tmp_path):
    with pytest.raises(TypeError, match="points must be a list of dicts; got"):
        run_sweep(draw, [1, 2])
    with pytest.raises(TypeError, match="func must be callable; got int"):
        run_sweep(3, POINTS)
    with pytest.raises(ValueError, match="n_jobs must be >= 1; got 0"):
        run_sweep(draw, POINTS, n_jobs=0)
    with pytest.raises(ValueError, match="points must not contain 'random_state'"):
        run_sweep(draw, [{"a": 1, "b": 1, "random_state": 3}], n_jobs=1)
    out = tmp_path / "o.jsonl"
    run_sweep(draw, POINTS[:2], out=out, n_jobs=1, random_state=0)
    with pytest.raises(ValueError, match="but this sweep's point 0 is"):
        run_sweep(draw, POINTS[:2], out=out, n_jobs=1, random_state=1)
    with pytest.raises(TypeError, match="func must return a dict; got float"):
        run_sweep(lambda a, b, random_state: 1.0, POINTS[:1], n_jobs=1)
