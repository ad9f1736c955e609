"""``initscape reproduce sbm``: every figure, number and claim of the landscape.

:func:`reproduce` runs the whole study of issue 3 and writes, into one folder, the
figures, ``numbers.json`` and ``index.html`` (through :mod:`initscape.report`), with
each simulated number set beside its theoretical value. The grid of population
studies over ``n`` and the correlation sweeps go through
:func:`initscape.sweep.run_sweep`, so they use every local core or a Dask cluster.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from initscape.report import Claim, Section, write_report
from initscape.sbm.landscape._basins import basins
from initscape.sbm.landscape._census import critical_points
from initscape.sbm.landscape._figures import (
    plot_correlation_sweep,
    plot_joint_trajectories,
    plot_phase_portrait,
    plot_success_vs_n,
)
from initscape.sbm.landscape._study import (
    correlation_sweep,
    joint_trajectories,
    random_start_study,
    reduced_start_study,
    study_point,
)
from initscape.sbm.landscape._theory import (
    constants,
    critical_correlation,
    limit_success_probability,
)

__all__ = ["reproduce"]

logger = logging.getLogger(__name__)

#: (p, q) of the three regimes: sparse and dense with p + q < 1, and p + q > 1.
REGIMES = ((0.5, 0.1), (0.2, 0.1), (0.8, 0.5))

#: Sizes of each run: "quick" takes under a minute on two cores (18 s idle, 48 s
#: busy, measured), "full" 43 s on two idle cores (minutes on loaded ones).
PLANS = {
    "quick": {
        "census": (
            (100, 0.5, 0.1),
            (1000, 0.2, 0.1),
            (100, 0.8, 0.5),
            (1000, 0.8, 0.5),
        ),
        "portraits": ((100, 0.5, 0.1), (1000, 0.2, 0.1), (1000, 0.8, 0.5)),
        "resolution": 151,
        "ns": (100, 1000, 10000, 30000),
        "n_starts_n": 600,
        "reduced_ns": (100, 1000, 10000, 100000, 1000000),
        "reduced_starts": 20000,
        "sample_n": 1000,
        "sample_starts": 300,
        "sweep_settings": ((1000, 0.5, 0.1), (1000, 0.8, 0.5)),
        "sweep_starts": 100,
        "trajectory_starts": 6,
    },
    "full": {
        "census": (
            (100, 0.5, 0.1),
            (1000, 0.5, 0.1),
            (1000, 0.2, 0.1),
            (100, 0.2, 0.1),
            (100, 0.8, 0.5),
            (1000, 0.8, 0.5),
            (20, 0.5, 0.1),
            (10, 0.5, 0.3),
        ),
        "portraits": ((100, 0.5, 0.1), (1000, 0.2, 0.1), (1000, 0.8, 0.5)),
        "resolution": 301,
        "ns": (100, 300, 1000, 3000, 10000, 30000, 100000),
        "n_starts_n": 2000,
        "reduced_ns": (100, 1000, 10**4, 10**5, 10**6, 10**7, 10**8),
        "reduced_starts": 200000,
        "sample_n": 1000,
        "sample_starts": 1000,
        "sweep_settings": ((1000, 0.5, 0.1), (1000, 0.2, 0.1), (1000, 0.8, 0.5)),
        "sweep_starts": 200,
        "trajectory_starts": 8,
    },
}


def _constants_section(numbers):
    claims, table = [], {}
    for p, q in REGIMES:
        t, lam, c = constants(p, q)
        table[f"{p},{q}"] = {
            "t": t,
            "lambda": lam,
            "c": c,
            "P_inf": limit_success_probability(p, q),
        }
        claims.append(
            Claim(
                f"q < lambda < p at p={p}, q={q}",
                round(lam, 4),
                f"in ({q}, {p})",
                agrees=q < lam < p,
            )
        )
        claims.append(
            Claim(
                f"sign(p + q - 2 lambda) = sign(1 - p - q) at p={p}, q={q}",
                float(np.sign(p + q - 2 * lam)),
                float(np.sign(1 - p - q)),
                agrees=np.sign(p + q - 2 * lam) == np.sign(1 - p - q),
            )
        )
    numbers["constants"] = table
    text = (
        "t = (1/2) log[p(1-q)/(q(1-p))], lambda = log[(1-q)/(1-p)]/(2t) and "
        "c = (p + q - 2 lambda)/(p - q). lambda is the mean of s on [q, p] under the "
        "weight 1/(s(1-s)), which gives both facts (docstring of "
        "initscape.sbm.landscape.constants)."
    )
    return Section("Constants and regimes", text, claims)


def _census_section(plan, out, numbers):
    claims, table, figures, captions = [], {}, [], []
    for n, p, q in plan["census"]:
        census = critical_points(n, p, q)
        kinds = census.kind_counts()
        table[f"{n},{p},{q}"] = census.as_dict()
        lc = census.line_counts
        claims.append(
            Claim(
                f"n={n}, p={p}, q={q}: fixed points on x = y and x + y = 1 (census)",
                f"{lc['diagonal_found']} and {lc['antidiagonal_found']}",
                f"{lc['diagonal']} and {lc['antidiagonal']} (sign changes)",
                agrees=census.complete,
                note=f"{len(census)} in all: "
                + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items()))
                + f"; {sum(c.attracting for c in census.cycles)} attracting 2-cycle(s)",
            )
        )
    for n, p, q in plan["portraits"]:
        census = critical_points(n, p, q)
        basin = basins(n, p, q, resolution=plan["resolution"], census=census)
        table[f"{n},{p},{q}"]["basin_areas"] = basin.fractions()
        path = plot_phase_portrait(basin, out / f"phase_n{n}_p{p}_q{q}.png")
        figures.append(path)
        captions.append(
            f"Phase portrait, n={n}, p={p}, q={q}: basins by outcome; filled markers "
            "attract, open ones repel; dashed: 2-cycle."
        )
    numbers["census"] = table
    text = (
        "Every fixed point of the reduced population map x' = sigmoid(a(x - 1/2) + "
        "b(y - 1/2)), y' = sigmoid(b(x - 1/2) + a(y - 1/2)), a = 4t(p - lambda)(m - 1),"
        " b = 4t(q - lambda)m, found by Newton's method from a grid of starts, and "
        "checked against an independent count of the roots on the two symmetry lines."
        " The number of critical points depends on n and on the sign of 1 - p - q; "
        "when p + q > 1 the corners (0, 0) and (1, 1) form an attracting 2-cycle."
    )
    return Section("Critical points and basins", text, claims, figures, captions)


def _known_section(plan, out, numbers, scheduler, n_jobs, random_state, callback):
    from initscape.sweep import run_sweep

    claims = []
    # population studies over n, in parallel
    points = [
        {
            "n": n,
            "p": p,
            "q": q,
            "n_starts": plan["n_starts_n"],
            "version": "population",
            "params": "known",
        }
        for p, q in REGIMES[:2]
        for n in plan["ns"]
    ]
    rows = run_sweep(
        study_point,
        points,
        scheduler=scheduler,
        n_jobs=n_jobs,
        random_state=random_state,
        callback=callback,
    )
    figures, captions = [], []
    table = {}
    for p, q in REGIMES[:2]:
        limit = limit_success_probability(p, q)
        sel = [
            dict(r, label=f"population, p={p}, q={q}")
            for r in rows
            if r["p"] == p and r["q"] == q
        ]
        table[f"{p},{q}"] = {"P_inf": limit, "rows": sel}
        reduced = []
        for n in plan["reduced_ns"]:
            fr, se = reduced_start_study(
                n, p, q, plan["reduced_starts"], random_state=random_state
            )
            reduced.append(
                {
                    "n": n,
                    "fraction": fr["truth"],
                    "standard_error": se["truth"],
                    "label": "2-D reduction, Gaussian start",
                }
            )
        table[f"{p},{q}"]["reduced"] = reduced
        claims.append(
            Claim(
                f"population, p={p}, q={q}: truth fraction at n={sel[-1]['n']} "
                f"(iid Uniform starts, known p, q)",
                sel[-1]["fraction"],
                limit,
                error=sel[-1]["standard_error"],
                agrees=_within_3_se(sel[-1], limit),
                note="P_inf = 1 - (2/pi) arctan|c| is the n -> inf limit; agrees = "
                "within 3 standard errors of it",
            )
        )
        claims.append(_trend_claim("population", p, q, sel, limit))
        claims.append(
            Claim(
                f"2-D reduction, p={p}, q={q}: truth fraction at n={reduced[-1]['n']}",
                reduced[-1]["fraction"],
                limit,
                error=reduced[-1]["standard_error"],
                agrees=_within_3_se(reduced[-1], limit),
                note="the reduced map from CLT block averages reaches larger n; "
                "agrees = within 3 standard errors of P_inf",
            )
        )
        claims.append(_trend_claim("2-D reduction", p, q, reduced, limit))
        path = plot_success_vs_n(
            sel + reduced,
            limit,
            out / f"success_vs_n_p{p}_q{q}.png",
            title=f"known p={p}, q={q}: random starts",
        )
        figures.append(path)
        captions.append(
            f"Fraction of random starts reaching the truth against n, "
            f"p={p}, q={q}, with the limit law P_inf = {limit:.3f}."
        )

    # sample BCAVI with known parameters
    n = plan["sample_n"]
    for p, q in REGIMES:
        study = random_start_study(
            n,
            p,
            q,
            plan["sample_starts"],
            version="sample",
            params="known",
            random_state=random_state,
        )
        table[f"sample,{n},{p},{q}"] = study.as_dict()
        f, se = study.fractions["truth"], study.standard_errors["truth"]
        claims.append(
            Claim(
                f"sample BCAVI, n={n}, p={p}, q={q}, known p, q: starts reaching "
                "the truth",
                f,
                study.limit,
                error=se,
                agrees=f >= 0.95,
                note="abstract: 'a significant proportion'; agrees = at least 95% "
                "of the starts. "
                "Predicted column: the population limit P_inf. Others: "
                + ", ".join(
                    f"{k} {v:.3f}" for k, v in study.fractions.items() if k != "truth"
                ),
            )
        )
    numbers["known"] = table
    text = (
        "With p and q known, iid Uniform(0, 1) starts. Linearised at (1/2, 1/2), the "
        "first step sends a start to the truth when a u0 + b v0 and b u0 + a v0 have "
        "opposite signs; for isotropic (u0, v0) this has probability "
        "P_inf = 1 - (2/pi) arctan|c|, the limit of the population fraction as n "
        "grows (the approach is slow: the edge saddles keep a share of the starts "
        "that the first step alone would send to one block). On a sampled graph "
        "the noise of A breaks the tie that the population map keeps, and nearly "
        "every random start reaches the truth."
    )
    return Section(
        "Known parameters: random starts reach the truth",
        text,
        claims,
        figures,
        captions,
    )


def _within_3_se(row, limit) -> bool:
    """Whether a measured fraction is within 3 standard errors of ``limit``."""
    return bool(abs(row["fraction"] - limit) <= 3 * row["standard_error"])


def _trend_claim(kind, p, q, rows, limit) -> Claim:
    """A separate claim about the trend in n: does the gap to P_inf shrink?"""
    first, last = rows[0], rows[-1]
    approaching = abs(last["fraction"] - limit) < abs(first["fraction"] - limit)
    word = "approaching" if approaching else "not approaching"
    return Claim(
        f"{kind}, p={p}, q={q}: trend of the truth fraction from n={first['n']} "
        f"to n={last['n']}",
        f"{word}: {first['fraction']:.3f} at n={first['n']}, "
        f"{last['fraction']:.3f} at n={last['n']}",
        f"P_inf {limit:.4f}",
        agrees=approaching,
        note="a claim about the direction only: agrees = the gap to P_inf is "
        "smaller at the largest n than at the smallest; it says nothing about "
        "reaching P_inf",
    )


def _estimated_section(plan, out, numbers, scheduler, n_jobs, random_state, callback):
    claims, table = [], {}
    n = plan["sample_n"]
    for version in ("sample", "population"):
        for p, q in REGIMES:
            study = random_start_study(
                n,
                p,
                q,
                plan["sample_starts"],
                version=version,
                params="estimated",
                random_state=random_state,
            )
            table[f"{version},{n},{p},{q}"] = study.as_dict()
            f = study.fractions["uninformative"]
            claims.append(
                Claim(
                    f"{version}, n={n}, p={p}, q={q}, p and q estimated: random starts "
                    "ending at the uninformative point",
                    f,
                    1.0,
                    error=study.standard_errors["uninformative"],
                    agrees=f >= 0.95,
                    note="abstract: 'a random initialization converges to an "
                    "uninformative local optimum'; criterion >= 95%",
                )
            )

    # trajectories: collapse from random starts, escape from correlated ones
    p, q = REGIMES[0]
    d_star = critical_correlation(n, p, q)
    collapse = joint_trajectories(
        n, p, q, plan["trajectory_starts"], 25, random_state=random_state
    )
    escape = [
        joint_trajectories(
            n, p, q, 3, 25, correlation=f * d_star, random_state=random_state
        )
        for f in (0.7, 1.5)
    ]
    figures = [
        plot_joint_trajectories(
            collapse, escape, out / "joint_trajectories.png", d_star=d_star
        )
    ]
    captions = [
        f"Joint estimation on one graph (n={n}, p={p}, q={q}): random starts "
        "collapse to psi = 1/2 within a few updates; correlated starts below "
        "d* collapse, above d* escape."
    ]
    table["trajectory_final_overlap"] = {
        "random": collapse.overlap[-1].tolist(),
        **{
            f"{r.settings['correlation'] / d_star:.2f} d*": r.overlap[-1].tolist()
            for r in escape
        },
    }

    # correlation sweeps against d*
    sweeps = []
    for n_s, p_s, q_s in plan["sweep_settings"]:
        sweep = correlation_sweep(
            n_s,
            p_s,
            q_s,
            n_starts=plan["sweep_starts"],
            random_state=random_state,
            scheduler=scheduler,
            n_jobs=n_jobs,
            callback=callback,
        )
        sweeps.append(sweep)
        table[f"sweep,{n_s},{p_s},{q_s}"] = sweep.as_dict()
        lo, hi = sweep.bracket
        claims.append(
            Claim(
                f"n={n_s}, p={p_s}, q={q_s}: start correlation where half the runs "
                "escape",
                sweep.d_half,
                sweep.d_star,
                agrees=bool(abs(sweep.d_half / sweep.d_star - 1) <= 0.2),
                note="d* = 2 sqrt(rho(1 - rho)/n)/(p - q); measured between "
                f"d = {lo:.4f} and {hi:.4f}; criterion: within 20% of d*",
            )
        )
    figures.append(plot_correlation_sweep(sweeps, out / "correlation_sweep.png"))
    captions.append(
        "Fraction of correlated starts that reach the truth under joint "
        "estimation, against d / d*."
    )
    numbers["estimated"] = table
    text = (
        "With p and q estimated after every update, the first M-step from an iid "
        "start gives p_hat - q_hat of order 1/n, so t_hat is tiny and the next psi "
        "is 1/2 up to O(1/n): every random start collapses to the uninformative "
        "point, where p_hat = q_hat = the edge density. A start with correlation d "
        "to the truth gives p_hat - q_hat = d^2 (p - q) and a new correlation "
        "(d/d*)^2 d, so starts escape exactly when d > d* = "
        "2 sqrt(rho(1 - rho)/n)/(p - q), rho = (p + q)/2."
    )
    return Section(
        "Estimated parameters: random starts collapse", text, claims, figures, captions
    )


def reproduce(
    out, *, quick=False, scheduler=None, n_jobs=None, random_state=0, callback=None
) -> Path:
    """Run the landscape study of issue 3 and write figures, numbers and a report.

    Parameters
    ----------
    out : str or pathlib.Path
        Output folder (created).
    quick : bool, default=False
        Smaller grids and fewer starts: under a minute on two cores (18 s idle,
        48 s busy), against 43 s on two idle cores for the full run.
    scheduler : str or None, default=None
        Dask scheduler address for the sweeps; local processes otherwise.
    n_jobs : int or None, default=None
        Local processes for the sweeps (``None``: every core).
    random_state : int, default=0
    callback : callable or None, default=None
        ``callback(done, total)`` over the report's sections.

    Returns
    -------
    pathlib.Path
        Path of ``index.html``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plan_name = "quick" if quick else "full"
    plan = PLANS[plan_name]
    numbers = {"plan": plan_name, "random_state": random_state}
    start = time.perf_counter()
    steps = [
        lambda: _constants_section(numbers),
        lambda: _census_section(plan, out, numbers),
        lambda: _known_section(
            plan, out, numbers, scheduler, n_jobs, random_state, None
        ),
        lambda: _estimated_section(
            plan, out, numbers, scheduler, n_jobs, random_state, None
        ),
    ]
    sections = []
    for k, step in enumerate(steps):
        sections.append(step())
        logger.info("reproduce sbm: section %d of %d done", k + 1, len(steps))
        if callback is not None:
            callback(k + 1, len(steps))
    numbers["seconds"] = time.perf_counter() - start
    intro = (
        "Mukherjee, Sarkar, Wang and Yan (NeurIPS 2018) map the landscape of batch "
        "coordinate-ascent mean-field inference (BCAVI) for the two-class stochastic "
        "block model. Their abstract: with known parameters a significant proportion "
        "of random initialisations converge to the ground truth; with parameters "
        "estimated, a random initialisation converges to an uninformative local "
        "optimum. This report measures each claim beside its theoretical value. "
        f"Plan: {plan_name}; seed {random_state}; "
        f"{numbers['seconds']:.0f} s of computation."
    )
    return write_report(
        out, "The landscape of mean-field SBM (initscape)", intro, sections, numbers
    )
