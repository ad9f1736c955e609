"""Where random starts end: the random-start study and the correlation sweep.

Outcome classification (one rule for every setting). A run ends at a state ``psi``;
its block averages ``(x, y)`` (means of ``psi`` over the true blocks) are compared
with every fixed point and every 2-cycle point of the census of the population map
at the true ``(n, p, q)`` (:func:`critical_points`), and the run takes the kind of
the nearest one:

* ``"truth"``: the truth or the swapped truth (either labelling);
* ``"one_block"``: a point on ``x = y`` other than the centre;
* ``"uninformative"``: ``(1/2, 1/2)``;
* ``"cycle"``: a point of a 2-cycle, for a run that did not converge;
* ``"other"``: an edge saddle or an unclassified point, or a run whose convergence
  status contradicts its nearest point (nearest to a fixed point without having
  converged, or nearest to a cycle point after converging).

No threshold is tuned to a setting: the census supplies the candidate end points
and the run is assigned to the closest. Each run also gets its *overlap* with the
truth, ``|mean_i (2 psi_i - 1)(2 z_i - 1)|``, which is 1 at the truth and 0 at the
uninformative point and at ``one_block`` (two equal blocks).

Monte Carlo standard errors. Starts are independent, so the fraction ``f`` of ``R``
starts in a class is a binomial proportion with standard error
``sqrt(f (1 - f) / R)``.
"""

from __future__ import annotations

import functools
import logging
import numbers
from dataclasses import dataclass, field

import numpy as np

from initscape._validation import check_option, check_random_state, check_scalar
from initscape.sbm.landscape._census import critical_points
from initscape.sbm.landscape._population import (
    check_sizes,
    full_population_map,
    population_estimates,
)
from initscape.sbm.landscape._theory import (
    check_probabilities,
    critical_correlation,
    limit_success_probability,
)

__all__ = [
    "CorrelationSweep",
    "OUTCOMES",
    "StudyResult",
    "classify_outcomes",
    "Trajectories",
    "classify_states",
    "correlation_sweep",
    "joint_trajectories",
    "random_start_study",
    "reduced_start_study",
    "study_point",
]

logger = logging.getLogger(__name__)

OUTCOMES = ("truth", "one_block", "uninformative", "cycle", "other")

_KIND_TO_OUTCOME = {
    "truth": "truth",
    "swapped_truth": "truth",
    "one_block": "one_block",
    "uninformative": "uninformative",
    "edge_saddle": "other",
    "other": "other",
}


@functools.lru_cache(maxsize=32)
def _census(n, p, q):
    return critical_points(n, p, q)


def _targets(census):
    # every candidate end point as (x, y), its outcome, and whether it is a cycle
    xy, outcome, is_cycle = [], [], []
    for point in census:
        xy.append((point.x, point.y))
        outcome.append(_KIND_TO_OUTCOME[point.kind])
        is_cycle.append(False)
    for cycle in census.cycles:
        for row in cycle.points:
            xy.append(tuple(row))
            outcome.append("cycle")
            is_cycle.append(True)
    return np.array(xy), np.array(outcome), np.array(is_cycle)


def block_averages(psi, z):
    """Means of ``psi`` over block 1 (``z = 0``) and block 2 (``z = 1``).

    Returns
    -------
    ndarray of shape (n_starts, 2)
    """
    psi = np.asarray(psi, dtype=np.float64).reshape(len(z), -1)
    ones = np.asarray(z).astype(bool)
    return np.stack([psi[~ones].mean(axis=0), psi[ones].mean(axis=0)], axis=1)


def overlap(psi, z):
    """``|mean_i (2 psi_i - 1)(2 z_i - 1)|`` per start: 1 at the truth, 0 at 1/2."""
    psi = np.asarray(psi, dtype=np.float64).reshape(len(z), -1)
    sign = 2 * np.asarray(z, dtype=np.float64) - 1
    return np.abs(((2 * psi - 1) * sign[:, None]).mean(axis=0))


def classify_outcomes(psi, z, census, converged):
    """Classify final states by their nearest census point (module docstring).

    Parameters
    ----------
    psi : ndarray of shape (n_nodes, n_starts)
        Final states.
    z : ndarray of shape (n_nodes,)
        True 0/1 labels.
    census : Census
        Census of the population map at the true setting.
    converged : ndarray of shape (n_starts,)
        Whether each run met its tolerance.

    Returns
    -------
    ndarray of shape (n_starts,)
        Outcome names from ``OUTCOMES``.
    """
    return classify_states(block_averages(psi, z), census, converged)[0]


def classify_states(xy, census, converged):
    """Classify block averages ``(x, y)`` by their nearest census point.

    Parameters
    ----------
    xy : ndarray of shape (n_states, 2)
    census : Census
    converged : ndarray of shape (n_states,)

    Returns
    -------
    outcomes : ndarray of shape (n_states,)
        Outcome names from ``OUTCOMES`` (module docstring for the rule).
    nearest : ndarray of shape (n_states,)
        Index of the nearest target: the census points in order, then the points
        of each 2-cycle.
    """
    targets, outcome, is_cycle = _targets(census)
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    distance = np.linalg.norm(xy[:, None, :] - targets[None, :, :], axis=2)
    nearest = np.argmin(distance, axis=1)
    result = outcome[nearest].astype(object)
    contradiction = is_cycle[nearest] == np.asarray(converged, dtype=bool).ravel()
    result[contradiction] = "other"
    return result.astype(str), nearest


def _mc_summary(outcomes):
    # fractions and binomial standard errors per outcome
    n_runs = len(outcomes)
    fractions, errors, counts = {}, {}, {}
    for name in OUTCOMES:
        k = int(np.count_nonzero(outcomes == name))
        f = k / n_runs
        counts[name], fractions[name] = k, f
        errors[name] = float(np.sqrt(f * (1 - f) / n_runs))
    return fractions, errors, counts


@dataclass
class StudyResult:
    """Where the random starts of :func:`random_start_study` ended.

    Attributes
    ----------
    fractions : dict
        Fraction of starts per outcome, keys ``"truth"``, ``"one_block"``,
        ``"uninformative"``, ``"cycle"``, ``"other"``.
    standard_errors : dict
        Monte Carlo standard error ``sqrt(f (1 - f) / n_starts)`` per outcome.
    counts : dict
        Number of starts per outcome.
    limit : float
        ``P_inf = 1 - (2 / pi) arctan |c|``, the population limit law for iid
        centred starts with known parameters (:func:`limit_success_probability`).
    outcomes : ndarray of shape (n_starts,)
    overlap : ndarray of shape (n_starts,)
        ``|mean_i (2 psi_i - 1)(2 z_i - 1)|`` at the end of each run.
    block_averages : ndarray of shape (n_starts, 2)
        Final ``(x, y)`` of each run.
    p_hat, q_hat : ndarray of shape (n_starts,)
        Final probabilities (the given ones when known).
    n_iter : ndarray of shape (n_starts,)
    converged : ndarray of shape (n_starts,)
    settings : dict
    census : Census
    """

    fractions: dict
    standard_errors: dict
    counts: dict
    limit: float
    outcomes: np.ndarray = field(repr=False)
    overlap: np.ndarray = field(repr=False)
    block_averages: np.ndarray = field(repr=False)
    p_hat: np.ndarray = field(repr=False)
    q_hat: np.ndarray = field(repr=False)
    n_iter: np.ndarray = field(repr=False)
    converged: np.ndarray = field(repr=False)
    settings: dict = field(default_factory=dict)
    census: object = field(default=None, repr=False)

    def as_dict(self) -> dict:
        """A JSON-ready summary (no per-start arrays)."""
        mean_overlap = {
            name: float(self.overlap[self.outcomes == name].mean())
            for name in OUTCOMES
            if self.counts[name]
        }
        return {
            "settings": dict(self.settings),
            "fractions": dict(self.fractions),
            "standard_errors": dict(self.standard_errors),
            "counts": dict(self.counts),
            "limit_success_probability": self.limit,
            "mean_overlap": mean_overlap,
            "converged_fraction": float(self.converged.mean()),
            "median_iterations": float(np.median(self.n_iter)),
            "mean_p_hat": float(np.mean(self.p_hat)),
            "mean_q_hat": float(np.mean(self.q_hat)),
        }


def draw_starts(init, n_nodes, n_starts, rng, *, centred=False):
    """Random starting ``psi`` of shape ``(n_nodes, n_starts)``.

    Parameters
    ----------
    init : {"uniform", "bernoulli"} or callable
        iid Uniform(0, 1), iid Bernoulli(1/2), or ``init(rng, shape)`` returning an
        array of that shape with entries in [0, 1] (a given distribution).
    n_nodes, n_starts : int
    rng : numpy.random.Generator
    centred : bool, default=False
        Shift each start so that its mean over nodes is exactly 1/2, then clip to
        [0, 1]: this removes the common component ``u + v`` of the start along which
        the population map sends a start to one block (or to the 2-cycle).

    Returns
    -------
    ndarray of shape (n_nodes, n_starts)
    """
    shape = (n_nodes, n_starts)
    if callable(init):
        psi0 = np.asarray(init(rng, shape), dtype=np.float64)
        if psi0.shape != shape or not np.all((psi0 >= 0) & (psi0 <= 1)):
            raise ValueError(
                f"init must return an array of shape {shape} with entries in "
                f"[0, 1]; got shape {psi0.shape}."
            )
    else:
        check_option(init, "init", ("uniform", "bernoulli"))
        if init == "uniform":
            psi0 = rng.random(shape)
        else:
            psi0 = rng.integers(0, 2, size=shape).astype(np.float64)
    if centred:
        psi0 = np.clip(psi0 - psi0.mean(axis=0) + 0.5, 0.0, 1.0)
    return psi0


#: Entries of an (n_nodes, n_starts) block that the population runs hold at once,
#: so that memory stays near 100 MB whatever n and the number of starts.
_CHUNK_ELEMENTS = 2**22


def _run_population(psi0, z, p, q, params, max_iter, tol, callback):
    # the starts in chunks of columns, each run by _run_population_chunk
    width = max(1, _CHUNK_ELEMENTS // psi0.shape[0])
    parts = []
    for start in range(0, psi0.shape[1], width):
        parts.append(
            _run_population_chunk(
                psi0[:, start : start + width], z, p, q, params, max_iter, tol
            )
        )
        if callback is not None:
            callback(min(start + width, psi0.shape[1]), psi0.shape[1])
    return tuple(np.concatenate(arrays, axis=-1) for arrays in zip(*parts, strict=True))


def _run_population_chunk(psi0, z, p, q, params, max_iter, tol):
    # iterate the n-dimensional population map; each start stops at its own tol
    psi = psi0.copy()
    n_starts = psi.shape[1]
    p_hat = np.full(n_starts, p, dtype=np.float64)
    q_hat = np.full(n_starts, q, dtype=np.float64)
    n_iter = np.zeros(n_starts, dtype=np.int64)
    converged = np.zeros(n_starts, dtype=bool)
    active = np.arange(n_starts)
    for _ in range(max_iter):
        new, p_used, q_used = full_population_map(
            psi[:, active], z, p, q, params=params
        )
        change = np.abs(new - psi[:, active]).max(axis=0)
        psi[:, active] = new
        p_hat[active], q_hat[active] = p_used, q_used
        n_iter[active] += 1
        done = change < tol
        converged[active[done]] = True
        active = active[~done]
        if active.size == 0:
            break
    if params == "estimated":
        # the estimates that go with the final state
        p_hat, q_hat = population_estimates(psi, z, p, q)
    return psi, p_hat, q_hat, n_iter, converged


def _run_sample(A, psi0, p, q, params, max_iter, tol, callback):
    from initscape.sbm._twoclass import run_twoclass

    known = params == "known"
    result = run_twoclass(
        A,
        psi0,
        p=p if known else None,
        q=q if known else None,
        max_iter=max_iter,
        tol=tol,
        callback=callback,
    )
    return result.psi, result.p, result.q, result.n_iter, result.converged


def _check_study_args(n, p, q, n_starts, version, params, max_iter, tol):
    n = check_scalar(n, "n", numbers.Integral, low=4)
    check_sizes(n)
    p, q = check_probabilities(p, q)
    n_starts = check_scalar(n_starts, "n_starts", numbers.Integral, low=1)
    check_option(version, "version", ("sample", "population"))
    check_option(params, "params", ("known", "estimated"))
    max_iter = check_scalar(max_iter, "max_iter", numbers.Integral, low=1)
    tol = check_scalar(tol, "tol", numbers.Real, low=0, low_inclusive=False)
    return n, p, q, n_starts, max_iter, tol


def _sample_graph(n, p, q, rng):
    from initscape.sbm._sample import sample_sbm

    return sample_sbm([n // 2, n // 2], [[p, q], [q, p]], random_state=rng)


def _finish(xy, overlaps, p_hat, q_hat, n_iter, converged, census, settings, limit):
    outcomes, _ = classify_states(xy, census, converged)
    fractions, errors, counts = _mc_summary(outcomes)
    return StudyResult(
        fractions=fractions,
        standard_errors=errors,
        counts=counts,
        limit=limit,
        outcomes=outcomes,
        overlap=overlaps,
        block_averages=xy,
        p_hat=np.asarray(p_hat, dtype=np.float64),
        q_hat=np.asarray(q_hat, dtype=np.float64),
        n_iter=np.asarray(n_iter),
        converged=np.asarray(converged, dtype=bool),
        settings=settings,
        census=census,
    )


def _population_summaries(draw, n_starts, z, p, q, params, max_iter, tol, callback):
    # draw, run and summarise the starts chunk by chunk, keeping memory bounded
    width = max(1, _CHUNK_ELEMENTS // len(z))
    parts = []
    for start in range(0, n_starts, width):
        psi0 = draw(min(width, n_starts - start))
        psi, p_hat, q_hat, n_iter, converged = _run_population_chunk(
            psi0, z, p, q, params, max_iter, tol
        )
        parts.append(
            (block_averages(psi, z), overlap(psi, z), p_hat, q_hat, n_iter, converged)
        )
        if callback is not None:
            callback(start + psi0.shape[1], n_starts)
    return tuple(np.concatenate(arrays) for arrays in zip(*parts, strict=True))


def random_start_study(
    n,
    p,
    q,
    n_starts=1000,
    init="uniform",
    version="sample",
    params="known",
    *,
    centred=False,
    max_iter=500,
    tol=1e-8,
    random_state=0,
    callback=None,
) -> StudyResult:
    """Run BCAVI from many random starts and record where each one ends.

    Parameters
    ----------
    n : int
        Number of nodes, even (two blocks of ``n / 2``).
    p, q : float
        True within- and between-block probabilities, ``0 < q < p < 1``.
    n_starts : int, default=1000
        Number of independent starts ``R``.
    init : {"uniform", "bernoulli"} or callable, default="uniform"
        Distribution of the starts (:func:`draw_starts`).
    version : {"sample", "population"}, default="sample"
        ``"sample"``: BCAVI (:func:`initscape.sbm._twoclass.run_twoclass`) on one
        graph drawn from the SBM; ``"population"``: the ``n``-dimensional population
        map (``A`` replaced by its expectation).
    params : {"known", "estimated"}, default="known"
        ``p, q`` held at their true values, or estimated jointly after each update.
    centred : bool, default=False
        Recentre each start to mean 1/2 (:func:`draw_starts`).
    max_iter : int, default=500
    tol : float, default=1e-8
        A run stops when ``max_i |psi_new_i - psi_i| < tol``.
    random_state : int, numpy.random.Generator or None, default=0
        Seeds the graph (drawn first) and then the starts.
    callback : callable or None, default=None
        ``callback(done, total)``: after each iteration (sample version) or each
        chunk of starts (population version).

    Returns
    -------
    StudyResult
        ``.fractions`` and ``.standard_errors`` keyed by ``"truth"``,
        ``"one_block"``, ``"uninformative"``, ``"cycle"``, ``"other"``; ``.limit``
        is ``P_inf = 1 - (2 / pi) arctan |c|``.
    """
    # check and draw: the graph first, then the starts
    n, p, q, n_starts, max_iter, tol = _check_study_args(
        n, p, q, n_starts, version, params, max_iter, tol
    )
    rng = check_random_state(random_state)

    # run every start and keep what each ended at
    if version == "sample":
        A, z = _sample_graph(n, p, q, rng)
        psi0 = draw_starts(init, n, n_starts, rng, centred=centred)
        psi, p_hat, q_hat, n_iter, converged = _run_sample(
            A, psi0, p, q, params, max_iter, tol, callback
        )
        xy, overlaps = block_averages(psi, z), overlap(psi, z)
    else:
        z = np.repeat(np.array([0, 1]), n // 2)

        def draw(width):
            return draw_starts(init, n, width, rng, centred=centred)

        xy, overlaps, p_hat, q_hat, n_iter, converged = _population_summaries(
            draw, n_starts, z, p, q, params, max_iter, tol, callback
        )

    # classify against the census of the true setting
    settings = {
        "n": n,
        "p": p,
        "q": q,
        "n_starts": n_starts,
        "init": init if isinstance(init, str) else getattr(init, "__name__", "custom"),
        "centred": bool(centred),
        "version": version,
        "params": params,
        "max_iter": max_iter,
        "tol": tol,
    }
    result = _finish(
        xy,
        overlaps,
        p_hat,
        q_hat,
        n_iter,
        converged,
        _census(n, p, q),
        settings,
        limit_success_probability(p, q),
    )
    logger.info("random-start study %s: %s", settings, result.fractions)
    return result


def correlated_starts(z, d, n_starts, rng):
    """Starts correlated with the truth: ``1/2 + (d/2)(2 z - 1) + (1 - d)(U - 1/2)``.

    ``U`` iid Uniform(0, 1), so entries stay in [0, 1] for ``d`` in [0, 1], the mean
    of ``psi_i`` is ``1/2 + (d/2)(2 z_i - 1)`` and the overlap with the truth is
    ``d`` on average.

    Returns
    -------
    ndarray of shape (n_nodes, n_starts)
    """
    sign = 2 * np.asarray(z, dtype=np.float64)[:, None] - 1
    noise = rng.random((len(z), n_starts)) - 0.5
    return np.clip(0.5 + 0.5 * d * sign + (1 - d) * noise, 0.0, 1.0)


def correlation_point(n, p, q, d, n_starts, version, params, graph_seed, random_state):
    """One point of :func:`correlation_sweep` (module-level, so workers import it).

    Returns
    -------
    dict
        ``fraction`` and ``standard_error`` of starts reaching the truth, the
        fractions of every outcome, and the mean final overlap.
    """
    rng = check_random_state(random_state)
    if version == "sample":
        A, z = _sample_graph(n, p, q, check_random_state(graph_seed))
    else:
        z = np.repeat(np.array([0, 1]), n // 2)
    psi0 = correlated_starts(z, d, n_starts, rng)
    if version == "sample":
        run = _run_sample(A, psi0, p, q, params, 500, 1e-8, None)
    else:
        run = _run_population(psi0, z, p, q, params, 500, 1e-8, None)
    psi, _, _, _, converged = run
    outcomes = classify_outcomes(psi, z, _census(n, p, q), converged)
    fractions, errors, _ = _mc_summary(outcomes)
    return {
        "fraction": fractions["truth"],
        "standard_error": errors["truth"],
        "fractions": fractions,
        "mean_overlap": float(overlap(psi, z).mean()),
        "start_overlap": float(overlap(psi0, z).mean()),
    }


@dataclass
class CorrelationSweep:
    """Success against start correlation, with ``d*`` and the crossing of 1/2.

    Attributes
    ----------
    correlations : ndarray of shape (n_points,)
        The ``d`` values, increasing.
    fractions : ndarray of shape (n_points,)
        Fraction of starts that reached the truth at each ``d``.
    standard_errors : ndarray of shape (n_points,)
    d_star : float
        ``2 sqrt(rho (1 - rho) / n) / (p - q)``.
    d_half : float
        Where the fraction crosses 1/2, by linear interpolation between the two
        bracketing points (NaN when it never crosses).
    bracket : tuple of float
        The two consecutive ``d`` between which the fraction crosses 1/2.
    rows : list of dict
        Everything :func:`correlation_point` returned, per point.
    settings : dict
    """

    correlations: np.ndarray
    fractions: np.ndarray
    standard_errors: np.ndarray
    d_star: float
    d_half: float
    bracket: tuple
    rows: list = field(repr=False)
    settings: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "settings": dict(self.settings),
            "correlations": self.correlations.tolist(),
            "fractions": self.fractions.tolist(),
            "standard_errors": self.standard_errors.tolist(),
            "d_star": self.d_star,
            "d_half": self.d_half,
            "d_half_over_d_star": self.d_half / self.d_star,
            "bracket": list(self.bracket),
        }


def _crossing(d, f):
    # first consecutive pair with f below 1/2 then at or above it
    for k in range(len(d) - 1):
        if f[k] < 0.5 <= f[k + 1]:
            d_half = d[k] + (0.5 - f[k]) * (d[k + 1] - d[k]) / (f[k + 1] - f[k])
            return float(d_half), (float(d[k]), float(d[k + 1]))
    return float("nan"), (float("nan"), float("nan"))


def correlation_sweep(
    n,
    p,
    q,
    correlations=None,
    n_starts=100,
    *,
    version="sample",
    params="estimated",
    random_state=0,
    scheduler=None,
    n_jobs=1,
    out=None,
    callback=None,
) -> CorrelationSweep:
    """Success of joint estimation against the start's correlation with the truth.

    Every point starts ``n_starts`` runs from
    ``psi_0 = 1/2 + (d/2)(2 z - 1) + (1 - d)(U - 1/2)`` (:func:`correlated_starts`)
    on one graph (the same for every ``d``) and records the fraction that reaches
    the truth. Below ``d* = 2 sqrt(rho (1 - rho) / n) / (p - q)`` the runs collapse
    to the uninformative point, above it they escape
    (:func:`critical_correlation` derives the threshold).

    Parameters
    ----------
    n : int
        Even number of nodes.
    p, q : float
        ``0 < q < p < 1``.
    correlations : array-like or None, default=None
        The ``d`` values; by default ``d*`` times 0.25, 0.5, 0.7, 0.8, 0.9, 1, 1.1,
        1.2, 1.4, 1.7, 2 and 3, capped at 1.
    n_starts : int, default=100
        Starts per ``d``.
    version : {"sample", "population"}, default="sample"
    params : {"known", "estimated"}, default="estimated"
    random_state : int, default=0
        Root seed: the graph and every point's starts derive from it
        (:func:`initscape.sweep.run_sweep`).
    scheduler : str or None, default=None
        A Dask scheduler address; points then run on that cluster.
    n_jobs : int or None, default=1
        Local processes (``None``: every core).
    out : str or pathlib.Path or None, default=None
        JSON-lines file that makes the sweep resumable.
    callback : callable or None, default=None
        ``callback(done, total)`` per finished point.

    Returns
    -------
    CorrelationSweep
    """
    from initscape.sweep import run_sweep

    n, p, q, n_starts, _, _ = _check_study_args(
        n, p, q, n_starts, version, params, 500, 1e-8
    )
    random_state = check_scalar(random_state, "random_state", numbers.Integral, low=0)
    d_star = critical_correlation(n, p, q)
    if correlations is None:
        factors = [0.25, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4, 1.7, 2.0, 3.0]
        correlations = sorted({min(1.0, f * d_star) for f in factors})
    correlations = np.asarray(correlations, dtype=np.float64)
    if correlations.ndim != 1 or np.any((correlations < 0) | (correlations > 1)):
        raise ValueError(
            "correlations must be a 1-d array of values in [0, 1]; got "
            f"{correlations!r}."
        )
    correlations = np.sort(correlations)
    graph_seed = int(np.random.SeedSequence(random_state).generate_state(1)[0])

    # one sweep point per d, in parallel, resumable
    points = [
        {
            "n": n,
            "p": p,
            "q": q,
            "d": float(d),
            "n_starts": n_starts,
            "version": version,
            "params": params,
            "graph_seed": graph_seed,
        }
        for d in correlations
    ]
    rows = run_sweep(
        correlation_point,
        points,
        out=out,
        scheduler=scheduler,
        n_jobs=n_jobs,
        random_state=random_state,
        callback=callback,
    )
    fractions = np.array([row["fraction"] for row in rows])
    errors = np.array([row["standard_error"] for row in rows])
    d_half, bracket = _crossing(correlations, fractions)
    settings = {
        "n": n,
        "p": p,
        "q": q,
        "n_starts": n_starts,
        "version": version,
        "params": params,
        "random_state": random_state,
    }
    return CorrelationSweep(
        correlations, fractions, errors, d_star, d_half, bracket, rows, settings
    )


@dataclass
class Trajectories:
    """Per-iteration block averages and estimates of a few runs.

    Attributes
    ----------
    block_averages : ndarray of shape (n_steps + 1, n_starts, 2)
        ``(x_k, y_k)`` after ``k`` updates.
    p_hat, q_hat : ndarray of shape (n_steps + 1, n_starts)
        Estimates after ``k`` updates (M-step at ``psi_k``).
    overlap : ndarray of shape (n_steps + 1, n_starts)
    settings : dict
    """

    block_averages: np.ndarray
    p_hat: np.ndarray
    q_hat: np.ndarray
    overlap: np.ndarray
    settings: dict = field(default_factory=dict)


def joint_trajectories(
    n, p, q, n_starts=6, n_steps=30, *, correlation=0.0, random_state=0
) -> Trajectories:
    """Follow joint-estimation BCAVI on a sampled graph, one update at a time.

    Starts are :func:`correlated_starts` with the given ``correlation`` (0: iid
    Uniform(0, 1)). Each update is one call of
    :func:`initscape.sbm._twoclass.run_twoclass` with ``max_iter=1``, so the path is
    exactly the engine's.

    Parameters
    ----------
    n : int
        Even number of nodes.
    p, q : float
        ``0 < q < p < 1``.
    n_starts : int, default=6
    n_steps : int, default=30
    correlation : float, default=0.0
        ``d`` in [0, 1].
    random_state : int, numpy.random.Generator or None, default=0

    Returns
    -------
    Trajectories
    """
    from initscape.sbm._twoclass import estimate_params, run_twoclass

    n, p, q, n_starts, n_steps, _ = _check_study_args(
        n, p, q, n_starts, "sample", "estimated", n_steps, 1e-8
    )
    correlation = check_scalar(correlation, "correlation", numbers.Real, low=0, high=1)
    rng = check_random_state(random_state)
    A, z = _sample_graph(n, p, q, rng)
    psi = correlated_starts(z, correlation, n_starts, rng)

    # record the start, then one update at a time
    averages, p_hat, q_hat, overlaps = [], [], [], []
    for step in range(n_steps + 1):
        if step:
            psi = run_twoclass(A, psi, max_iter=1, tol=1e-300).psi
        ph, qh = estimate_params(A, psi)
        averages.append(block_averages(psi, z))
        p_hat.append(np.asarray(ph))
        q_hat.append(np.asarray(qh))
        overlaps.append(overlap(psi, z))
    settings = {
        "n": n,
        "p": p,
        "q": q,
        "n_starts": n_starts,
        "n_steps": n_steps,
        "correlation": correlation,
    }
    return Trajectories(
        np.stack(averages),
        np.stack(p_hat),
        np.stack(q_hat),
        np.stack(overlaps),
        settings,
    )


def reduced_start_study(n, p, q, n_starts=100_000, *, max_iter=200, random_state=0):
    """Random starts of the reduced 2-D population map: a cheap long Monte Carlo.

    The block averages of an iid Uniform(0, 1) start are drawn directly as
    ``1/2 + N(0, 1 / (12 m))`` (central limit theorem, ``m = n / 2``), then the
    reduced map is iterated (on logits) and each end state classified by the
    nearest census point. This drops the node's own term of the ``n``-dimensional
    map (``O(1)`` against ``O(sqrt(n))``), so it costs ``O(n_starts)`` per step
    whatever ``n``, and reaches ``n = 10^6`` and beyond.

    Parameters
    ----------
    n : int
        Even number of nodes.
    p, q : float
        ``0 < q < p < 1``, known.
    n_starts : int, default=100000
    max_iter : int, default=200
    random_state : int, numpy.random.Generator or None, default=0

    Returns
    -------
    fractions, standard_errors : dict
        Keyed by outcome, as in :class:`StudyResult`.
    """
    from scipy.special import expit

    from initscape.sbm.landscape._population import logit_map

    n, p, q, n_starts, max_iter, _ = _check_study_args(
        n, p, q, n_starts, "population", "known", max_iter, 1e-8
    )
    rng = check_random_state(random_state)
    census = _census(n, p, q)
    xy = 0.5 + rng.standard_normal((n_starts, 2)) / np.sqrt(6 * n)
    w = np.log(xy) - np.log1p(-xy)
    converged = np.zeros(n_starts, dtype=bool)
    for _ in range(max_iter):
        new = logit_map(w, census.coefficients)
        converged = np.abs(expit(new) - expit(w)).max(axis=1) < 1e-12
        w = new
        if converged.all():
            break
    outcomes, _ = classify_states(expit(w), census, converged)
    fractions, errors, _ = _mc_summary(outcomes)
    return fractions, errors


def study_point(
    n,
    p,
    q,
    n_starts=1000,
    init="uniform",
    version="sample",
    params="known",
    centred=False,
    *,
    random_state=0,
):
    """:func:`random_start_study` as a sweep point: JSON-ready numbers only.

    Meant for :func:`initscape.sweep.run_sweep` over grids of ``n``, ``p``, ``q``
    and start distributions, e.g.
    ``run_sweep(study_point, [{"n": 1000, "p": 0.5, "q": 0.1, "init": "bernoulli"}])``.

    Returns
    -------
    dict
        ``fraction`` and ``standard_error`` of starts reaching the truth,
        ``fractions`` and ``standard_errors`` of every outcome, and ``limit``
        (``P_inf``).
    """
    study = random_start_study(
        n,
        p,
        q,
        n_starts,
        init=init,
        version=version,
        params=params,
        centred=centred,
        random_state=random_state,
    )
    return {
        "fraction": study.fractions["truth"],
        "standard_error": study.standard_errors["truth"],
        "fractions": study.fractions,
        "standard_errors": study.standard_errors,
        "limit": study.limit,
    }
