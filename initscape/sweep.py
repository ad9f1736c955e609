"""Parameter sweeps that run in parallel, locally or on a Dask cluster, and resume.

:func:`run_sweep` calls ``func(**point, random_state=seed)`` for every ``point`` of a
list of parameter dicts. The seed of the point at position ``i`` is drawn from
``numpy.random.SeedSequence(random_state).spawn(len(points))[i]``, so it depends only
on ``random_state`` and the position: a sweep gives the same numbers whether it runs
in one process, in a local process pool or on a Dask cluster, and whether or not it
was interrupted and resumed.

Each finished point is appended to ``out`` as one JSON line and flushed at once; a
rerun with the same ``out`` reads the lines already there and computes only the
missing points.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import os
from pathlib import Path

import numpy as np

from initscape._validation import check_scalar

__all__ = ["point_seeds", "run_sweep"]

logger = logging.getLogger(__name__)


def point_seeds(random_state: int, n_points: int) -> list[int]:
    """The seed of each point of a sweep: one 63-bit int per position.

    ``SeedSequence(random_state).spawn(n_points)[i]`` generates the seed of point
    ``i``; spawned children are independent streams (NumPy's recommended way to seed
    parallel work), and the first ``k`` children do not depend on ``n_points``.
    """
    children = np.random.SeedSequence(random_state).spawn(n_points)
    return [int(c.generate_state(1, np.uint64)[0] >> np.uint64(1)) for c in children]


def _jsonable(value):
    # numpy scalars and arrays to plain Python; NaN and infinities become None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _normalise(value):
    # the form a value has after a trip through JSON, so fresh and resumed runs agree
    return json.loads(json.dumps(_jsonable(value)))


def _read_done(out: Path, points: list, seeds: list) -> dict:
    # completed points already in ``out``; a torn last line (interrupted write) is
    # skipped, a line that belongs to another sweep is an error
    done = {}
    if not out.exists():
        return done
    for lineno, line in enumerate(out.read_text().splitlines(), start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            logger.warning("skipping unreadable line %d of %s", lineno, out)
            continue
        i = record.get("index")
        if not isinstance(i, int) or not 0 <= i < len(points):
            raise ValueError(
                f"out {str(out)!r} line {lineno} has index {i!r}, outside this sweep "
                f"of {len(points)} points; use a new out file."
            )
        if record.get("point") != points[i] or record.get("seed") != seeds[i]:
            raise ValueError(
                f"out {str(out)!r} line {lineno} holds point {record.get('point')!r} "
                f"with seed {record.get('seed')!r}, but this sweep's point {i} is "
                f"{points[i]!r} with seed {seeds[i]!r}; use a new out file or the "
                "same points and random_state."
            )
        done[i] = record["result"]
    return done


def _call(func, point, seed):
    return func(**point, random_state=seed)


def _dask_client(scheduler):
    from dask.distributed import Client

    if isinstance(scheduler, Client):
        return scheduler, False
    return Client(scheduler), True


def run_sweep(
    func,
    points,
    *,
    out=None,
    scheduler=None,
    n_jobs=None,
    random_state=0,
    callback=None,
) -> list[dict]:
    """Evaluate ``func`` at every point of a parameter grid, in parallel.

    Parameters
    ----------
    func : callable
        Called as ``func(**point, random_state=seed)``; returns a dict of numbers
        (or lists of numbers), which must survive JSON. For a process pool or a Dask
        cluster it must be importable (a module-level function).
    points : list of dict
        The parameters of each evaluation, JSON-serialisable.
    out : str or pathlib.Path or None, default=None
        A JSON-lines file. Each finished point is appended as
        ``{"index", "point", "seed", "result"}`` and flushed; points already in the
        file are not computed again (resume).
    scheduler : str or dask.distributed.Client or None, default=None
        A Dask scheduler address (e.g. ``"tcp://127.0.0.1:8786"``) or client; when
        given, points run on that cluster instead of locally.
    n_jobs : int or None, default=None
        Local worker processes; ``None`` uses every core, ``1`` runs in this
        process (no pool). Ignored with a scheduler.
    random_state : int, default=0
        Root of the per-point seeds (see :func:`point_seeds`).
    callback : callable or None, default=None
        Called as ``callback(done, total)`` after each point (resumed ones count
        as done at the start).

    Returns
    -------
    list of dict
        One dict per point, in the order of ``points``: the point's parameters, its
        ``"seed"`` and the entries of ``func``'s result.
    """
    # check the arguments
    if not callable(func):
        raise TypeError(f"func must be callable; got {type(func).__name__}.")
    if not isinstance(points, (list, tuple)) or not all(
        isinstance(p, dict) for p in points
    ):
        raise TypeError(f"points must be a list of dicts; got {points!r:.80}.")
    random_state = check_scalar(random_state, "random_state", int, low=0)
    if n_jobs is None:
        n_jobs = os.cpu_count() or 1
    n_jobs = check_scalar(n_jobs, "n_jobs", int, low=1)
    points = [_normalise(p) for p in points]
    for p in points:
        if "random_state" in p or "seed" in p:
            raise ValueError(
                "points must not contain 'random_state' or 'seed' (run_sweep sets "
                f"them); got {p!r}."
            )
    seeds = point_seeds(random_state, len(points))
    total = len(points)

    # resume: read what an earlier run already wrote
    out = None if out is None else Path(out)
    results = _read_done(out, points, seeds) if out is not None else {}
    todo = [i for i in range(total) if i not in results]
    logger.info("sweep: %d points, %d already done", total, total - len(todo))
    if callback is not None:
        callback(total - len(todo), total)

    handle = None
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        torn = out.exists() and not out.read_bytes().endswith(b"\n")
        handle = out.open("a")
        if torn and out.stat().st_size > 0:
            handle.write("\n")  # end a torn line so the next record starts afresh

    def record(i, result):
        # keep the result in its JSON form and append it to the file at once
        if not isinstance(result, dict):
            raise TypeError(
                f"func must return a dict; got {type(result).__name__} for point "
                f"{points[i]!r}."
            )
        results[i] = _normalise(result)
        if handle is not None:
            line = {"index": i, "point": points[i], "seed": seeds[i]}
            line["result"] = results[i]
            handle.write(json.dumps(line) + "\n")
            handle.flush()
        if callback is not None:
            callback(len(results), total)

    try:
        if scheduler is not None:
            _run_dask(func, points, seeds, todo, scheduler, record)
        elif n_jobs == 1 or len(todo) <= 1:
            for i in todo:
                record(i, _call(func, points[i], seeds[i]))
        else:
            workers = min(n_jobs, len(todo))
            with concurrent.futures.ProcessPoolExecutor(workers) as pool:
                futures = {
                    pool.submit(_call, func, points[i], seeds[i]): i for i in todo
                }
                for future in concurrent.futures.as_completed(futures):
                    record(futures[future], future.result())
    finally:
        if handle is not None:
            handle.close()

    # flatten: parameters, seed, then the result's entries
    rows = []
    for i in range(total):
        clash = set(points[i]) & set(results[i])
        if clash:
            raise ValueError(
                f"func's result must not reuse the parameter names {sorted(clash)}; "
                f"got {results[i]!r}."
            )
        rows.append({**points[i], "seed": seeds[i], **results[i]})
    return rows


def _run_dask(func, points, seeds, todo, scheduler, record):
    from dask.distributed import as_completed

    client, owned = _dask_client(scheduler)
    try:
        futures = [
            client.submit(_call, func, points[i], seeds[i], pure=False) for i in todo
        ]
        index = {f.key: i for f, i in zip(futures, todo, strict=True)}
        for future in as_completed(futures):
            record(index[future.key], future.result())
    finally:
        if owned:
            client.close()
