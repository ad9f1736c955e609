"""Figures of the fine-tuning study: learning curves, trajectories, spectra, grids.

Each function draws one figure from results of :mod:`initscape.ntk` and writes it
to ``path`` as a PNG (matplotlib's Agg backend, so no display is needed).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "plot_learning_curves",
    "plot_sample_size_sweep",
    "plot_spectra",
    "plot_task_vector_grid",
    "plot_trajectories",
]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _decay_label(label, rate):
    return f"{label}: no decay fit" if rate is None else f"{label}: j^-{rate:.2f}"


def plot_learning_curves(path, runs, kernel_paths=None):
    """Held-out risk along each run, T_hat marked (runs: (label, result, t_hat))."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(runs), figsize=(5 * len(runs), 3.6), squeeze=False)
    for ax, (label, result, t_hat), kp in zip(
        axes[0], runs, kernel_paths or [None] * len(runs), strict=True
    ):
        ax.plot(result.steps, result.test_risk, "o-", ms=3, label="held-out (real)")
        ax.plot(result.steps, result.train_risk, "-", alpha=0.6, label="train (real)")
        if kp is not None:
            ax.plot(kp.steps, kp.test_risk, "--", label="held-out (kernel GD)")
        if t_hat is not None:
            ax.axvline(t_hat, color="k", ls=":", label=f"T_hat = {t_hat}")
        ax.axvline(
            result.best_step,
            color="C3",
            ls="-.",
            alpha=0.6,
            label=f"best = {result.best_step}",
        )
        ax.set_xscale("symlog", linthresh=1)
        ax.set_xlim(left=0)
        ax.set_xlabel("step t")
        ax.set_ylabel("risk (mean squared error)")
        ax.set_title(label)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_trajectories(path, traj):
    plt = _pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    s = traj["steps"]
    a.plot(s, traj["real_test_risk"], "o-", ms=3, label="real network")
    a.plot(s, traj["linear_test_risk"], "s--", ms=3, label="linearised (jvp)")
    a.plot(s, traj["kernel_test_risk"], ":", lw=2, label="kernel GD, closed form")
    a.set_xlabel("step t")
    a.set_ylabel("held-out risk")
    a.legend(fontsize=8)
    b.plot(s, traj["real_vs_linear"], "o-", ms=3, label="real vs linearised")
    b.plot(
        s,
        np.maximum(traj["linear_vs_kernel"], 1e-16),
        "s--",
        ms=3,
        label="linearised vs kernel",
    )
    b.set_yscale("log")
    b.set_xlabel("step t")
    b.set_ylabel("RMS prediction gap")
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_spectra(path, starts):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for label, summary in starts.items():
        lam = np.asarray(summary["eigenvalues"])
        lam = lam[lam > 0]
        ax.loglog(
            np.arange(1, lam.size + 1),
            lam,
            "o-",
            ms=3,
            label=_decay_label(label, summary["polynomial_rate"]),
        )
    ax.set_xlabel("j")
    ax.set_ylabel("lambda_j of K/n")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_sample_size_sweep(path, sweep):
    plt = _pyplot()
    rows = sweep["rows"]
    n = [r["n"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    a.loglog(n, [r["best_risk"] for r in rows], "o-", label="best held-out risk")
    a.loglog(n, [r["risk_at_t_hat"] for r in rows], "s--", label="risk at T_hat")
    a.set_xlabel("n")
    a.legend(fontsize=8)
    b.loglog(n, [max(r["eta_best"], 1e-3) for r in rows], "o-", label="alpha t_best")
    b.loglog(n, [max(r["eta_t_hat"], 1e-3) for r in rows], "s--", label="alpha T_hat")
    b.set_xlabel("n")
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_task_vector_grid(path, values, real, kern, names):
    """Accuracy on each task over the (alpha_1, alpha_2) grid, real and kernel."""
    plt = _pyplot()
    k = len(values)
    fig, axes = plt.subplots(2, len(names), figsize=(4.2 * len(names), 7))
    for j, name in enumerate(names):
        for i, (label, grid) in enumerate((("real", real), ("kernel", kern))):
            ax = axes[i, j]
            img = ax.imshow(
                grid.accuracy[:, j].reshape(k, k),
                origin="lower",
                vmin=0,
                vmax=1,
                cmap="viridis",
            )
            ax.set_xticks(range(k), [f"{v:g}" for v in values])
            ax.set_yticks(range(k), [f"{v:g}" for v in values])
            ax.set_xlabel(f"alpha_2 ({names[1]})")
            ax.set_ylabel(f"alpha_1 ({names[0]})")
            ax.set_title(f"{label}: accuracy on {name}", fontsize=9)
            fig.colorbar(img, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
