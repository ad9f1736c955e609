"""Figures of the landscape (matplotlib, Agg backend; files only, no windows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = [
    "plot_correlation_sweep",
    "plot_joint_trajectories",
    "plot_phase_portrait",
    "plot_success_vs_n",
]

_KIND_STYLE = {
    "truth": ("tab:green", "o"),
    "swapped_truth": ("tab:green", "s"),
    "one_block": ("tab:orange", "D"),
    "edge_saddle": ("tab:purple", "^"),
    "uninformative": ("black", "X"),
    "other": ("tab:gray", "P"),
    "cycle": ("tab:red", "*"),
}
_OUTCOME_COLOUR = {
    "truth": "#b7e4b0",
    "one_block": "#fdd49e",
    "uninformative": "#d9d9d9",
    "cycle": "#fcbba1",
    "other": "#dadaeb",
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def plot_phase_portrait(basins, path, *, arrows=17):
    """Basins coloured by outcome, the map's displacement, fixed points by kind.

    Filled markers are attracting fixed points, open markers repelling or saddles;
    2-cycles are drawn as dashed segments between their two points.

    Parameters
    ----------
    basins : Basins
    path : str or pathlib.Path
        Output image.
    arrows : int, default=17
        Arrows per axis of the displacement field ``G(x, y) - (x, y)``.

    Returns
    -------
    pathlib.Path
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch
    from scipy.special import expit

    from initscape.sbm.landscape._population import logit_map

    plt = _pyplot()
    census = basins.census
    names = list(_OUTCOME_COLOUR)
    codes = np.vectorize(names.index)(basins.outcome)
    fig, ax = plt.subplots(figsize=(6.2, 5.6))
    ax.imshow(
        codes,
        origin="lower",
        extent=(0, 1, 0, 1),
        interpolation="nearest",
        cmap=ListedColormap([_OUTCOME_COLOUR[k] for k in names]),
        vmin=-0.5,
        vmax=len(names) - 0.5,
    )

    # displacement field, normalised so that every arrow shows a direction
    g = (np.arange(arrows) + 0.5) / arrows
    gx, gy = np.meshgrid(g, g)
    w = np.stack([np.log(gx) - np.log1p(-gx), np.log(gy) - np.log1p(-gy)], axis=-1)
    new = expit(logit_map(w, census.coefficients))
    dx, dy = new[..., 0] - gx, new[..., 1] - gy
    norm = np.hypot(dx, dy) + 1e-12
    ax.quiver(gx, gy, dx / norm, dy / norm, color="0.35", scale=40, width=0.003)

    # fixed points by kind, then cycles
    seen = set()
    for point in census:
        colour, marker = _KIND_STYLE[point.kind]
        label = point.kind if point.kind not in seen else None
        seen.add(point.kind)
        ax.plot(
            point.x,
            point.y,
            marker=marker,
            ms=10,
            mec=colour,
            mew=2,
            mfc=colour if point.stable else "white",
            ls="none",
            label=label,
            clip_on=False,
            zorder=5,
        )
    for cycle in census.cycles:
        (x1, y1), (x2, y2) = cycle.points
        ax.plot(
            [x1, x2],
            [y1, y2],
            ls="--",
            color="tab:red",
            marker="*",
            ms=11,
            mfc="tab:red" if cycle.attracting else "white",
            label="2-cycle" if "cycle" not in seen else None,
            clip_on=False,
        )
        seen.add("cycle")

    handles, _ = ax.get_legend_handles_labels()
    patches = [
        Patch(color=_OUTCOME_COLOUR[k], label=f"basin: {k}")
        for k in names
        if np.any(basins.outcome == k)
    ]
    ax.legend(
        handles=handles + patches,
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
        fontsize=8,
        frameon=False,
    )
    ax.set_xlabel("x (mean psi on block 1)")
    ax.set_ylabel("y (mean psi on block 2)")
    ax.set_title(f"population BCAVI, n={census.n}, p={census.p:g}, q={census.q:g}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    return _save(fig, path)


def plot_success_vs_n(rows, limit, path, *, title=""):
    """Fraction of random starts reaching the truth against ``n``, with ``P_inf``.

    Parameters
    ----------
    rows : list of dict
        Each with ``n``, ``fraction``, ``standard_error`` and ``label`` (one curve
        per label).
    limit : float
        ``P_inf``, drawn as a horizontal line.
    path : str or pathlib.Path

    Returns
    -------
    pathlib.Path
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    labels = list(dict.fromkeys(row["label"] for row in rows))
    for label in labels:
        sel = [row for row in rows if row["label"] == label]
        ax.errorbar(
            [r["n"] for r in sel],
            [r["fraction"] for r in sel],
            yerr=[2 * r["standard_error"] for r in sel],
            marker="o",
            capsize=3,
            label=label,
        )
    ax.axhline(limit, color="k", ls="--", label=f"P_inf = {limit:.3f}")
    ax.set_xscale("log")
    ax.set_xlabel("n (nodes)")
    ax.set_ylabel("fraction reaching the truth (± 2 s.e.)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_joint_trajectories(collapse, escape, path, *, d_star=None):
    """Joint estimation: block averages and overlap per update.

    Parameters
    ----------
    collapse : Trajectories
        Runs from random starts (they collapse to ``(1/2, 1/2)``).
    escape : list of Trajectories
        Runs from correlated starts, one per correlation, for contrast.
    path : str or pathlib.Path
    d_star : float or None, default=None

    Returns
    -------
    pathlib.Path
    """
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    steps = np.arange(collapse.block_averages.shape[0])
    for k in range(collapse.block_averages.shape[1]):
        left.plot(
            steps,
            collapse.block_averages[:, k, 0],
            color="tab:blue",
            alpha=0.7,
            label="x (block 1)" if k == 0 else None,
        )
        left.plot(
            steps,
            collapse.block_averages[:, k, 1],
            color="tab:orange",
            alpha=0.7,
            label="y (block 2)" if k == 0 else None,
        )
    left.axhline(0.5, color="k", lw=0.8)
    left.set_xlabel("update")
    left.set_ylabel("block average of psi")
    left.set_title("random starts, parameters estimated: collapse to 1/2")
    left.legend(fontsize=8)

    tiny = 1e-17
    for k in range(collapse.overlap.shape[1]):
        right.plot(
            steps,
            collapse.overlap[:, k] + tiny,
            color="0.5",
            alpha=0.8,
            label="random start" if k == 0 else None,
        )
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for j, run in enumerate(escape):
        d = run.settings["correlation"]
        tag = f"d = {d:.3f}" + (f" = {d / d_star:.2f} d*" if d_star else "")
        for k in range(run.overlap.shape[1]):
            right.plot(
                np.arange(run.overlap.shape[0]),
                run.overlap[:, k] + tiny,
                color=colours[j % len(colours)],
                alpha=0.8,
                label=tag if k == 0 else None,
            )
    right.set_yscale("log")
    right.set_ylim(1e-17, 2)
    right.set_xlabel("update")
    right.set_ylabel("overlap |mean (2 psi - 1)(2 z - 1)|")
    right.set_title("overlap with the truth")
    right.legend(fontsize=8)
    return _save(fig, path)


def plot_correlation_sweep(sweeps, path):
    """Fraction reaching the truth against start correlation ``d``, ``d*`` marked.

    Parameters
    ----------
    sweeps : list of CorrelationSweep
        One curve each, ``d`` drawn in units of that sweep's ``d*``.
    path : str or pathlib.Path

    Returns
    -------
    pathlib.Path
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for sweep in sweeps:
        s = sweep.settings
        ax.errorbar(
            sweep.correlations / sweep.d_star,
            sweep.fractions,
            yerr=2 * sweep.standard_errors,
            marker="o",
            capsize=3,
            label=f"n={s['n']}, p={s['p']:g}, q={s['q']:g} ({s['version']}); "
            f"d*={sweep.d_star:.3f}",
        )
    ax.axvline(1.0, color="k", ls="--", label="d = d*")
    ax.axhline(0.5, color="0.6", lw=0.8)
    ax.set_xlabel("start correlation d / d*")
    ax.set_ylabel("fraction reaching the truth (± 2 s.e.)")
    ax.set_title("joint estimation: escaping the collapse")
    ax.legend(fontsize=7)
    return _save(fig, path)
