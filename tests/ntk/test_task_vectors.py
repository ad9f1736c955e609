"""Task vectors: exact addition in the linearised model, the kernel prediction of
merged models, and the cross-task interference measures."""

import numpy as np
import pytest
import torch

from initscape.ntk import (
    EmpiricalNTK,
    LinearizedModel,
    Split,
    alpha_grid,
    empirical_ntk,
    finetune,
    kernel_task_predictions,
    merge_task_vectors,
    task_interference,
    task_vector_grid,
    tiny_model,
)
from tests.ntk._toy import POLITICS, SPORT, word_task


@pytest.fixture(scope="module")
def two_tasks():
    rng = np.random.default_rng(1)
    model = tiny_model("encoder", random_state=5)
    a = (word_task(6, rng), word_task(5, rng))
    b = (word_task(6, rng, SPORT, POLITICS), word_task(5, rng, SPORT, POLITICS))
    lin = LinearizedModel(model)
    runs = [finetune(lin, tr, te, n_steps=4, step_size=0.3) for tr, te in (a, b)]
    return model, lin, a, b, runs


def test_alpha_grid_and_merge_by_hand():
    grid = alpha_grid([-1.0, 1.0], 2)
    np.testing.assert_array_equal(grid, [[-1, -1], [-1, 1], [1, -1], [1, 1]])
    theta0 = {"w": torch.tensor([1.0, 2.0])}
    taus = [{"w": torch.tensor([1.0, 0.0])}, {"w": torch.tensor([0.0, 3.0])}]
    merged = merge_task_vectors(theta0, taus, [2.0, -1.0])
    # (1, 2) + 2 (1, 0) - (0, 3) = (3, -1)
    torch.testing.assert_close(merged["w"], torch.tensor([3.0, -1.0]))
    with pytest.raises(ValueError, match="one coefficient per task vector"):
        merge_task_vectors(theta0, taus, [1.0])


def test_task_vectors_add_exactly_in_the_linearised_model(two_tasks):
    # f_lin(theta_0 + tau_a + tau_b) = f_lin(theta_0 + tau_a) + f_lin(theta_0 +
    # tau_b) - f_0, evaluated by three separate jvp passes
    model, lin, a, b, runs = two_tasks
    theta0 = runs[0].initial_params
    taus = [r.task_vector() for r in runs]
    inputs = model.encode(a[1].texts + b[1].texts)
    with torch.no_grad():
        f0 = lin.forward(theta0, inputs).numpy()
        fa = lin.forward(merge_task_vectors(theta0, taus, [1, 0]), inputs).numpy()
        fb = lin.forward(merge_task_vectors(theta0, taus, [0, 1]), inputs).numpy()
        fab = lin.forward(merge_task_vectors(theta0, taus, [1, 1]), inputs).numpy()
        neg = lin.forward(merge_task_vectors(theta0, taus, [-1, 0]), inputs).numpy()
    # float64 jvps: round-off only
    np.testing.assert_allclose(fab, fa + fb - f0, atol=1e-10)
    np.testing.assert_allclose(neg, 2 * f0 - fa, atol=1e-10)
    # the real network is not affine: the same merge misses by far more
    with torch.no_grad():
        real = [
            model.forward(merge_task_vectors(theta0, taus, al), inputs).numpy()
            for al in ([0, 0], [1, 0], [0, 1], [1, 1])
        ]
    assert np.max(np.abs(real[3] - (real[1] + real[2] - real[0]))) > 1e-6


def test_exact_linear_grid_equals_pointwise_grid(two_tasks):
    # combining basis points must equal one forward pass per grid point
    model, lin, a, b, runs = two_tasks
    alphas = alpha_grid([-1.0, 0.5], 2)
    args = (runs[0].initial_params, [r.task_vector() for r in runs], [a[1], b[1]])
    fast = task_vector_grid(lin, *args, alphas, exact_linear=True)
    slow = task_vector_grid(lin, *args, alphas)
    for p, q in zip(fast.predictions, slow.predictions, strict=True):
        np.testing.assert_allclose(p, q, atol=1e-10)  # round-off only
    np.testing.assert_allclose(fast.risk, slow.risk, atol=1e-10)
    with pytest.raises(ValueError, match="needs a LinearizedModel"):
        task_vector_grid(model, *args, alphas, exact_linear=True)


def test_kernel_prediction_equals_merged_linearised_model(two_tasks):
    # f_0 + sum_k alpha_k delta_k from the eigenbasis closed form, against the
    # merged linearised network evaluated by jvp
    model, lin, a, b, runs = two_tasks
    train = Split(a[0].texts + b[0].texts, np.r_[a[0].labels, b[0].labels], [])
    test = Split(a[1].texts + b[1].texts, np.r_[a[1].labels, b[1].labels], [])
    kernel = empirical_ntk(model, train, test, params="attention")
    tr_idx = [np.arange(6), np.arange(6, 12)]
    te_idx = [np.arange(5), np.arange(5, 10)]
    alphas = alpha_grid([-1.0, 1.0], 2)
    grid, _ = kernel_task_predictions(
        kernel, tr_idx, te_idx, [4, 4], [0.3, 0.3], alphas
    )
    merged = task_vector_grid(
        lin,
        runs[0].initial_params,
        [r.task_vector() for r in runs],
        [a[1], b[1]],
        alphas,
    )
    for p, q in zip(grid.predictions, merged.predictions, strict=True):
        np.testing.assert_allclose(p, q, atol=1e-9)  # float64 round-off
    np.testing.assert_allclose(grid.accuracy, merged.accuracy)


def _kernel(k, cross, n_train):
    return EmpiricalNTK(
        train=k,
        cross=cross,
        f0_train=np.zeros(n_train),
        f0_test=np.zeros(cross.shape[0]),
        n_params=1,
        params="x",
        method="exact",
        seconds=0.0,
        jacobian="loop",
        y_train=np.array([1.0, -1.0, 1.0, -1.0]),
        y_test=np.array([1.0, -1.0]),
    )


def test_interference_is_zero_for_a_block_diagonal_kernel():
    # two tasks whose gradients are orthogonal: no cross block, no reach
    k = np.zeros((4, 4))
    k[:2, :2] = [[2.0, 1.0], [1.0, 2.0]]
    k[2:, 2:] = [[3.0, 0.5], [0.5, 1.0]]
    cross = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    kernel = _kernel(k, cross, 4)
    tr, te = [np.arange(2), np.arange(2, 4)], [np.array([0]), np.array([1])]
    _, deltas = kernel_task_predictions(
        kernel, tr, te, [5, 5], [0.1, 0.1], alpha_grid([1.0], 2)
    )
    out = task_interference(kernel, tr, te, deltas)
    np.testing.assert_allclose(out["alignment"], np.eye(2), atol=1e-15)
    np.testing.assert_allclose(out["reach"], np.eye(2), atol=1e-15)


def test_interference_of_identical_tasks_is_one():
    # the same 2 x 2 block everywhere: the cross block is as large as the diagonal
    block = np.array([[2.0, 1.0], [1.0, 2.0]])
    k = np.block([[block, block], [block, block]])
    cross = np.array([[1.0, 0.5, 1.0, 0.5], [0.5, 1.0, 0.5, 1.0]])
    kernel = _kernel(k, cross, 4)
    tr, te = [np.arange(2), np.arange(2, 4)], [np.array([0, 1]), np.array([0, 1])]
    _, deltas = kernel_task_predictions(
        kernel, tr, te, [3, 3], [0.2, 0.2], alpha_grid([1.0], 2)
    )
    out = task_interference(kernel, tr, te, deltas)
    np.testing.assert_allclose(out["alignment"], np.ones((2, 2)), rtol=1e-12)
    np.testing.assert_allclose(out["reach"], np.ones((2, 2)), rtol=1e-12)
