"""Fine-tuning a parameter subset of a scalar model, with every step recorded.

The loop minimises, over the parameters selected by ``params`` (the rest frozen),

    squared:        L(theta) = (1/2b) sum_i (y_i - f(x_i; theta))^2,
    cross-entropy:  L(theta) = (1/b) sum_i log(1 + exp(-y_i f(x_i; theta))),

over batches of b examples (b = n for full-batch gradient descent), with labels
+1/-1. Full-batch gradient descent with step size alpha on the squared loss is the
iteration whose linearisation is kernel gradient descent, r_{t+1} = (I - alpha K/n)
r_t (Sun and Raskutti, 2026, section 3; Lee et al., NeurIPS 2019, eq. 9), so its
trajectory can be set beside :func:`initscape.ntk.kernel_gradient_descent` with the
same alpha.

At every recorded step t (t = 0 is the start) the training and held-out risk and
accuracy are kept, with the predictions themselves. The module stays in eval mode
(dropout off), as for the kernel. A checkpoint file makes a run resumable: the
parameters, the optimiser's state, the minibatch generator's state and the history
so far are written every ``checkpoint_every`` steps, and a rerun with the same file
continues from there and gives the same numbers as an uninterrupted run.
"""

from __future__ import annotations

import logging
import numbers
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from initscape._validation import (
    check_option,
    check_random_state,
    check_scalar,
    torch_generator,
)
from initscape.exceptions import ConvergenceWarning
from initscape.ntk._kernels import check_model
from initscape.ntk._models import check_device

logger = logging.getLogger(__name__)

__all__ = ["FinetuneResult", "finetune", "top_eigenvalue"]

OPTIMIZERS = ("gd", "sgd", "adam")
LOSSES = ("squared", "cross-entropy")

_HISTORY_KEYS = (
    "steps",
    "train_risk",
    "test_risk",
    "train_accuracy",
    "test_accuracy",
    "train_predictions",
    "test_predictions",
)


@dataclass
class FinetuneResult:
    """The history of one fine-tuning run.

    Attributes
    ----------
    steps : ndarray of shape (n_records,)
        t, the number of parameter updates before each record (0 is the start).
    train_risk : ndarray of shape (n_records,)
        Mean squared error (1/n) sum_i (y_i - f_t(x_i))^2 on the training set for
        ``loss="squared"``; mean logistic loss (1/n) sum_i log(1 + exp(-y_i
        f_t(x_i))) for ``loss="cross-entropy"``.
    test_risk : ndarray of shape (n_records,) or None
        The same on the held-out set.
    train_accuracy : ndarray of shape (n_records,)
        Share of sign(f_t(x_i)) == y_i.
    test_accuracy : ndarray of shape (n_records,) or None
    train_predictions : ndarray of shape (n_records, n_train)
        f_t on the training inputs.
    test_predictions : ndarray of shape (n_records, n_test) or None
    initial_params : dict of str to torch.Tensor
        theta_0, the subset that moved, on the CPU.
    final_params : dict of str to torch.Tensor
        theta_T after the last step, on the CPU.
    step_size : float
        alpha, the learning rate.
    optimizer : {"gd", "sgd", "adam"}
    loss : {"squared", "cross-entropy"}
    params : str
        The parameter subset.
    batch_size : int
        Examples per update (n_train for full-batch gradient descent).
    linearized : bool
        Whether the model trained was the linearisation f_lin.
    device : str
    seconds : float
        Wall-clock time of the steps run in this call (not those resumed from).
    step_size_seconds : float
        Wall-clock time of the exact eNTK and eigensolver that chose the default
        step size; 0 when ``step_size`` was given. On a real model
        it can be far longer than ``seconds``.
    resumed_from : int
        The step a checkpoint supplied (0 for a fresh run).
    snapshots : dict of int to dict of str to torch.Tensor
        theta_t on the CPU at the steps asked for with ``snapshots``.
    """

    steps: np.ndarray
    train_risk: np.ndarray
    test_risk: np.ndarray | None
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray | None
    train_predictions: np.ndarray
    test_predictions: np.ndarray | None
    initial_params: dict
    final_params: dict
    step_size: float
    optimizer: str
    loss: str
    params: str
    batch_size: int
    linearized: bool = False
    device: str = "cpu"
    seconds: float = 0.0
    step_size_seconds: float = 0.0
    resumed_from: int = 0
    snapshots: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    @property
    def best_step(self) -> int | None:
        """The recorded step of least held-out risk (None without held-out data)."""
        if self.test_risk is None:
            return None
        return int(self.steps[int(np.argmin(self.test_risk))])

    def at(self, step) -> dict:
        """Risks and accuracies at the recorded step nearest to ``step``."""
        i = int(np.argmin(np.abs(self.steps - step)))
        out = {
            "step": int(self.steps[i]),
            "train_risk": float(self.train_risk[i]),
            "train_accuracy": float(self.train_accuracy[i]),
        }
        if self.test_risk is not None:
            out["test_risk"] = float(self.test_risk[i])
            out["test_accuracy"] = float(self.test_accuracy[i])
        return out

    def task_vector(self) -> dict:
        """tau = theta_T - theta_0, per parameter tensor (Ilharco et al., 2023)."""
        return {k: self.final_params[k] - v for k, v in self.initial_params.items()}

    def summary(self) -> dict:
        """The numbers worth printing: start, end and best held-out step."""
        out = {
            "n_steps": int(self.steps[-1]),
            "step_size": self.step_size,
            "optimizer": self.optimizer,
            "loss": self.loss,
            "params": self.params,
            "batch_size": self.batch_size,
            "linearized": self.linearized,
            "device": self.device,
            "seconds": self.seconds,
            "step_size_seconds": self.step_size_seconds,
            "start": self.at(0),
            "end": self.at(self.steps[-1]),
        }
        if self.test_risk is not None:
            out["best"] = self.at(self.best_step)
        return out


# --------------------------------------------------------------------------------
# pieces


def _texts_and_labels(data, name):
    from initscape.ntk._tasks import Split

    if isinstance(data, Split):
        return list(data.texts), np.asarray(data.labels, dtype=float)
    raise TypeError(
        f"{name} must be a Split (texts with +1/-1 labels); got {type(data).__name__}."
    )


def _losses(outputs, labels, loss):
    """Per-example loss: (1/2)(y - f)^2 or log(1 + exp(-y f))."""
    import torch

    if loss == "squared":
        return 0.5 * (labels - outputs) ** 2
    return torch.nn.functional.softplus(-labels * outputs)


def _check_snapshots(snapshots):
    """The set of steps t >= 0 asked for, from None or an iterable of ints."""
    if snapshots is None:
        return set()
    if isinstance(snapshots, (str, bytes)) or not hasattr(snapshots, "__iter__"):
        raise TypeError(
            "snapshots must be None or an iterable of int steps; got "
            f"{type(snapshots).__name__} {snapshots!r}."
        )
    return {
        check_scalar(t, "each step in snapshots", numbers.Integral, low=0)
        for t in snapshots
    }


def _risk(pred, y, loss):
    """Mean squared error or mean logistic loss, and accuracy, of predictions."""
    if loss == "squared":
        risk = float(np.mean((y - pred) ** 2))
    else:
        risk = float(np.mean(np.logaddexp(0.0, -y * pred)))
    acc = float(np.mean(np.where(pred >= 0, 1.0, -1.0) == y))
    return risk, acc


def _check_finite(risk, which, step, alpha):
    """Stop a run whose recorded risk is nan or inf: gradient descent diverged."""
    if not np.isfinite(risk):
        raise ValueError(
            f"training diverged at step {step}: the {which} risk is {risk}. "
            f"step_size={alpha:g} is too large; leave step_size unset for "
            "1/lambda_1 of K/n, the largest step that descent tolerates."
        )


def _rows(inputs, index):
    """Rows ``index`` of a tokenised batch, trailing all-padding columns cut."""
    out = {k: v[index] for k, v in inputs.items()}
    width = int(out["attention_mask"].sum(-1).max())
    return {k: v[:, :width] for k, v in out.items()}


def _to(inputs, device):
    return {k: v.to(device) for k, v in inputs.items()}


def _predict(model, leaves, inputs, block_size):
    """f(x; theta) on every row of ``inputs``, in blocks, without gradients."""
    import torch

    n = inputs["input_ids"].shape[0]
    parts = []
    with torch.no_grad():
        for s in range(0, n, block_size):
            block = {k: v[s : s + block_size] for k, v in inputs.items()}
            detached = {k: v.detach() for k, v in leaves.items()}
            parts.append(model.forward(detached, block).double().cpu().numpy())
    return np.concatenate(parts)


def top_eigenvalue(model, train, *, params="attention", n_iter=20, random_state=0):
    """lambda_1 of K/n by power iteration on NTK-vector products.

    K v = J (J^T v) is one vjp and one jvp over the batch
    (:func:`initscape.ntk.ntk_matvec`); no Jacobian or kernel is formed. Full-batch
    gradient descent on the squared loss is stable along every eigendirection of
    the linearised model when alpha < 2 / lambda_1.

    Parameters
    ----------
    model : ScalarModel or LinearizedModel
        A :class:`LinearizedModel` has the eNTK of the network it linearises at
        theta_0, by definition, so its lambda_1 is that network's.
    train : Split or list of str
    params : str, default="attention"
    n_iter : int, default=20
        Power iterations; the estimate is a Rayleigh quotient, never above
        lambda_1.
    random_state : int, numpy.random.Generator or None, default=0
        Seeds the start vector.

    Returns
    -------
    float
    """
    from initscape.ntk._kernels import _texts_and_labels as _texts_or_split
    from initscape.ntk._kernels import ntk_matvec

    check_model(model)
    train, _ = _texts_or_split(train, "train")
    n_iter = check_scalar(n_iter, "n_iter", numbers.Integral, low=1)
    rng = check_random_state(random_state)
    n = len(train)
    if n < 1:
        raise ValueError("train must hold at least one example; got 0.")
    v = rng.standard_normal(n)
    v /= np.linalg.norm(v)
    value = 0.0
    for _ in range(n_iter):
        w = ntk_matvec(model, train, v, params=params) / n
        value = float(v @ w)
        norm = np.linalg.norm(w)
        if norm == 0:
            break
        v = w / norm
    return value


def _exact_top_eigenvalue(model, train, params, block_size):
    """lambda_1 of K/n from the exact eNTK and a dense symmetric eigensolver.

    For the training sets finetune sees (n up to a few hundred) n Jacobian rows,
    taken once in blocks of ``block_size``, cost far less than the 2 x n_iter
    batched jvp/vjp passes of :func:`top_eigenvalue`, and the value is exact.
    """
    from initscape.ntk._kernels import empirical_ntk

    k = empirical_ntk(model, train, params=params, block_size=block_size).train
    return float(np.linalg.eigvalsh(np.asarray(k, dtype=np.float64) / len(train))[-1])


def _config(model, params, optimizer, loss, alpha, batch_size, n_train, linearized):
    return {
        "model": model.name,
        "params": params,
        "optimizer": optimizer,
        "loss": loss,
        "step_size": alpha,
        "batch_size": batch_size,
        "n_train": n_train,
        "linearized": linearized,
    }


def _unwritable(path, err):
    return ValueError(
        f"checkpoint must be a file that can be written; got {str(path)!r}, which "
        f"cannot ({type(err).__name__}: {(str(err).splitlines() or [''])[0][:120]}). "
        "Use a path in a folder you can write to."
    )


def _save_checkpoint(path, state):
    import torch

    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    # torch.save reports an unwritable file as a RuntimeError from its zip writer
    # ("open file failed"), os.replace as an OSError
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as err:
        raise _unwritable(path, err) from err


def _check_checkpoint(path):
    """The checkpoint path: a file, or a new name in an existing folder."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            "checkpoint must be None or a path to a file; got "
            f"{type(path).__name__} {path!r}."
        )
    path = Path(path)
    if path.exists() and not path.is_file():
        raise ValueError(
            f"checkpoint must be a path to a file; got {str(path)!r}, which exists "
            "and is not a file."
        )
    if not path.parent.is_dir():
        raise ValueError(
            f"checkpoint must be a file in an existing folder; got {str(path)!r}, "
            f"whose folder {str(path.parent)!r} does not exist."
        )
    # write and remove the temporary file the saves go through, so a folder that
    # cannot be written (a read-only mount, /proc) is refused before any work
    # rather than after the whole run
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "xb"):
            pass
        tmp.unlink()
    except FileExistsError:
        pass
    except OSError as err:
        raise _unwritable(path, err) from err
    return path


_CHECKPOINT_KEYS = (
    "config",
    "step",
    "params",
    "optimizer",
    "generator",
    "history",
    "snapshots",
    "order",
    "cursor",
)


def _read_checkpoint(path):
    import torch

    # torch.load raises whatever its unpickler meets in a file it did not write
    # (UnpicklingError, EOFError, RuntimeError from the zip reader, ...), so any
    # failure means the file is not a checkpoint of this loop
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:
        raise ValueError(
            f"checkpoint must be a file written by finetune; got {str(path)!r}, "
            f"which cannot be read as one ({type(err).__name__}: "
            f"{(str(err).splitlines() or [''])[0][:120]}). Use a new checkpoint "
            "path or delete the file."
        ) from err
    if not isinstance(state, dict) or not set(_CHECKPOINT_KEYS) <= set(state):
        raise ValueError(
            f"checkpoint must be a file written by finetune; got {str(path)!r}, "
            f"which holds a {type(state).__name__} without its keys. Use a new "
            "checkpoint path or delete the file."
        )
    return state


def _check_config(state, path, config):
    if state.get("config") != config:
        raise ValueError(
            f"checkpoint {str(path)!r} belongs to another run: it was written with "
            f"{state.get('config')}, this run has {config}; use a new checkpoint "
            "path or delete the file."
        )
    return state


# --------------------------------------------------------------------------------
# public


def finetune(
    model,
    train,
    test=None,
    *,
    params="attention",
    n_steps=50,
    step_size=None,
    optimizer="gd",
    loss="squared",
    batch_size=None,
    block_size=64,
    checkpoint=None,
    checkpoint_every=10,
    device="cpu",
    snapshots=None,
    random_state=None,
    callback=None,
):
    """Fine-tune the parameter subset ``params`` of a model and record every step.

    One step is one update theta <- theta - alpha grad L_B(theta) (or Adam's) on a
    batch B: every training example for ``"gd"``, ``batch_size`` examples drawn
    without replacement, epoch by epoch, for ``"sgd"`` (and ``"adam"`` when a
    ``batch_size`` is given). The loss is the squared loss (1/2b) sum_{i in B} (y_i
    - f(x_i))^2 or the logistic loss (1/b) sum log(1 + exp(-y_i f(x_i))).

    Parameters
    ----------
    model : ScalarModel or LinearizedModel
        An encoder needs its head fitted (:meth:`ScalarModel.fit_head`); a
        :class:`LinearizedModel` trains f_lin(x; theta) = f(x; theta_0) + grad f(x;
        theta_0) . (theta - theta_0) with the same loop.
    train : Split
        Training texts with labels +1/-1.
    test : Split, default=None
        Held-out texts, evaluated at every recorded step.
    params : str, default="attention"
        The parameters that move; see :meth:`ScalarModel.named_trainable`.
    n_steps : int, default=50
        T, the number of updates.
    step_size : float, default=None
        alpha; ``None`` means 1/lambda_1 of K/n for ``"gd"`` and ``"sgd"`` (lambda_1
        of the exact eNTK by ``numpy.linalg.eigvalsh``: the step at which the
        linearised model's top eigendirection is fitted in one step) and 1e-4 for
        ``"adam"``.
    optimizer : {"gd", "sgd", "adam"}, default="gd"
    loss : {"squared", "cross-entropy"}, default="squared"
    batch_size : int, default=None
        Examples per update; ``None`` means 8 for ``"sgd"`` and the whole training
        set for ``"gd"`` and ``"adam"``. ``"gd"`` refuses any other value.
    block_size : int, default=64
        Examples per forward pass when predictions are recorded, and per Jacobian
        block of the default step size's eNTK.
    checkpoint : str or path, default=None
        A file to resume from (if it exists) and to write every
        ``checkpoint_every`` steps and at the end. Its folder must exist, and an
        existing file must be a checkpoint this function wrote (a ValueError
        otherwise, raised before any work).
    checkpoint_every : int, default=10
    device : {"cpu", "cuda"}, default="cpu"
        Where the module, the parameters and the batches live during the run; the
        module is moved back to its own device afterwards. Minibatches are drawn
        by a CPU generator, so a seed gives the same batches on either device.
    snapshots : iterable of int, default=None
        Steps t at which to keep a CPU copy of theta_t (for the eNTK at theta_t,
        :func:`initscape.ntk.kernel_drift`).
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the minibatch order (through :func:`initscape._validation.
        torch_generator`).
    callback : callable, default=None
        Called as ``callback(done, total)`` after each step.

    Returns
    -------
    FinetuneResult
    """
    import torch

    # checks
    optimizer = check_option(optimizer, "optimizer", OPTIMIZERS)
    loss = check_option(loss, "loss", LOSSES)
    n_steps = check_scalar(n_steps, "n_steps", numbers.Integral, low=0)
    block_size = check_scalar(block_size, "block_size", numbers.Integral, low=1)
    checkpoint_every = check_scalar(
        checkpoint_every, "checkpoint_every", numbers.Integral, low=1
    )
    device = check_device(device)
    check_model(model)
    state = None
    if checkpoint is not None:
        checkpoint = _check_checkpoint(checkpoint)
        # read before the default step size's kernel, so a file that is no checkpoint is
        # refused at once
        if checkpoint.is_file():
            state = _read_checkpoint(checkpoint)
    keep = _check_snapshots(snapshots)
    train_texts, y_train = _texts_and_labels(train, "train")
    test_texts, y_test = (
        (None, None) if test is None else _texts_and_labels(test, "test")
    )
    n_train = len(train_texts)
    if batch_size is None:
        batch_size = 8 if optimizer == "sgd" else n_train
    batch_size = check_scalar(
        batch_size, "batch_size", numbers.Integral, low=1, high=n_train
    )
    if optimizer == "gd" and batch_size != n_train:
        raise ValueError(
            f"batch_size must be None or n_train={n_train} for optimizer='gd' "
            f"(full-batch gradient descent); got {batch_size}. Use optimizer='sgd' "
            "for minibatches."
        )
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None; got {callback!r}.")
    if model.kind == "encoder" and not model.head_fitted:
        raise ValueError(
            f"model {model.name!r} has no fitted head; call model.fit_head(...) "
            "first (or build the eNTK, which fits it)."
        )
    rng = check_random_state(random_state)
    clock = time.perf_counter()
    if step_size is None:
        if optimizer == "adam":
            step_size = 1e-4
        else:
            step_size = 1.0 / _exact_top_eigenvalue(model, train, params, block_size)
    step_size_seconds = time.perf_counter() - clock
    alpha = check_scalar(
        step_size, "step_size", numbers.Real, low=0, low_inclusive=False
    )
    linearized = bool(getattr(model, "linearized", False))
    config = _config(
        model, params, optimizer, loss, alpha, batch_size, n_train, linearized
    )

    # state: parameters, optimiser, minibatch generator, history
    gen = torch_generator(rng)
    theta0 = model.named_trainable(params)
    leaves = {k: v.clone().requires_grad_(True) for k, v in theta0.items()}
    history = {k: [] for k in _HISTORY_KEYS}
    kept = {}
    order, cursor, start_step = None, 0, 0
    if state is not None:
        _check_config(state, checkpoint, config)
        with torch.no_grad():
            for k, v in leaves.items():
                v.copy_(state["params"][k])
        gen.set_state(state["generator"])
        history, kept = state["history"], state["snapshots"]
        order, cursor, start_step = state["order"], state["cursor"], state["step"]
        logger.info("resumed %s from step %d of %s", model.name, start_step, checkpoint)

    home = next(model.module.parameters()).device
    model.module.to(device)
    try:
        leaves = {
            k: v.detach().to(device).requires_grad_(True) for k, v in leaves.items()
        }
        make = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD
        opt = make(list(leaves.values()), lr=alpha)
        if state is not None:
            opt.load_state_dict(state["optimizer"])
        inputs_train = _to(model.encode(train_texts), device)
        inputs_test = (
            None if test_texts is None else _to(model.encode(test_texts), device)
        )
        y_dev = torch.as_tensor(y_train, dtype=model.dtype, device=device)

        def record(step, train_pred=None):
            if train_pred is None:
                train_pred = _predict(model, leaves, inputs_train, block_size)
            risk, acc = _risk(train_pred, y_train, loss)
            _check_finite(risk, "training", step, alpha)
            if step in keep:
                kept[step] = {k: v.detach().cpu().clone() for k, v in leaves.items()}
            history["steps"].append(step)
            history["train_risk"].append(risk)
            history["train_accuracy"].append(acc)
            history["train_predictions"].append(train_pred)
            if inputs_test is not None:
                pred = _predict(model, leaves, inputs_test, block_size)
                risk, acc = _risk(pred, y_test, loss)
                _check_finite(risk, "held-out", step, alpha)
                history["test_risk"].append(risk)
                history["test_accuracy"].append(acc)
                history["test_predictions"].append(pred)

        def save(step):
            _save_checkpoint(
                checkpoint,
                {
                    "config": config,
                    "step": step,
                    "params": {k: v.detach().cpu() for k, v in leaves.items()},
                    "optimizer": opt.state_dict(),
                    "generator": gen.get_state(),
                    "history": history,
                    "snapshots": kept,
                    "order": order,
                    "cursor": cursor,
                },
            )

        # the steps: record theta_t, then update; a full batch's forward pass
        # doubles as the record of the training predictions
        clock = time.perf_counter()
        full = batch_size == n_train
        for step in range(start_step, n_steps):
            if full:
                batch = torch.arange(n_train)
            else:
                if order is None or cursor + batch_size > n_train:
                    order, cursor = torch.randperm(n_train, generator=gen), 0
                batch = order[cursor : cursor + batch_size]
                cursor += batch_size
                if not history["steps"] or history["steps"][-1] != step:
                    record(step)
            rows = _rows(inputs_train, batch.to(device))
            opt.zero_grad(set_to_none=True)
            out = model.forward(leaves, rows)
            if full and (not history["steps"] or history["steps"][-1] != step):
                record(step, out.detach().double().cpu().numpy())
            objective = _losses(out, y_dev[batch.to(device)], loss).mean()
            objective.backward()
            opt.step()
            if checkpoint is not None and (step + 1) % checkpoint_every == 0:
                save(step + 1)
            if callback is not None:
                callback(step + 1, n_steps)
        if not history["steps"] or history["steps"][-1] != n_steps:
            record(n_steps)
        if checkpoint is not None:
            save(n_steps)
        seconds = time.perf_counter() - clock
        final = {k: v.detach().cpu().clone() for k, v in leaves.items()}
    finally:
        model.module.to(home)

    # descent on the training risk that ends above where it began took steps too
    # long for its curvature: a finite blow-up, which the nan check cannot see
    risks = history["train_risk"]
    if len(risks) > 1 and risks[-1] > risks[0]:
        warnings.warn(
            f"the training risk rose from {risks[0]:.4g} at step {history['steps'][0]}"
            f" to {risks[-1]:.4g} at step {history['steps'][-1]}: step_size="
            f"{alpha:g} is likely too large for this network away from theta_0 "
            "(1/lambda_1 of K/n is the kernel's limit at theta_0); try a smaller "
            "one.",
            ConvergenceWarning,
            stacklevel=2,
        )

    def stack(key):
        values = history[key]
        return np.asarray(values) if values else None

    return FinetuneResult(
        steps=np.asarray(history["steps"], dtype=int),
        train_risk=stack("train_risk"),
        test_risk=stack("test_risk"),
        train_accuracy=stack("train_accuracy"),
        test_accuracy=stack("test_accuracy"),
        train_predictions=stack("train_predictions"),
        test_predictions=stack("test_predictions"),
        initial_params={k: v.cpu() for k, v in theta0.items()},
        final_params=final,
        step_size=alpha,
        optimizer=optimizer,
        loss=loss,
        params=params,
        batch_size=batch_size,
        linearized=linearized,
        device=device,
        seconds=seconds,
        step_size_seconds=step_size_seconds,
        resumed_from=start_step,
        snapshots=kept,
    )
