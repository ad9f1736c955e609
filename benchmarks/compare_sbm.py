"""initscape's plain and degree-corrected SBM next to graph-tool and graspologic.

Run ``python benchmarks/compare_sbm.py`` (add ``--markdown`` for the README
table only). On karate, polbooks, football, adjnoun and polblogs-lcc, with K the
number of ground-truth classes, every method fits once and is scored by NMI and
ARI against the labels; seconds are wall-clock for the fit alone (interpreter
start and imports of the peers excluded, measured inside their processes).

- initscape: ``MeanFieldSBM`` and ``DegreeCorrectedSBM``, spectral starts,
  ``--n-init`` restarts (default 10), seed 0, the restart kept by the ELBO alone.
- graph-tool (Debian's ``python3-graph-tool``, run by ``/usr/bin/python3`` or
  ``$INITSCAPE_GRAPHTOOL_PYTHON``): ``minimize_blockmodel_dl`` with B fixed to K
  (``multilevel_mcmc_args=dict(B_min=K, B_max=K)``), ``deg_corr`` False and
  True, seeded by ``graph_tool.seed_rng(0)`` and ``numpy.random.seed(0)`` inside
  that process only (and ``random.seed(0)``, ``PYTHONHASHSEED=0``, one OpenMP
  thread). Debian's graph-tool 2.45 still varies from run to run on some
  networks despite all of these (adjnoun, degree-corrected: NMI 0.00 to 0.46
  over repeated runs, measured), so its cells are one draw.
- graspologic (``$INITSCAPE_GRASPOLOGIC_PYTHON`` or
  ``/work/venvs/graspologic/bin/python``): ``SBMEstimator`` and
  ``DCSBMEstimator`` with ``min_comm = max_comm = K``, undirected, no loops,
  ``numpy.random.seed(0)`` inside that process only.

A peer whose interpreter or package is missing is skipped with a note. The last
lines report the random-start landscape of the degree-corrected model on every
network (:func:`initscape.sbm.dcsbm_start_study`, 20 random and 20 spectral
starts).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from initscape.exceptions import ConvergenceWarning
from initscape.sbm import (
    DegreeCorrectedSBM,
    MeanFieldSBM,
    agreement,
    dcsbm_start_study,
    load_network,
)

DATASETS = ("karate", "polbooks", "football", "adjnoun", "polblogs-lcc")
#: NMI of the best established tool measured in issue 6 (seed 0).
TARGETS = {"polbooks": 0.57, "football": 0.92, "adjnoun": 0.43, "polblogs-lcc": 0.70}

GRAPHTOOL_SCRIPT = """
import json, random, sys, time
import numpy as np
import graph_tool
from graph_tool.inference import minimize_blockmodel_dl
data = np.load(sys.argv[1])
n, K = int(data["n"]), int(data["K"])
if graph_tool.openmp_enabled():
    graph_tool.openmp_set_num_threads(1)
out = {}
for dc in (False, True):
    graph_tool.seed_rng(0)
    np.random.seed(0)
    random.seed(0)
    g = graph_tool.Graph(directed=False)
    g.add_vertex(n)
    g.add_edge_list(data["edges"])
    start = time.perf_counter()
    state = minimize_blockmodel_dl(
        g, state_args=dict(deg_corr=dc),
        multilevel_mcmc_args=dict(B_min=K, B_max=K),
    )
    seconds = time.perf_counter() - start
    blocks = np.asarray(state.get_blocks().a)
    out["dc" if dc else "plain"] = {"labels": blocks.tolist(), "seconds": seconds}
print(json.dumps(out))
"""

GRASPOLOGIC_SCRIPT = """
import json, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from graspologic.models import DCSBMEstimator, SBMEstimator
data = np.load(sys.argv[1])
n, K = int(data["n"]), int(data["K"])
A = np.zeros((n, n))
e = data["edges"]
A[e[:, 0], e[:, 1]] = 1
A[e[:, 1], e[:, 0]] = 1
out = {}
for name, cls in (("plain", SBMEstimator), ("dc", DCSBMEstimator)):
    np.random.seed(0)
    start = time.perf_counter()
    model = cls(directed=False, loops=False, min_comm=K, max_comm=K).fit(A)
    seconds = time.perf_counter() - start
    labels = np.asarray(model.vertex_assignments_)
    out[name] = {"labels": labels.tolist(), "seconds": seconds}
print(json.dumps(out))
"""


def _interpreter(env, default, module):
    """Path of a peer's interpreter that can import ``module``, or a note why not."""
    path = os.environ.get(env, default)
    if not Path(path).exists():
        return None, f"{path} not found (set {env})"
    probe = subprocess.run(
        [path, "-c", f"import {module}"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        return None, f"{path} cannot import {module}"
    return path, None


def _run_peer(python, script, net, n_blocks, workdir):
    """Run a peer's script on one network; its labels and seconds per variant."""
    upper = np.transpose(np.nonzero(np.triu(net.adjacency.toarray(), 1)))
    data = Path(workdir) / f"{net.name}.npz"
    np.savez(data, n=net.n_nodes, K=n_blocks, edges=upper.astype(np.int64))
    env = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [python, "-c", script, str(data)], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    return json.loads(done.stdout)


def _fit_initscape(net, n_blocks, n_init):
    rows = {}
    for name, cls in (("plain", MeanFieldSBM), ("dc", DegreeCorrectedSBM)):
        model = cls(n_blocks=n_blocks, init="spectral", n_init=n_init, random_state=0)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(net.adjacency)
        rows[name] = {
            "labels": model.labels_,
            "seconds": time.perf_counter() - start,
        }
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-init", type=int, default=10)
    parser.add_argument("--markdown", action="store_true", help="README table only")
    parser.add_argument(
        "--no-study", action="store_true", help="skip the random-start line"
    )
    args = parser.parse_args(argv)

    # Which peers are here
    peers = {}
    notes = []
    for peer, env, default, module, script in (
        (
            "graph-tool",
            "INITSCAPE_GRAPHTOOL_PYTHON",
            "/usr/bin/python3",
            "graph_tool",
            GRAPHTOOL_SCRIPT,
        ),
        (
            "graspologic",
            "INITSCAPE_GRASPOLOGIC_PYTHON",
            "/work/venvs/graspologic/bin/python",
            "graspologic",
            GRASPOLOGIC_SCRIPT,
        ),
    ):
        python, why = _interpreter(env, default, module)
        if python is None:
            notes.append(f"{peer} skipped: {why}")
        else:
            peers[peer] = (python, script)

    # Fit every method on every network
    methods = ["initscape", *peers]
    table = []
    with tempfile.TemporaryDirectory() as workdir:
        for name in DATASETS:
            net = load_network(name)
            n_blocks = net.n_labels
            results = {"initscape": _fit_initscape(net, n_blocks, args.n_init)}
            for peer, (python, script) in peers.items():
                try:
                    results[peer] = _run_peer(python, script, net, n_blocks, workdir)
                except RuntimeError as exc:
                    notes.append(f"{peer} failed on {name}: {exc}")
            row = {"network": name, "n": net.n_nodes, "K": n_blocks, "cells": {}}
            for method in methods:
                for variant in ("plain", "dc"):
                    out = results.get(method, {}).get(variant)
                    if out is None:
                        continue
                    scores = agreement(net.labels, np.asarray(out["labels"]))
                    row["cells"][(method, variant)] = (
                        scores["nmi"],
                        scores["ari"],
                        out["seconds"],
                    )
            table.append(row)

    # The table, plain text and markdown
    columns = [(m, v) for m in methods for v in ("plain", "dc")]
    header = ["network", "n", "K"] + [f"{m} {v}" for m, v in columns]
    header += ["best initscape", "best peer", "target"]
    lines = []
    for row in table:
        cells = [row["network"], str(row["n"]), str(row["K"])]
        for key in columns:
            value = row["cells"].get(key)
            cells.append(
                "-"
                if value is None
                else f"{value[0]:.2f} / {value[1]:.2f} / {value[2]:.2f}s"
            )
        ours = [v[0] for (m, _), v in row["cells"].items() if m == "initscape"]
        peer = [v[0] for (m, _), v in row["cells"].items() if m != "initscape"]
        cells.append(f"{max(ours):.2f}")
        cells.append("-" if not peer else f"{max(peer):.2f}")
        target = TARGETS.get(row["network"])
        cells.append("-" if target is None else f"{target:.2f}")
        lines.append(cells)
    markdown = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(cells) + " |" for cells in lines),
    ]
    if not args.markdown:
        widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
        for cells in [header, *lines]:
            print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))
        print(
            "\ncells: NMI / ARI / seconds of the fit; best: largest NMI; target: "
            "NMI of issue 6\n"
        )
    print("\n".join(markdown))
    for note in notes:
        print(f"note: {note}")

    # The random-start landscape of the degree-corrected model
    if not args.no_study:
        print("\nrandom starts of the degree-corrected SBM, 20 per network:")
        for name in DATASETS:
            net = load_network(name)
            study = dcsbm_start_study(
                net.adjacency,
                net.n_labels,
                labels=net.labels,
                n_init=20,
                random_state=0,
            )
            print(f"{name}: {study.summary()}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (this process): {peak:.0f} MiB")


if __name__ == "__main__":
    sys.exit(main())
