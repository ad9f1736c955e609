"""The empirical neural tangent kernel of a scalar model, three ways.

For a scalar network f(x; theta) and the parameters theta_0 it starts from, the
empirical NTK (Jacot, Gabriel and Hongler, NeurIPS 2018, eq. 4; Sun and Raskutti,
2026, section 2) is

    K(x, x') = < grad_theta f(x; theta_0), grad_theta f(x'; theta_0) >,

the Gram matrix K = J J^T of the Jacobian J (rows: examples; columns: the P
parameters that move). Three ways to compute it:

``"exact"``
    Per-example Jacobians with ``torch.func`` (``vmap`` over examples of ``jacrev``
    of ``functional_call``; a plain backward loop where vmap cannot go), taken
    ``block_size`` examples at a time and multiplied parameter tensor by parameter
    tensor into a float64 accumulator. Training blocks are cached up to
    ``cache_bytes``; past it, peak memory is that cache plus two blocks of
    Jacobians (2 * block_size * P numbers), and the price is recomputing
    Jacobian blocks: with m training blocks (none cached) and m' held-out blocks,
    m(m + 1)/2 + m' (m + 1) block Jacobians are taken, against m + m' when all
    training blocks are cached.
``"ntkvp"``
    NTK-vector products, K v = J (J^T v): a vector-Jacobian product (reverse
    mode) followed by a Jacobian-vector product (forward mode, ``torch.func.jvp``),
    never storing a Jacobian; the kernel's columns are K e_i. :func:`ntk_matvec`
    exposes the product itself, for iterative eigensolvers on large n.
``"sketch"``
    Jacobian blocks times a seeded random projection S of shape (P, k), K ~
    (J S)(J S)^T / k, with S generated parameter chunk by parameter chunk from
    seeds that depend only on the chunk (so every block sees the same S and no
    P x k matrix is ever formed). Its Johnson-Lindenstrauss bound is reported.
"""

from __future__ import annotations

import logging
import math
import numbers
import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from initscape._validation import (
    check_option,
    check_random_state,
    check_scalar,
)
from initscape.ntk._linearize import LinearizedModel, quiet_jvp
from initscape.ntk._models import ScalarModel
from initscape.ntk._tasks import Split

logger = logging.getLogger(__name__)

__all__ = ["EmpiricalNTK", "empirical_ntk", "ntk_matvec", "jl_bound"]

METHODS = ("exact", "ntkvp", "sketch")
PROJECTIONS = ("gaussian", "rademacher")
JACOBIANS = ("auto", "vmap", "loop")

# numbers of a projection chunk: S is drawn this many entries at a time
_CHUNK_ENTRIES = 1 << 22


@dataclass
class EmpiricalNTK:
    """An empirical NTK on a training set, with its cross-kernel to held-out data.

    Attributes
    ----------
    train : ndarray of shape (n_train, n_train)
        K(X_train, X_train), float64, symmetric.
    cross : ndarray of shape (n_test, n_train) or None
        K(X_test, X_train), for predictions on held-out data.
    f0_train : ndarray of shape (n_train,)
        f(x; theta_0) on the training inputs, the start of kernel gradient descent.
    f0_test : ndarray of shape (n_test,) or None
    y_train : ndarray of shape (n_train,) or None
        Training labels when the inputs came as a :class:`Split`.
    y_test : ndarray of shape (n_test,) or None
    n_params : int
        P, the number of parameters that move (tied weights once).
    params : str
        The parameter subset.
    method : {"exact", "ntkvp", "sketch"}
    seconds : float
        Wall-clock time of the kernel computation.
    jacobian : {"vmap", "loop", "jvp"}
        How per-example derivatives were taken.
    sketch_dim : int or None
        k, for the sketch.
    jl_epsilon : float or None
        For the sketch: with probability at least 1 - ``jl_delta``, every entry
        satisfies |K_sketch_ij - K_ij| <= jl_epsilon * sqrt(K_ii K_jj) (see
        :func:`jl_bound`); ``inf`` when k is too small for any guarantee.
    jl_delta : float or None
    """

    train: np.ndarray
    cross: np.ndarray | None
    f0_train: np.ndarray
    f0_test: np.ndarray | None
    n_params: int
    params: str
    method: str
    seconds: float
    jacobian: str
    y_train: np.ndarray | None = None
    y_test: np.ndarray | None = None
    sketch_dim: int | None = None
    jl_epsilon: float | None = None
    jl_delta: float | None = None
    info: dict = field(default_factory=dict)

    @property
    def n_train(self) -> int:
        return self.train.shape[0]

    @property
    def n_test(self) -> int:
        return 0 if self.cross is None else self.cross.shape[0]

    def subset(self, index) -> EmpiricalNTK:
        """The kernel of the training examples ``index``, against the same held-out set.

        K[index][:, index] is a principal block: the eNTK of that training set,
        with no new computation. The other fields are carried over.
        """
        idx = np.asarray(index)
        return replace(
            self,
            train=self.train[np.ix_(idx, idx)],
            cross=None if self.cross is None else self.cross[:, idx],
            f0_train=self.f0_train[idx],
            y_train=None if self.y_train is None else self.y_train[idx],
        )


def jl_bound(sketch_dim, n_points, delta=0.05):
    """Johnson-Lindenstrauss error of a k-dimensional Gaussian or sign sketch.

    For S of shape (P, k) with independent N(0, 1) or +-1 entries and any vector
    x, P(| ||S^T x||^2 / k - ||x||^2 | > eps ||x||^2) <= 2 exp(-k (eps^2/2 -
    eps^3/3) / 2) (Dasgupta and Gupta, 2003, Lemma 2.2 for Gaussian entries;
    Achlioptas, 2003, proof of Theorem 1.1 for signs). Writing an inner product
    of unit vectors u, v as (||u + v||^2 - ||u - v||^2)/4 and taking a union bound
    over the at most n^2 vectors u +- v, with probability at least 1 - delta
    every pair satisfies

        |<S^T g_i, S^T g_j>/k - <g_i, g_j>| <= eps ||g_i|| ||g_j||,

    where eps in (0, 1) solves eps^2/2 - eps^3/3 = 2 log(2 n^2 / delta) / k.

    Parameters
    ----------
    sketch_dim : int
        k.
    n_points : int
        n, the number of gradients sketched together.
    delta : float, default=0.05
        Failure probability.

    Returns
    -------
    float
        eps, or ``inf`` when k is too small for the bound to say anything
        (the right-hand side above 1/6, the value at eps = 1).
    """
    from scipy.optimize import brentq

    k = check_scalar(sketch_dim, "sketch_dim", numbers.Integral, low=1)
    n = check_scalar(n_points, "n_points", numbers.Integral, low=1)
    delta = check_scalar(
        delta,
        "delta",
        numbers.Real,
        low=0,
        high=1,
        low_inclusive=False,
        high_inclusive=False,
    )
    target = 2.0 * math.log(2.0 * n * n / delta) / k
    if target >= 1.0 / 6.0:
        return math.inf
    return float(brentq(lambda e: e * e / 2 - e**3 / 3 - target, 0.0, 1.0))


# --------------------------------------------------------------------------------
# batches


def check_model(model, name="model", *, linearized=True):
    """Refuse anything but a ScalarModel (or, where accepted, a LinearizedModel)."""
    kinds = (ScalarModel, LinearizedModel) if linearized else (ScalarModel,)
    if not isinstance(model, kinds):
        expected = " or ".join(k.__name__ for k in kinds)
        raise TypeError(
            f"{name} must be a {expected} (from initscape.ntk.load_model or "
            f"tiny_model); got {type(model).__name__} {repr(model)[:60]}."
        )
    return model


def _network(model):
    """The ScalarModel whose eNTK at theta_0 is the model's.

    The eNTK of f_lin at any theta is grad f(x; theta_0) . grad f(x'; theta_0), the
    eNTK of f at theta_0, by definition; and torch.func cannot take a vjp through
    f_lin's own autograd Function (it fails with "Cannot access data pointer of
    Tensor that doesn't have storage"), so a LinearizedModel's kernel is taken on
    the network it linearises.
    """
    return model.model if isinstance(model, LinearizedModel) else model


def _texts_and_labels(data, name, *, optional=False):
    if data is None and optional:
        return None, None
    if isinstance(data, Split):
        return list(data.texts), np.asarray(data.labels, dtype=float)
    if isinstance(data, (list, tuple)):
        bad = [t for t in data if not isinstance(t, str)]
        if not bad:
            return list(data), None
        raise TypeError(
            f"{name} must be a Split or a list of str; got a {type(data).__name__} "
            f"holding {type(bad[0]).__name__} {repr(bad[0])[:40]}."
        )
    raise TypeError(
        f"{name} must be a Split or a list of str; got {type(data).__name__} "
        f"{repr(data)[:40]}."
    )


def _rows(inputs, index):
    """Rows ``index`` of a tokenised batch, trailing all-padding columns cut."""
    out = {k: v[index] for k, v in inputs.items()}
    width = int(out["attention_mask"].sum(-1).max())
    return {k: v[:, :width] for k, v in out.items()}


def _blocks(n, block_size):
    return [np.arange(s, min(s + block_size, n)) for s in range(0, n, block_size)]


def _f0(model, inputs, blocks):
    import torch

    with torch.no_grad():
        parts = [
            model.module(**_rows(inputs, b)).double().cpu().numpy() for b in blocks
        ]
    return np.concatenate(parts)


def check_batch_independence(model, inputs, n_check=4):
    """Refuse a model whose output on an example depends on the rest of the batch.

    Compares f on the first ``n_check`` examples as one batch with f on each alone
    (batch normalisation in training mode, for example, fails this).
    """
    import torch

    n = min(n_check, inputs["input_ids"].shape[0])
    batch = _rows(inputs, np.arange(n))
    with torch.no_grad():
        together = model.module(**batch).double().cpu().numpy()
        alone = np.array(
            [float(model.module(**_rows(inputs, [i]))[0]) for i in range(n)]
        )
    # padding to the batch width changes float32 sums in the last digits only, and
    # Llama's eager attention takes its softmax in float32 even for float64 models
    gap = np.abs(together - alone) / (1.0 + np.abs(alone))
    if gap.max() > 1e-4:
        i = int(gap.argmax())
        raise ValueError(
            f"model {model.name!r} gives an output that depends on the rest of the "
            f"batch: f(x_{i}) = {alone[i]:.8g} alone but {together[i]:.8g} in a "
            f"batch of {n}. The eNTK needs one f per example: put batch-statistics "
            "layers in eval mode or use a model without them."
        )


# --------------------------------------------------------------------------------
# Jacobians


def _single(model):
    def f(params, row):
        return model.forward(params, {k: v.unsqueeze(0) for k, v in row.items()})[0]

    return f


def _jacobian_vmap(model, params, batch):
    import torch
    from torch.func import jacrev, vmap

    # torch.func ignores the outer no_grad; it stops a second graph through the
    # parameters that do not move
    with torch.no_grad():
        return vmap(jacrev(_single(model)), in_dims=(None, 0))(params, batch)


def _jacobian_loop(model, params, batch):
    import torch

    leaves = {k: v.detach().requires_grad_(True) for k, v in params.items()}
    n = batch["input_ids"].shape[0]
    grads = {
        k: torch.empty((n, *v.shape), dtype=v.dtype, device=v.device)
        for k, v in params.items()
    }
    for i in range(n):
        out = model.forward(leaves, _rows(batch, [i]))[0]
        got = torch.autograd.grad(out, list(leaves.values()), allow_unused=True)
        for (k, v), g in zip(leaves.items(), got, strict=True):
            grads[k][i] = torch.zeros_like(v) if g is None else g
    return grads


class _Jacobians:
    """Per-example Jacobian blocks: vmap when it works, a backward loop otherwise."""

    def __init__(self, model, params, mode):
        self.model, self.params, self.mode = model, params, mode

    def __call__(self, batch):
        if self.mode in ("auto", "vmap"):
            try:
                out = _jacobian_vmap(self.model, self.params, batch)
                self.mode = "vmap"
                return out
            # torch.func raises one of these for an op with no batching rule;
            # "auto" then falls back to one backward pass per example
            except (RuntimeError, NotImplementedError) as err:
                if self.mode == "vmap":
                    raise
                logger.info(
                    "vmap cannot go through %s (%s); using a backward loop",
                    self.model.name,
                    str(err).split("\n")[0][:120],
                )
                self.mode = "loop"
        return _jacobian_loop(self.model, self.params, batch)


def _gram(jac_a, jac_b):
    """sum over parameter tensors of J_a J_b^T, in float64."""
    total = None
    for k, a in jac_a.items():
        a2 = a.reshape(a.shape[0], -1).double()
        b2 = jac_b[k].reshape(jac_b[k].shape[0], -1).double()
        term = a2 @ b2.T
        total = term if total is None else total + term
    return total.detach().cpu().numpy()


def _exact(model, params, inputs, n_train, block_size, cache_bytes, jacobian, callback):
    n_rows = inputs["input_ids"].shape[0]
    train_blocks = _blocks(n_train, block_size)
    row_blocks = train_blocks + [
        b + n_train for b in _blocks(n_rows - n_train, block_size)
    ]
    jac = _Jacobians(model, params, jacobian)
    m = len(train_blocks)

    # the first training blocks whose Jacobians fit in cache_bytes are kept; the
    # others are recomputed each time a row block needs them
    per_example = sum(v.numel() for v in params.values()) * model.dtype.itemsize
    sizes = np.cumsum([len(b) * per_example for b in train_blocks])
    n_cached = int(np.searchsorted(sizes, cache_bytes, side="right"))
    recomputed = [max(0, min(i, m) - n_cached) for i in range(len(row_blocks))]
    total = len(row_blocks) + sum(recomputed)
    cache, done = {}, 0
    kernel = np.zeros((n_rows, n_train))

    def step(block):
        nonlocal done
        done += 1
        out = jac(_rows(inputs, block))
        if callback is not None:
            callback(done, total)
        return out

    # row block I against every training block J <= I (all J for held-out rows)
    for i, rows in enumerate(row_blocks):
        jac_i = step(rows)
        if i < n_cached:
            cache[i] = jac_i
        for j, cols in enumerate(train_blocks[: min(i, m)]):
            jac_j = cache[j] if j in cache else step(cols)
            kernel[np.ix_(rows, cols)] = _gram(jac_i, jac_j)
        if i < m:
            kernel[np.ix_(rows, rows)] = _gram(jac_i, jac_i)
        del jac_i
    cache.clear()

    # mirror the lower triangle of the training block
    train = np.tril(kernel[:n_train])
    train = train + np.tril(train, -1).T
    return train, kernel[n_train:], jac.mode


def _ntkvp(model, params, inputs, n_train, block_size, callback):
    import torch
    from torch.func import jvp, vjp

    n_rows = inputs["input_ids"].shape[0]
    blocks = _blocks(n_rows, block_size)
    columns = np.zeros((n_rows, n_train))

    # column i of [K_train; K_cross] is J (J^T e_i): a vjp on example i alone (the
    # batch independence is checked), then jvps over every block of rows
    for i in range(n_train):
        row = _rows(inputs, [i])
        with torch.no_grad():
            _, pullback = vjp(lambda p, row=row: model.forward(p, row), params)
            (tangent,) = pullback(torch.ones(1, dtype=model.dtype, device=model.device))
            for rows in blocks:
                batch = _rows(inputs, rows)
                with quiet_jvp():
                    _, out = jvp(
                        lambda p, b=batch: model.forward(p, b), (params,), (tangent,)
                    )
                columns[rows, i] = out.double().cpu().numpy()
        if callback is not None:
            callback(i + 1, n_train)

    train = columns[:n_train]
    asym = float(np.abs(train - train.T).max())
    scale = float(np.abs(np.diag(train)).max()) or 1.0
    logger.info(
        "ntkvp kernel asymmetry before symmetrising: %.3g (relative %.3g)",
        asym,
        asym / scale,
    )
    return (train + train.T) / 2, columns[n_train:], asym / scale


def _chunks(params, sketch_dim):
    """(name, start, stop) slices of the flattened parameters, <= 2^22/k entries."""
    width = max(1, _CHUNK_ENTRIES // sketch_dim)
    out = []
    for name, v in params.items():
        for start in range(0, v.numel(), width):
            out.append((name, start, min(start + width, v.numel())))
    return out


def _projection(chunk_id, size, sketch_dim, base_seed, projection):
    """The rows of S for one chunk, seeded by (base_seed, chunk_id) only."""
    import torch

    seed = np.random.SeedSequence([base_seed, chunk_id]).generate_state(1)[0]
    gen = torch.Generator().manual_seed(int(seed))
    if projection == "gaussian":
        return torch.randn((size, sketch_dim), generator=gen, dtype=torch.float64)
    signs = torch.randint(0, 2, (size, sketch_dim), generator=gen)
    return signs.to(torch.float64) * 2.0 - 1.0


def _sketch(
    model,
    params,
    inputs,
    block_size,
    sketch_dim,
    projection,
    base_seed,
    jacobian,
    callback,
):
    n_rows = inputs["input_ids"].shape[0]
    blocks = _blocks(n_rows, block_size)
    jac = _Jacobians(model, params, jacobian)
    chunks = _chunks(params, sketch_dim)
    sketch = np.zeros((n_rows, sketch_dim))

    # each block of rows: its Jacobian, times S chunk by chunk
    for b, rows in enumerate(blocks):
        jac_b = jac(_rows(inputs, rows))
        z = 0.0
        for c, (name, start, stop) in enumerate(chunks):
            part = jac_b[name].reshape(len(rows), -1)[:, start:stop].double()
            proj = _projection(c, stop - start, sketch_dim, base_seed, projection)
            z = z + part @ proj.to(part.device)
        sketch[rows] = z.cpu().numpy() / math.sqrt(sketch_dim)
        del jac_b
        if callback is not None:
            callback(b + 1, len(blocks))
    return sketch, jac.mode


# --------------------------------------------------------------------------------
# public


def empirical_ntk(
    model,
    train,
    test=None,
    *,
    probe=None,
    params="attention",
    method="exact",
    block_size=32,
    cache_bytes=2**31,
    sketch_dim=256,
    projection="gaussian",
    delta=0.05,
    jacobian="auto",
    random_state=None,
    callback=None,
):
    """The empirical NTK of ``model`` at its current weights, on texts.

    K(x, x') = sum_p (d f(x)/d theta_p)(d f(x')/d theta_p) over the P parameters
    selected by ``params`` (Jacot et al., 2018, eq. 4; Sun and Raskutti, 2026,
    section 2), in float64, with the cross-kernel K(X_test, X_train).

    Parameters
    ----------
    model : ScalarModel or LinearizedModel
        From :func:`load_model` or :func:`tiny_model`; a :class:`LinearizedModel`
        has the eNTK of the network it linearises at theta_0, by definition,
        and that is what is computed. Computed in eval mode: a
        module left in training mode (dropout on) is switched to eval for the
        computation, with a warning, and switched back afterwards. An encoder
        whose head is not fitted gets its linear probe fitted on ``probe``.
    train : Split or list of str
        Training inputs (n_train of them).
    test : Split or list of str, default=None
        Held-out inputs, for the cross-kernel.
    probe : Split, default=None
        Where an unfitted encoder head is fitted: pass ``task.probe`` of
        :func:`load_task` (examples disjoint from ``train``). ``None`` fits it on
        ``train``, as issue 4 words it, which must then be a :class:`Split`; on a
        wide embedding that head nearly interpolates ``train``, f_0 fits the
        training labels and the stopping rule has little left to time (see
        :mod:`initscape.ntk._tasks`). Ignored when the head is already fitted.
    params : str, default="attention"
        The parameters that move; see :meth:`ScalarModel.named_trainable`.
    method : {"exact", "ntkvp", "sketch"}, default="exact"
        Per-example Jacobians, NTK-vector products, or a random sketch.
    block_size : int, default=32
        Examples per Jacobian block (exact, sketch) or per forward batch (ntkvp);
        peak memory grows linearly with it.
    cache_bytes : int, default=2**31
        Exact method: training Jacobian blocks are kept while they fit in this
        many bytes (2 GiB: 128 examples of MiniLM's 3.5M attention parameters in
        float32), so that held-out rows and later blocks reuse them; blocks
        beyond it are recomputed. 0 keeps peak memory at two blocks.
    sketch_dim : int, default=256
        k, the dimension of the sketch.
    projection : {"gaussian", "rademacher"}, default="gaussian"
        Entries of S: N(0, 1) or +-1.
    delta : float, default=0.05
        Failure probability of the reported Johnson-Lindenstrauss bound.
    jacobian : {"auto", "vmap", "loop"}, default="auto"
        ``"auto"`` tries ``torch.func.vmap`` and falls back to a backward loop.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the sketch's projection.
    callback : callable, default=None
        Called as ``callback(done, total)`` as blocks or columns finish.

    Returns
    -------
    EmpiricalNTK
    """
    # checks
    method = check_option(method, "method", METHODS)
    projection = check_option(projection, "projection", PROJECTIONS)
    jacobian = check_option(jacobian, "jacobian", JACOBIANS)
    block_size = check_scalar(block_size, "block_size", numbers.Integral, low=1)
    cache_bytes = check_scalar(cache_bytes, "cache_bytes", numbers.Integral, low=0)
    sketch_dim = check_scalar(sketch_dim, "sketch_dim", numbers.Integral, low=1)
    delta = check_scalar(
        delta,
        "delta",
        numbers.Real,
        low=0,
        high=1,
        low_inclusive=False,
        high_inclusive=False,
    )
    rng = check_random_state(random_state)
    check_model(model)
    train_texts, y_train = _texts_and_labels(train, "train")
    test_texts, y_test = _texts_and_labels(test, "test", optional=True)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None; got {callback!r}.")
    n_train = len(train_texts)
    n_test = 0 if test_texts is None else len(test_texts)
    if n_train < 1:
        raise ValueError("train must hold at least one example; got 0.")

    was_training = model.module.training
    if was_training:
        warnings.warn(
            f"model {model.name!r} is in training mode (dropout on); the eNTK is "
            "computed in eval mode and the module is put back in training mode "
            "afterwards.",
            UserWarning,
            stacklevel=2,
        )
        model.module.eval()
    try:
        # the linear probe of an encoder, on the probe split (else on train)
        if model.kind == "encoder" and not model.head_fitted:
            if probe is not None:
                probe_texts, y_probe = _texts_and_labels(probe, "probe")
            else:
                probe_texts, y_probe = train_texts, y_train
            if y_probe is None:
                raise ValueError(
                    f"model {model.name!r} has no fitted head: pass probe (or "
                    "train) as a Split with labels, or call model.fit_probe first."
                )
            model.fit_head(model.encode(probe_texts), y_probe)
        model = _network(model)

        # tokens, the start f0, and the batch-independence check
        start = time.perf_counter()
        inputs = model.encode(train_texts + (test_texts or []))
        check_batch_independence(model, inputs)
        f0 = _f0(model, inputs, _blocks(n_train + n_test, block_size))
        theta = model.named_trainable(params)
        n_params = sum(v.numel() for v in theta.values())
        logger.info(
            "eNTK of %s: n=%d, n_test=%d, P=%d, method=%s",
            model.name,
            n_train,
            n_test,
            n_params,
            method,
        )

        # the kernel
        info, eps = {}, None
        if method == "exact":
            k_train, k_cross, mode = _exact(
                model,
                theta,
                inputs,
                n_train,
                block_size,
                cache_bytes,
                jacobian,
                callback,
            )
        elif method == "ntkvp":
            k_train, k_cross, asym = _ntkvp(
                model, theta, inputs, n_train, block_size, callback
            )
            mode, info = "jvp", {"relative_asymmetry": asym}
        else:
            base_seed = int(rng.integers(0, 2**63 - 1))
            z, mode = _sketch(
                model,
                theta,
                inputs,
                block_size,
                sketch_dim,
                projection,
                base_seed,
                jacobian,
                callback,
            )
            k_train = z[:n_train] @ z[:n_train].T
            k_cross = z[n_train:] @ z[:n_train].T
            eps = jl_bound(sketch_dim, n_train + n_test, delta)
        seconds = time.perf_counter() - start
    finally:
        model.module.train(was_training)

    return EmpiricalNTK(
        train=k_train,
        cross=k_cross if n_test else None,
        f0_train=f0[:n_train],
        f0_test=f0[n_train:] if n_test else None,
        y_train=y_train,
        y_test=y_test,
        n_params=int(n_params),
        params=params,
        method=method,
        seconds=seconds,
        jacobian=mode,
        sketch_dim=sketch_dim if method == "sketch" else None,
        jl_epsilon=eps,
        jl_delta=delta if method == "sketch" else None,
        info=info,
    )


def ntk_matvec(model, texts, vector, *, params="attention"):
    """K v without forming K: a vjp then a jvp over one batch.

    K v = J (J^T v), where J^T v = sum_i v_i grad f(x_i) is one reverse-mode pass
    over the batch and J u one forward-mode pass (``torch.func.vjp`` and
    ``torch.func.jvp``). Memory: one batch of activations and two parameter-sized
    vectors.

    Parameters
    ----------
    model : ScalarModel or LinearizedModel
        A :class:`LinearizedModel` multiplies by the eNTK of the network it
        linearises, at theta_0 (the same kernel, by definition).
    texts : list of str or Split
        n inputs, evaluated as one batch.
    vector : ndarray of shape (n,)
    params : str, default="attention"

    Returns
    -------
    ndarray of shape (n,)
    """
    import torch
    from torch.func import jvp, vjp

    model = _network(check_model(model))
    texts, _ = _texts_and_labels(texts, "texts")
    if not texts:
        raise ValueError("texts must hold at least one text; got 0.")
    vector = np.asarray(vector, dtype=float)
    if vector.shape != (len(texts),):
        raise ValueError(
            f"vector must be of shape ({len(texts)},), one entry per text; got "
            f"shape {vector.shape}."
        )
    inputs = model.encode(texts)
    theta = model.named_trainable(params)
    was_training = model.module.training
    model.module.eval()
    try:
        with torch.no_grad():
            _, pullback = vjp(lambda p: model.forward(p, inputs), theta)
            cotangent = torch.as_tensor(vector, dtype=model.dtype, device=model.device)
            (tangent,) = pullback(cotangent)
            with quiet_jvp():
                _, out = jvp(lambda p: model.forward(p, inputs), (theta,), (tangent,))
    finally:
        model.module.train(was_training)
    return out.double().cpu().numpy()
