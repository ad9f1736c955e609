"""``initscape sbm landscape`` and ``initscape reproduce sbm``.

``sbm landscape`` prints the census of the population BCAVI map for one
``(n, p, q)`` and where random starts end, each fraction with its Monte Carlo
standard error and the limit law ``P_inf`` beside it. ``reproduce sbm`` runs the
whole study of the landscape and writes figures, ``numbers.json`` and an HTML report.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from initscape.cli import reproduce_group, sbm_group
from initscape.cli._common import echo_json, output_folder, progress_bar


@sbm_group.command("landscape")
@click.option(
    "--n",
    "n",
    type=click.IntRange(min=4),
    default=1000,
    show_default=True,
    help="Number of nodes (even: two equal blocks).",
)
@click.option(
    "--p",
    "p",
    type=float,
    default=0.5,
    show_default=True,
    help="Within-block edge probability.",
)
@click.option(
    "--q",
    "q",
    type=float,
    default=0.1,
    show_default=True,
    help="Between-block edge probability (q < p).",
)
@click.option(
    "--params",
    type=click.Choice(["known", "estimated"]),
    default="known",
    show_default=True,
    help="p, q held fixed or estimated jointly.",
)
@click.option(
    "--version",
    "version",
    type=click.Choice(["sample", "population"]),
    default="sample",
    show_default=True,
    help="BCAVI on a sampled graph, or the population map.",
)
@click.option(
    "--init",
    type=click.Choice(["uniform", "bernoulli"]),
    default="uniform",
    show_default=True,
    help="Distribution of the iid random starts.",
)
@click.option("--centred", is_flag=True, help="Recentre each start to mean 1/2.")
@click.option(
    "--n-starts",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Number of random starts.",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def landscape_command(n, p, q, params, version, init, centred, n_starts, seed, as_json):
    """Census of critical points and where random starts end, for one (n, p, q)."""
    from initscape.sbm import landscape

    try:
        t, lam, c = landscape.constants(p, q)
        census = landscape.critical_points(n, p, q)
        start = time.perf_counter()
        with progress_bar("BCAVI", enabled=not as_json) as callback:
            study = landscape.random_start_study(
                n,
                p,
                q,
                n_starts,
                init=init,
                version=version,
                params=params,
                centred=centred,
                random_state=seed,
                callback=callback,
            )
        seconds = time.perf_counter() - start
    except (ValueError, TypeError) as error:
        raise click.UsageError(str(error)) from error

    summary = study.as_dict()
    payload = {
        "constants": {"t": t, "lambda": lam, "c": c},
        "limit_success_probability": study.limit,
        "census": census.as_dict(),
        "study": summary,
        "seconds": seconds,
    }
    if as_json:
        echo_json(payload)
        return
    _print_census(n, p, q, t, lam, c, census)
    _print_study(summary, study.limit, seconds)


def _print_census(n, p, q, t, lam, c, census):
    click.echo(f"two-class SBM landscape: n={n}, p={p:g}, q={q:g}")
    click.echo(f"  t = {t:.6g}, lambda = {lam:.6g}, c = {c:.6g}")
    a, b = census.coefficients[0]
    click.echo(f"  reduced map: a = {a:.6g}, b = {b:.6g}")
    status = "complete" if census.complete else "INCOMPLETE"
    click.echo(f"\ncritical points ({len(census)}, census {status}):")
    click.echo(
        f"  {'kind':<14} {'x':>10} {'y':>10} {'map |eig|':>11} {'stable':>7} "
        f"{'ELBO type':>9} {'ELBO':>14}"
    )
    for point in census:
        radius = max(abs(e) for e in point.map_eigenvalues)
        click.echo(
            f"  {point.kind:<14} {point.x:10.6f} {point.y:10.6f} {radius:11.4g} "
            f"{'yes' if point.stable else 'no':>7} {point.hessian_type:>9} "
            f"{point.elbo:14.6g}"
        )
    for cycle in census.cycles:
        (x1, y1), (x2, y2) = cycle.points
        kind = "attracting" if cycle.attracting else "repelling"
        click.echo(f"  2-cycle ({kind}): ({x1:.6f}, {y1:.6f}) <-> ({x2:.6f}, {y2:.6f})")


def _print_study(summary, limit, seconds):
    s = summary["settings"]
    click.echo(
        f"\nrandom starts: {s['n_starts']} x {s['init']}"
        f"{' (centred)' if s['centred'] else ''}, {s['version']}, parameters "
        f"{s['params']}  ({seconds:.1f} s)"
    )
    click.echo(f"  {'outcome':<14} {'fraction':>9} {'s.e.':>8}")
    for name, fraction in summary["fractions"].items():
        error = summary["standard_errors"][name]
        extra = f"   P_inf = {limit:.4f} (population limit)" if name == "truth" else ""
        click.echo(f"  {name:<14} {fraction:9.4f} {error:8.4f}{extra}")
    click.echo(
        f"  converged {summary['converged_fraction']:.3f}; median iterations "
        f"{summary['median_iterations']:.0f}; mean p_hat {summary['mean_p_hat']:.4f},"
        f" q_hat {summary['mean_q_hat']:.4f}"
    )


@reproduce_group.command("sbm")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reproduce-sbm"),
    show_default=True,
    help="Folder for the figures, numbers.json and index.html.",
)
@click.option(
    "--quick",
    is_flag=True,
    help="Smaller run: under a minute on two cores (18 s idle, 48 s busy); the "
    "full run took 43 s on two idle cores, minutes on loaded ones.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Dask scheduler address for the sweeps (default: local cores).",
)
@click.option(
    "--jobs",
    "n_jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Local worker processes (default: every core).",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
def reproduce_sbm(out, quick, scheduler, n_jobs, seed):
    """Rerun the SBM landscape study: figures, numbers and an HTML report."""
    from initscape.sbm.landscape._reproduce import reproduce as run

    start = time.perf_counter()
    out = output_folder(out)
    with progress_bar("reproduce sbm") as callback:
        index = run(
            out,
            quick=quick,
            scheduler=scheduler,
            n_jobs=n_jobs,
            random_state=seed,
            callback=callback,
        )
    click.echo(f"wrote {index} ({time.perf_counter() - start:.0f} s)")
    click.echo(f"numbers: {index.parent / 'numbers.json'}")
