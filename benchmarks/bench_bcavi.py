"""Cost of one batched BCAVI iteration against its floor and against a loop.

One BCAVI iteration over R = 256 restarts on a sampled 100,000-node two-block graph
(average degree 20) is timed three ways, in one run:

- floor: the bare sparse product ``A @ V`` with ``V`` of shape (n_nodes, 256);
- batched: one iteration of ``run_twoclass`` (product, ELBO, update, stopping
  test), from the difference between runs of ``k + 1`` and ``1`` iterations;
- looped: the same with the 256 restarts run one at a time.

Run: ``python benchmarks/bench_bcavi.py [--nodes N] [--restarts R] [--repeats K]``.
Prints a table of seconds per iteration and ratios, and the peak resident memory.
Times are CPU seconds of this process (``time.process_time``), best of
``--repeats``: on a machine shared with other jobs, wall-clock times mostly
measure the others. Everything timed here runs on one thread.
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--restarts", type=int, default=256)
    parser.add_argument("--degree", type=float, default=20.0)
    parser.add_argument("--iterations", type=int, default=4)
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

    # Batched: difference of k + 1 and 1 iterations (tol = 1e-300: none stops)
    def batched(iters):
        return run_twoclass(A, psi0, p=p, q=q, max_iter=iters, tol=1e-300)

    t_long = _best_of(lambda: batched(k + 1), args.repeats)
    t_short = _best_of(lambda: batched(1), args.repeats)
    per_batched = (t_long - t_short) / k

    # Looped: each restart alone, same difference
    def looped(iters):
        for r in range(n_restarts):
            run_twoclass(A, psi0[:, r], p=p, q=q, max_iter=iters, tol=1e-300)

    per_looped = _best_of(lambda: looped(k + 1), 1) - _best_of(lambda: looped(1), 1)
    per_looped /= k

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
