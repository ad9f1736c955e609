"""Time and peak memory of the eNTK of MiniLM's attention parameters on real tweets.

For each n, every method runs in a fresh Python process (so that its peak resident
memory is its own) and is compared with two references measured the same way:

- floor: n forward-and-backward passes, one example at a time, gradients dropped;
- naive: the same loop keeping every per-example gradient (an n x P float32
  matrix), then K = G G^T in float64, column chunk by column chunk.

Run: ``python benchmarks/bench_entk.py`` (defaults: n = 64 and 256, methods
floor naive exact sketch, and ntkvp only for n <= ``--ntkvp-max-n``, 32 by
default, since it costs n^2 example passes in forward mode: at n = 64 it ran past
11 minutes on 2 busy cores). ``--n 64 --methods exact sketch`` narrows it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_one(method, n, block_size, sketch_dim):
    """Run one method in this process; return a dict of numbers."""
    import numpy as np
    import torch

    from initscape import ntk

    task = ntk.load_task("tweets-sentiment", n_train=n, n_test=2, random_state=0)
    model = ntk.load_model("minilm")
    model.fit_head(model.encode(task.train.texts), task.train.labels)
    base = _rss_mb()
    start = time.perf_counter()
    if method in ("floor", "naive"):
        params = dict(model.module.named_parameters())
        names = list(model.named_trainable("attention"))
        leaves = [params[k] for k in names]
        inputs = model.encode(task.train.texts)
        p = sum(v.numel() for v in leaves)
        grads = torch.empty((n, p)) if method == "naive" else None
        for i in range(n):
            row = {k: v[i : i + 1] for k, v in inputs.items()}
            width = int(row["attention_mask"].sum())
            row = {k: v[:, :width] for k, v in row.items()}
            out = model.module(**row)[0]
            g = torch.autograd.grad(out, leaves)
            if grads is not None:
                grads[i] = torch.cat([x.reshape(-1) for x in g])
        if grads is not None:
            kernel = np.zeros((n, n))
            for c in range(0, p, 1 << 20):
                block = grads[:, c : c + (1 << 20)].double()
                kernel += (block @ block.T).numpy()
        p_count = p
    else:
        result = ntk.empirical_ntk(
            model,
            task.train,
            method=method,
            block_size=block_size,
            sketch_dim=sketch_dim,
            random_state=0,
        )
        p_count = result.n_params
    seconds = time.perf_counter() - start
    return {
        "method": method,
        "n": n,
        "seconds": seconds,
        "P": p_count,
        "peak_mb": _rss_mb(),
        "base_mb": base,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[64, 256])
    parser.add_argument(
        "--methods", nargs="+", default=["floor", "naive", "exact", "ntkvp", "sketch"]
    )
    parser.add_argument("--block-size", type=int, default=64)
    parser.add_argument("--sketch-dim", type=int, default=256)
    parser.add_argument("--ntkvp-max-n", type=int, default=32)
    parser.add_argument(
        "--one", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()

    if args.one:
        out = run_one(args.one[0], int(args.one[1]), args.block_size, args.sketch_dim)
        print("RESULT " + json.dumps(out))
        return

    rows = []
    for n in args.n:
        for method in args.methods:
            if method == "ntkvp" and n > args.ntkvp_max_n:
                continue
            cmd = [
                sys.executable,
                __file__,
                "--one",
                method,
                str(n),
                "--block-size",
                str(args.block_size),
                "--sketch-dim",
                str(args.sketch_dim),
            ]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
            if not line:
                print(f"{method} n={n} failed:\n{done.stderr[-2000:]}")
                continue
            rows.append(json.loads(line[0][7:]))
            r = rows[-1]
            print(
                f"  done {method:6s} n={n:4d}: {r['seconds']:.1f} s, peak "
                f"{r['peak_mb']:.0f} MB (after loading {r['base_mb']:.0f} MB)",
                flush=True,
            )

    print(
        f"\nMiniLM attention parameters, block_size={args.block_size}, "
        f"sketch_dim={args.sketch_dim}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    header = (
        f"{'n':>4} {'method':>7} {'seconds':>8} {'/floor':>7} {'/naive':>7} "
        f"{'peak MB':>8} {'extra MB':>8}"
    )
    print(header)
    print("-" * len(header))
    for n in args.n:
        here = {r["method"]: r for r in rows if r["n"] == n}
        floor = here.get("floor", {}).get("seconds")
        naive = here.get("naive", {}).get("seconds")
        for method, r in here.items():
            f = f"{r['seconds'] / floor:7.2f}" if floor else f"{'-':>7}"
            v = f"{r['seconds'] / naive:7.2f}" if naive else f"{'-':>7}"
            print(
                f"{n:4d} {method:>7} {r['seconds']:8.1f} {f} {v} "
                f"{r['peak_mb']:8.0f} {r['peak_mb'] - r['base_mb']:8.0f}"
            )


if __name__ == "__main__":
    main()
