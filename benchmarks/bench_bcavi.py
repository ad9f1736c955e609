"""Cost of one batched BCAVI iteration against its floor and against a loop.

One BCAVI iteration over R = 256 restarts on a sampled 100,000-node two-block graph
(average degree 20) is timed three ways, in one run:

- floor: the bare sparse product ``A @ V`` with ``V`` of shape (n_nodes, 256);
- batched: one iteration of ``run_twoclass`` (product, ELBO, update, stopping
  test), the CPU time between two consecutive progress callbacks (best of
  ``--iterations - 1``);
- looped: the same with the 256 restarts run one at a time (sum over restarts of
  the median iteration time).

Run: ``python benchmarks/bench_bcavi.py [--nodes N] [--restarts R] [--repeats K]``.
Prints a table of seconds per iteration and ratios, and the peak resident memory.
Times are CPU seconds of this process (``time.process_time``; the floor is the
best of ``--repeats``): on a machine shared with other jobs, wall-clock times
mostly measure the others. Everything timed here runs on one thread.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from initscape.sbm._sample import sample_sbm
from initscape.sbm._twoclass import run_twoclass


def _best_of(func, repeats):
    times = []
    for _ in range(repeats):
        start = time.process_time()
        func()
        times.append(time.process_time() - start)
    return min(times)


def _iteration_times(A, psi0, p, q, n_iter):
    """CPU seconds of each of the iterations 2..n_iter of ``run_twoclass``."""
    stamps = []
    run_twoclass(
        A,
        psi0,
        p=p,
        q=q,
        max_iter=n_iter,
        tol=1e-300,
        callback=lambda done, total: stamps.append(time.process_time()),
    )
    return np.diff(stamps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--restarts", type=int, default=256)
    parser.add_argument("--degree", type=float, default=20.0)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    # Graph and starts: p = 3 q, average degree about args.degree
    n, n_restarts, k = args.nodes, args.restarts, args.iterations
    q = args.degree / (2 * n)
    p = 3 * q
    A, _ = sample_sbm([n // 2, n - n // 2], [[p, q], [q, p]], random_state=0)
    rng = np.random.default_rng(1)
    psi0 = rng.uniform(size=(n, n_restarts))
    v = 2 * psi0 - 1

    # Floor: the bare product
    floor = _best_of(lambda: A @ v, args.repeats)

    # Batched: CPU time between consecutive callbacks = one whole iteration
    # (product, ELBO, update, stopping test); tol = 1e-300 so none stops
    per_batched = min(_iteration_times(A, psi0, p, q, k))

    # Looped: each restart alone, the same per-iteration time, summed
    per_looped = sum(
        float(np.median(_iteration_times(A, psi0[:, r], p, q, k)))
        for r in range(n_restarts)
    )

    # Report
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"graph: n={n}, edges={A.nnz // 2}, restarts={n_restarts}")
    print(
        f"{'what (CPU seconds, best of ' + str(args.repeats) + ')':<34}"
        f"{'seconds':>10}{'ratio':>8}"
    )
    print(f"{'floor A @ V (n x R)':<34}{floor:>10.4f}{1.0:>8.2f}")
    print(
        f"{'batched BCAVI iteration':<34}{per_batched:>10.4f}"
        f"{per_batched / floor:>8.2f}"
    )
    print(
        f"{'looped BCAVI iteration (R runs)':<34}{per_looped:>10.4f}"
        f"{per_looped / floor:>8.2f}"
    )
    print(f"looped / batched: {per_looped / per_batched:.1f}x")
    print(f"peak resident memory: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
