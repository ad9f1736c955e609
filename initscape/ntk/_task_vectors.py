"""Task vectors: adding and negating fine-tuning displacements, against the kernel.

Fine-tuning from theta_0 on task k ends at theta_k; its task vector is tau_k =
theta_k - theta_0 (Ilharco et al., "Editing models with task arithmetic", ICLR
2023). The merged model theta_0 + sum_k alpha_k tau_k is evaluated on every task
over a grid of alpha (negative alpha: negation, "forgetting" a task).

In the linearised model f_lin is affine in theta, so the merged predictions are
exactly f_0 + sum_k alpha_k (f_lin(theta_0 + tau_k) - f_0) (Ortiz-Jimenez et al.,
NeurIPS 2023, call this weight disentanglement). In the kernel picture each task's
fine-tuning is kernel gradient descent, whose change to the predictions at x is
the kernel regressor

    delta_k(x) = (1/n_k) K(x, X_k) U_k diag(g_t(lambda)/lambda) U_k^T (y_k - f_0(X_k))

(see :mod:`initscape.ntk._gd`), so the kernel prediction of the merged model is
f_0(x) + sum_k alpha_k delta_k(x). Task b disturbs task a through the cross-task
block K(X_a, X_b): when it is zero, delta_b vanishes on task a's inputs.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

__all__ = [
    "TaskVectorGrid",
    "alpha_grid",
    "merge_task_vectors",
    "task_vector_grid",
    "kernel_task_predictions",
    "task_interference",
]


def alpha_grid(values, n_tasks):
    """Every combination (alpha_1, ..., alpha_K) of ``values``.

    Parameters
    ----------
    values : array-like of shape (n_values,)
        Coefficients, negative ones for negation (for example -1, 0, 0.5, 1).
    n_tasks : int

    Returns
    -------
    ndarray of shape (n_values ** n_tasks, n_tasks)
    """
    values = np.asarray(values, dtype=float).ravel()
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"values must be finite numbers; got {values!r}.")
    return np.array(list(itertools.product(values, repeat=int(n_tasks))))


def merge_task_vectors(theta0, vectors, alphas):
    """theta_0 + sum_k alpha_k tau_k, tensor by tensor.

    Parameters
    ----------
    theta0 : dict of str to torch.Tensor
    vectors : list of dict of str to torch.Tensor
        tau_k, with the keys of ``theta0``.
    alphas : array-like of shape (n_tasks,)

    Returns
    -------
    dict of str to torch.Tensor
    """
    alphas = np.asarray(alphas, dtype=float).ravel()
    if alphas.shape != (len(vectors),):
        raise ValueError(
            f"alphas must hold one coefficient per task vector ({len(vectors)}); "
            f"got shape {alphas.shape}."
        )
    merged = {k: v.clone() for k, v in theta0.items()}
    for a, tau in zip(alphas, vectors, strict=True):
        for k in merged:
            merged[k] = merged[k] + float(a) * tau[k].to(merged[k])
    return merged


@dataclass(frozen=True)
class TaskVectorGrid:
    """Risks and accuracies of merged models on every task.

    Attributes
    ----------
    alphas : ndarray of shape (n_points, n_tasks)
        The coefficients (alpha_1, ..., alpha_K) of each merged model.
    task_names : list of str
    risk : ndarray of shape (n_points, n_tasks)
        Held-out mean squared error (1/m) sum (y - f)^2 of each merged model on
        each task.
    accuracy : ndarray of shape (n_points, n_tasks)
    predictions : list of ndarray of shape (n_points, n_test_k)
        The merged model's outputs on each task's held-out inputs.
    """

    alphas: np.ndarray
    task_names: list
    risk: np.ndarray
    accuracy: np.ndarray
    predictions: list

    def at(self, alphas) -> dict:
        """Risk and accuracy per task at the grid point nearest to ``alphas``."""
        i = int(np.argmin(np.abs(self.alphas - np.asarray(alphas)).sum(1)))
        return {
            "alphas": self.alphas[i].tolist(),
            "risk": dict(zip(self.task_names, self.risk[i].tolist(), strict=True)),
            "accuracy": dict(
                zip(self.task_names, self.accuracy[i].tolist(), strict=True)
            ),
        }


def _scores(predictions, labels):
    risk = np.mean((predictions - labels[None, :]) ** 2, axis=1)
    acc = np.mean(np.where(predictions >= 0, 1.0, -1.0) == labels[None, :], axis=1)
    return risk, acc


def _grid_from_predictions(alphas, names, preds, tests):
    risk = np.column_stack(
        [_scores(p, t.labels)[0] for p, t in zip(preds, tests, strict=True)]
    )
    acc = np.column_stack(
        [_scores(p, t.labels)[1] for p, t in zip(preds, tests, strict=True)]
    )
    return TaskVectorGrid(alphas, list(names), risk, acc, preds)


def _evaluate(model, theta, inputs, block_size):
    import torch

    n = inputs["input_ids"].shape[0]
    parts = []
    with torch.no_grad():
        for s in range(0, n, block_size):
            block = {k: v[s : s + block_size] for k, v in inputs.items()}
            width = int(block["attention_mask"].sum(-1).max())
            block = {k: v[:, :width] for k, v in block.items()}
            parts.append(model.forward(theta, block).double().cpu().numpy())
    return np.concatenate(parts)


def task_vector_grid(
    model,
    theta0,
    vectors,
    tests,
    alphas,
    *,
    names=None,
    exact_linear=False,
    block_size=64,
    callback=None,
):
    """Evaluate theta_0 + sum_k alpha_k tau_k on every task's held-out data.

    Parameters
    ----------
    model : ScalarModel or LinearizedModel
    theta0 : dict of str to torch.Tensor
        The common start (``result.initial_params`` of the runs).
    vectors : list of dict of str to torch.Tensor
        tau_k (``result.task_vector()``), one per task.
    tests : list of Split
        The held-out data of each task, in the order of ``vectors``.
    alphas : ndarray of shape (n_points, n_tasks)
        From :func:`alpha_grid`.
    names : list of str, default=None
        Task names; ``None`` numbers them.
    exact_linear : bool, default=False
        Only for a model that is affine in theta (a :class:`LinearizedModel`):
        evaluate f at theta_0 and at each theta_0 + tau_k once, and combine,
        f_0 + sum_k alpha_k (f(theta_0 + tau_k) - f_0), instead of one forward
        pass per grid point.
    block_size : int, default=64
    callback : callable, default=None
        ``callback(done, total)`` over grid points.

    Returns
    -------
    TaskVectorGrid
    """
    alphas = np.atleast_2d(np.asarray(alphas, dtype=float))
    if alphas.shape[1] != len(vectors) or len(tests) != len(vectors):
        raise ValueError(
            f"alphas must be of shape (n_points, {len(vectors)}) and tests must "
            f"hold {len(vectors)} splits, one per task vector; got alphas of shape "
            f"{alphas.shape} and {len(tests)} splits."
        )
    if exact_linear and not getattr(model, "linearized", False):
        raise ValueError(
            "exact_linear=True needs a LinearizedModel, whose output is affine in "
            f"theta; got {type(model).__name__}."
        )
    names = [f"task {k + 1}" for k in range(len(tests))] if names is None else names
    inputs = [model.encode(t.texts) for t in tests]

    # one forward pass per grid point, or per basis point for an affine model
    if exact_linear:
        basis = np.vstack([np.zeros(len(vectors)), np.eye(len(vectors))])
        points = basis
    else:
        points = alphas
    preds = [np.zeros((len(points), len(t))) for t in tests]
    for i, a in enumerate(points):
        theta = merge_task_vectors(theta0, vectors, a)
        for k, inp in enumerate(inputs):
            preds[k][i] = _evaluate(model, theta, inp, block_size)
        if callback is not None:
            callback(i + 1, len(points))
    if exact_linear:
        preds = [p[0][None, :] + alphas @ (p[1:] - p[0][None, :]) for p in preds]
    return _grid_from_predictions(alphas, names, preds, tests)


def kernel_task_predictions(
    kernel, train_index, test_index, steps, step_size, alphas, names=None
):
    """The kernel prediction of merged models: f_0 + sum_k alpha_k delta_k.

    Parameters
    ----------
    kernel : EmpiricalNTK
        The eNTK on the union of every task's training inputs, with the
        cross-kernel to the union of their held-out inputs and labels.
    train_index : list of ndarray
        Rows of ``kernel.train`` belonging to each task.
    test_index : list of ndarray
        Rows of ``kernel.cross`` belonging to each task.
    steps : list of int
        t_k, the gradient steps each task was fine-tuned for.
    step_size : list of float
        alpha of each task's gradient descent.
    alphas : ndarray of shape (n_points, n_tasks)
    names : list of str, default=None

    Returns
    -------
    grid : TaskVectorGrid
        The kernel prediction.
    deltas : ndarray of shape (n_tasks, n_test_total)
        delta_k on the union of the held-out inputs.
    """
    from initscape.ntk._gd import kernel_gradient_descent
    from initscape.ntk._tasks import Split

    n_tasks = len(train_index)
    alphas = np.atleast_2d(np.asarray(alphas, dtype=float))
    names = [f"task {k + 1}" for k in range(n_tasks)] if names is None else names

    # each task's kernel regressor, evaluated on every held-out input
    deltas = []
    for k in range(n_tasks):
        rows = np.asarray(train_index[k])
        path = kernel_gradient_descent(
            kernel.train[np.ix_(rows, rows)],
            [steps[k]],
            step_size=step_size[k],
            k_cross=kernel.cross[:, rows],
            f0_train=kernel.f0_train[rows],
            f0_test=np.zeros(kernel.cross.shape[0]),
            y_train=kernel.y_train[rows],
        )
        deltas.append(path.test_predictions[0])
    deltas = np.array(deltas)

    # the merged prediction on each task: f_0 plus the weighted regressors
    preds, tests = [], []
    for k in range(n_tasks):
        cols = np.asarray(test_index[k])
        preds.append(kernel.f0_test[cols][None, :] + alphas @ deltas[:, cols])
        labels = kernel.y_test[cols]
        tests.append(Split([""] * len(cols), labels, [""] * len(cols)))
    return _grid_from_predictions(alphas, names, preds, tests), deltas


def task_interference(kernel, train_index, test_index, deltas):
    """How much each task's fine-tuning reaches another's, from the kernel.

    Two numbers per ordered pair (a, b):

    - ``alignment[a, b]`` = ||K(X_a, X_b)||_F / (||K(X_a, X_a)||_F ||K(X_b,
      X_b)||_F)^(1/2), the size of the cross-task block relative to the diagonal
      blocks (1 on the diagonal; 0 when the tasks' gradients are orthogonal);
    - ``reach[a, b]`` = RMS of delta_b on task a's held-out inputs over the RMS of
      delta_a there: how far task b's kernel regressor moves task a's
      predictions, relative to task a's own.

    Parameters
    ----------
    kernel : EmpiricalNTK
        On the union of the tasks, as for :func:`kernel_task_predictions`.
    train_index, test_index : list of ndarray
    deltas : ndarray of shape (n_tasks, n_test_total)
        From :func:`kernel_task_predictions`.

    Returns
    -------
    dict
        ``alignment`` and ``reach``, each an ndarray of shape (n_tasks, n_tasks).
    """
    n_tasks = len(train_index)
    k = kernel.train
    norms = [
        np.linalg.norm(k[np.ix_(train_index[a], train_index[a])])
        for a in range(n_tasks)
    ]
    alignment = np.ones((n_tasks, n_tasks))
    reach = np.ones((n_tasks, n_tasks))
    for a in range(n_tasks):
        own = np.sqrt(np.mean(deltas[a, test_index[a]] ** 2))
        for b in range(n_tasks):
            block = k[np.ix_(train_index[a], train_index[b])]
            alignment[a, b] = np.linalg.norm(block) / np.sqrt(norms[a] * norms[b])
            other = np.sqrt(np.mean(deltas[b, test_index[a]] ** 2))
            reach[a, b] = other / own if own > 0 else np.nan
    return {"alignment": alignment, "reach": reach}
