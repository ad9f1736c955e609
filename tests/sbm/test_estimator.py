"""MeanFieldSBM: the fitted attributes, reproducibility, invariances, bad input."""

import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score

from initscape.exceptions import ConvergenceWarning
from initscape.sbm import MeanFieldSBM, load_network, sample_sbm, select_n_blocks
from initscape.sbm._twoclass import elbo


@pytest.fixture(scope="module")
def graph():
    return sample_sbm([80, 70], [[0.2, 0.03], [0.03, 0.2]], random_state=0)


def test_fitted_attributes(graph):
    A, z = graph
    model = MeanFieldSBM(
        block_probs=[[0.2, 0.03], [0.03, 0.2]], n_init=7, random_state=0
    ).fit(A)
    n = A.shape[0]
    assert model.labels_.shape == (n,)
    assert model.responsibilities_.shape == (n, 2)
    np.testing.assert_allclose(model.responsibilities_.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.block_probs_, [[0.2, 0.03], [0.03, 0.2]])
    np.testing.assert_array_equal(model.block_proportions_, [0.5, 0.5])
    assert model.elbo_history_.shape == (model.n_iter_ + 1,)
    assert model.elbo_history_[-1] == model.elbo_
    assert model.converged_ and adjusted_rand_score(z, model.labels_) == 1.0
    # the ELBO reported is the ELBO of the responsibilities returned
    psi = model.responsibilities_[:, 1]
    assert model.elbo_ == pytest.approx(elbo(A, psi, 0.2, 0.03), rel=1e-12)
    # every restart is kept, the best one by ELBO is returned
    assert len(model.restarts_) == 7
    elbos = [r["elbo"] for r in model.restarts_]
    assert model.elbo_ == max(elbos) == elbos[model.best_restart_]
    assert model.restarts_[model.best_restart_]["ari"] == 1.0
    assert set(model.restarts_[0]) == {
        "elbo",
        "n_iter",
        "converged",
        "ari",
        "nmi",
        "overlap",
    }
    assert np.isfinite(model.icl_)


def test_estimated_parameters_from_spectral_start(graph):
    A, z = graph
    model = MeanFieldSBM(init="spectral", n_init=3, random_state=0).fit(A)
    assert adjusted_rand_score(z, model.labels_) == 1.0
    p, q = model.block_probs_[0]
    # 0.03 and 0.01: several standard errors of edge frequencies over ~3000
    # within-block and ~5600 between-block pairs
    assert abs(p - 0.2) < 0.03 and abs(q - 0.03) < 0.01


def test_same_seed_same_bits(graph):
    A, _ = graph
    first = MeanFieldSBM(n_blocks=3, n_init=4, random_state=5, max_iter=50)
    second = clone(first)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first.fit(A)
        second.fit(A)
    assert np.array_equal(first.responsibilities_, second.responsibilities_)
    assert np.array_equal(first.elbo_history_, second.elbo_history_)
    assert first.restarts_ == second.restarts_


@pytest.mark.parametrize("n_blocks", [2, 3])
def test_relabelling_nodes_permutes_the_output(n_blocks):
    probs = np.full((n_blocks, n_blocks), 0.03) + 0.2 * np.eye(n_blocks)
    A, z = sample_sbm([50] * n_blocks, probs, random_state=0)
    n = A.shape[0]
    rng = np.random.default_rng(0)
    # noisy starts around the truth, so that every restart converges
    noise = rng.dirichlet(np.ones(n_blocks), size=(n, 3)).transpose(0, 2, 1)
    start = 0.5 * np.eye(n_blocks)[z][:, :, None] + 0.5 * noise
    perm = rng.permutation(n)
    kwargs = {"n_blocks": n_blocks, "tol": 1e-10}
    model = MeanFieldSBM(init=start, **kwargs).fit(A)
    permuted = MeanFieldSBM(init=start[perm], **kwargs).fit(A[perm][:, perm])
    # 1e-8: sums over nodes are taken in another order
    np.testing.assert_allclose(
        permuted.responsibilities_, model.responsibilities_[perm], atol=1e-8
    )
    assert permuted.elbo_ == pytest.approx(model.elbo_, rel=1e-12)
    assert permuted.n_iter_ == model.n_iter_ and model.converged_
    np.testing.assert_allclose(permuted.block_probs_, model.block_probs_, rtol=1e-9)


def test_input_types_agree(graph):
    A, _ = graph
    kwargs = {"n_init": 3, "random_state": 1}
    sparse = MeanFieldSBM(**kwargs).fit(A)
    dense = MeanFieldSBM(**kwargs).fit(A.toarray())
    from_nx = MeanFieldSBM(**kwargs).fit(nx.from_scipy_sparse_array(A))
    assert np.array_equal(sparse.responsibilities_, dense.responsibilities_)
    assert np.array_equal(sparse.responsibilities_, from_nx.responsibilities_)


def test_one_convergence_warning_with_a_remedy(graph):
    A, _ = graph
    match = r"in max_iter=1 iterations .*; raise max_iter, or use algorithm='cavi'"
    with pytest.warns(ConvergenceWarning, match=match) as rec:
        model = MeanFieldSBM(n_init=5, max_iter=1, random_state=0).fit(A)
    assert len([w for w in rec if w.category is ConvergenceWarning]) == 1
    assert not model.converged_ and model.n_iter_ == 1
    # The K-block engine damps its steps: it is only ever slow.
    match = r"it was still moving: raise max_iter or loosen tol"
    with pytest.warns(ConvergenceWarning, match=match):
        MeanFieldSBM(n_blocks=3, n_init=2, max_iter=1, random_state=0).fit(A)


def test_bcavi_two_cycle_is_named_in_the_warning():
    # lesmis with two blocks: every spectral start of BCAVI ends alternating
    # between two states whose ELBOs differ by 4.4 nats; CAVI converges.
    A = load_network("lesmis").adjacency
    match = (
        r"oscillates between two states with ELBOs -842\.059 and -846\.48, .*"
        r"use algorithm='cavi'"
    )
    with pytest.warns(ConvergenceWarning, match=match):
        model = MeanFieldSBM(init="spectral", n_init=3, random_state=0).fit(A)
    history = model.elbo_history_
    assert history[-1] == history[-3] and history[-2] == history[-4]
    cavi = MeanFieldSBM(init="spectral", n_init=3, algorithm="cavi", random_state=0)
    assert cavi.fit(A).converged_ and cavi.elbo_ > history.max()


def test_sklearn_conventions(graph):
    A, _ = graph
    model = MeanFieldSBM(n_blocks=2, n_init=2, random_state=0)
    assert model.get_params()["n_init"] == 2
    model.set_params(n_init=3)
    assert model.n_init == 3 and not hasattr(model, "labels_")
    labels = model.fit_predict(A)
    assert np.array_equal(labels, model.labels_)


def test_cavi_through_the_estimator(graph):
    A, z = graph
    model = MeanFieldSBM(
        block_probs=[[0.2, 0.03], [0.03, 0.2]],
        algorithm="cavi",
        n_init=3,
        random_state=0,
    ).fit(A)
    assert adjusted_rand_score(z, model.labels_) == 1.0
    assert np.all(np.diff(model.elbo_history_) >= -1e-9 * abs(model.elbo_))


def test_icl_picks_three_blocks():
    probs = np.full((3, 3), 0.02) + 0.1 * np.eye(3)
    A, z = sample_sbm([150, 150, 150], probs, random_state=1)
    # max_iter=100: over-fitted K (4 to 6) creep along flat directions for long,
    # while their ICL is already far below that of K = 3
    best, scores = select_n_blocks(
        A, range(1, 7), n_init=3, max_iter=100, random_state=0
    )
    assert best == 3 and sorted(scores) == [1, 2, 3, 4, 5, 6]
    model = MeanFieldSBM(n_blocks=3, init="spectral", n_init=3, random_state=0)
    assert adjusted_rand_score(z, model.fit_predict(A)) > 0.95


def test_directed_graph_uses_the_kblock_engine():
    probs = [[0.3, 0.02], [0.15, 0.3]]
    A, z = sample_sbm([60, 60], probs, directed=True, random_state=0)
    model = MeanFieldSBM(directed=True, init="spectral", n_init=3, random_state=0)
    model.fit(A)
    assert adjusted_rand_score(z, model.labels_) == 1.0
    # the asymmetric connectivity is recovered (0.05: a few standard errors)
    assert abs(model.block_probs_[0, 1] - model.block_probs_[1, 0]) > 0.08


# -- bad input: a clear error, or a finite, sensible result --------------------


def _path(n):
    return nx.to_scipy_sparse_array(nx.path_graph(n), format="csr")


@pytest.mark.parametrize(
    ("A", "kwargs", "error", "match"),
    [
        (np.zeros((3, 4)), {}, ValueError, r"A must be a square .* shape \(3, 4\)"),
        (
            np.triu(np.ones((4, 4)), 1),
            {},
            ValueError,
            r"A must be symmetric when directed=False",
        ),
        (-np.ones((3, 3)) + np.eye(3), {}, ValueError, r"non-negative .* -1.0"),
        (2 * (np.ones((3, 3)) - np.eye(3)), {}, ValueError, r"binary .* 2.0"),
        (np.array([[0, np.nan], [np.nan, 0]]), {}, ValueError, r"finite .* nan"),
        ("graph.txt", {}, TypeError, r"A must be a scipy sparse matrix"),
        (np.zeros((0, 0)), {}, ValueError, r"at least one node"),
        (
            _path(3),
            {"n_blocks": 4},
            ValueError,
            r"n_blocks must be at most the number of nodes \(3\); got n_blocks=4",
        ),
        (_path(1), {}, ValueError, r"n_blocks must be at most .* \(1\)"),
        (_path(5), {"n_blocks": 0}, ValueError, r"n_blocks must be >= 1; got 0"),
        (_path(5), {"n_blocks": 2.0}, TypeError, r"n_blocks must be an Integral"),
        (_path(5), {"n_init": 0}, ValueError, r"n_init must be >= 1; got 0"),
        (_path(5), {"tol": -1.0}, ValueError, r"tol must be > 0; got -1.0"),
        (_path(5), {"init": "kmeans"}, ValueError, r"init must be one of"),
        (_path(5), {"algorithm": "em"}, ValueError, r"algorithm must be one of"),
        (_path(5), {"directed": "yes"}, TypeError, r"directed must be a bool"),
        (_path(5), {"callback": 3}, TypeError, r"callback must be callable"),
        (_path(5), {"random_state": -1}, ValueError, r"random_state must be"),
        (
            _path(5),
            {"block_probs": [[0.5, 0.1]]},
            ValueError,
            r"block_probs must have shape \(n_blocks, n_blocks\) = \(2, 2\)",
        ),
        (
            _path(5),
            {"block_probs": [[0.5, 0.0], [0.0, 0.5]]},
            ValueError,
            r"block_probs must have entries in \(0, 1\)",
        ),
        (
            _path(5),
            {"block_probs": [[0.5, 0.1], [0.2, 0.5]]},
            ValueError,
            r"block_probs must be symmetric",
        ),
        (_path(5), {"prior": 1.5}, ValueError, r"prior must be < 1; got 1.5"),
        (
            _path(5),
            {"n_blocks": 3, "prior": 0.5},
            ValueError,
            r"prior as a float .* needs n_blocks=2",
        ),
        (_path(5), {"prior": [0.5, 0.6]}, ValueError, r"summing to 1; got \[0.5"),
        (
            _path(5),
            {"n_blocks": 3, "algorithm": "cavi"},
            ValueError,
            r"algorithm='cavi' needs the two-class engine",
        ),
        (_path(5), {"init": np.ones(4)}, ValueError, r"init must be an array of"),
        (
            _path(5),
            {"block_probs": "0.3,0.05"},
            TypeError,
            r"block_probs must be an array-like .* got the string '0.3,0.05'",
        ),
        (
            _path(5),
            {"block_probs": [[0.3, "x"], [0.1, 0.3]]},
            TypeError,
            r"block_probs must be an array-like .* of numbers; got \[\[0.3, 'x'\]",
        ),
        (
            np.ones((2, 2), dtype=str),
            {},
            TypeError,
            r"A must hold numbers .* dtype <U1",
        ),
        (nx.Graph(), {}, ValueError, r"A must have at least one node; got a graph"),
    ],
)
def test_bad_input_names_parameter_and_value(A, kwargs, error, match):
    with pytest.raises(error, match=match):
        MeanFieldSBM(**kwargs).fit(A)


def test_select_n_blocks_names_candidates():
    with pytest.raises(
        ValueError,
        match=r"candidates must be at most the number of nodes \(5\); got 100 in "
        r"candidates=\[2, 100\]",
    ):
        select_n_blocks(_path(5), [2, 100])
    # a lone number or a string is not a list of candidates (a string would
    # otherwise be read digit by digit)
    for bad in (3, "12"):
        with pytest.raises(TypeError, match="candidates must be a non-empty list"):
            select_n_blocks(_path(5), bad)


def test_self_loops_are_dropped_with_one_warning():
    A = _path(6).toarray()
    A[2, 2] = 1
    with pytest.warns(UserWarning, match="1 self-loop") as rec:
        model = MeanFieldSBM(n_init=2, random_state=0).fit(A)
    assert len([w for w in rec if "self-loop" in str(w.message)]) == 1
    clean = MeanFieldSBM(n_init=2, random_state=0).fit(_path(6))
    assert np.array_equal(model.responsibilities_, clean.responsibilities_)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"block_probs": [[0.5, 0.1], [0.1, 0.5]]},
        {"n_blocks": 3},
        {"n_blocks": 1},
        {"init": "spectral"},
        {"init": "degree", "n_blocks": 3},
        {"init": "bernoulli"},
    ],
)
@pytest.mark.parametrize("which", ["no edges", "isolated nodes", "two nodes"])
def test_degenerate_graphs_give_finite_results(kwargs, which):
    if which == "no edges":
        A = sp.csr_matrix((6, 6))
    elif which == "isolated nodes":
        A = sp.block_diag([_path(5), sp.csr_matrix((3, 3))], format="csr")
    else:
        A = _path(2)
        if kwargs.get("n_blocks", 2) > 2:
            return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MeanFieldSBM(n_init=3, random_state=0, **kwargs).fit(A)
    for value in (
        model.responsibilities_,
        model.block_probs_,
        model.block_proportions_,
        model.elbo_history_,
        model.elbo_,
        model.icl_,
    ):
        assert np.all(np.isfinite(value))


def test_single_node_with_one_block():
    model = MeanFieldSBM(n_blocks=1, n_init=1).fit(np.zeros((1, 1)))
    assert model.labels_.tolist() == [0] and np.isfinite(model.elbo_)


def test_block_empty_under_labels_is_logged(caplog):
    # Two 5-cliques, three blocks: a spectral start splits one clique's mass
    # between two blocks, one of which wins no node under argmax.
    graph = nx.disjoint_union(nx.complete_graph(5), nx.complete_graph(5))
    with caplog.at_level("WARNING", logger="initscape.sbm._estimator"):
        model = MeanFieldSBM(n_blocks=3, init="spectral", n_init=5, random_state=0)
        model.fit(graph)
    sizes = np.bincount(model.labels_, minlength=3)
    empty = np.flatnonzero(sizes == 0).tolist()
    assert len(empty) == 1
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1
    assert messages[0].startswith(f"MeanFieldSBM: block(s) {empty} hold no node")
    # The proportions are the expected sizes over n, not the argmax fractions.
    np.testing.assert_allclose(
        model.block_proportions_, model.responsibilities_.sum(axis=0) / 10
    )
