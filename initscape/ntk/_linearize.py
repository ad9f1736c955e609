"""The linearised network, and how far real fine-tuning strays from it.

Around theta_0 the network is replaced by its first-order Taylor expansion (Lee et
al., NeurIPS 2019, eq. 6; Sun and Raskutti, 2026, section 3)

    f_lin(x; theta) = f(x; theta_0) + grad_theta f(x; theta_0) . (theta - theta_0),

computed with a Jacobian-vector product (``torch.func.jvp``), never a Jacobian;
its gradient in theta is a vector-Jacobian product at theta_0 (``torch.func.vjp``).
Gradient descent on f_lin with the squared loss is kernel gradient descent with the
eNTK at theta_0, so :class:`LinearizedModel` trained by
:func:`initscape.ntk.finetune` gives the kernel trajectory through the same loop
as the real network.

How far the real network strays is measured two ways: the distance between real
and linearised predictions along training (:func:`prediction_distance`), and how
far the eNTK itself moves, 1 - <K_0, K_t>_F / (||K_0||_F ||K_t||_F)
(:func:`kernel_distance`; Fort et al., NeurIPS 2020, call 1 minus this the kernel
velocity's alignment).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import warnings
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

__all__ = [
    "LinearizedModel",
    "kernel_distance",
    "prediction_distance",
    "kernel_drift",
    "KernelDrift",
]


@contextlib.contextmanager
def quiet_jvp():
    """Hold back torch's "`torch.jit.script` is deprecated" warning around a jvp.

    The first ``torch.func.jvp`` of a process imports torch's jvp decompositions,
    which script themselves with ``torch.jit.script`` and so warn a dozen times
    about torch's own deprecated call; the user can do nothing about it, so it is
    silenced here (that one message and category only) rather than shown.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message=r"`torch\.jit\.script` is deprecated",
            category=DeprecationWarning,
        )
        yield


class LinearizedModel:
    """f_lin(x; theta) = f(x; theta_0) + grad f(x; theta_0) . (theta - theta_0).

    Has the interface :func:`initscape.ntk.finetune` and
    :func:`initscape.ntk.empirical_ntk` use (``forward``, ``encode``,
    ``named_trainable``, ``module``), so the same loop trains it.

    Parameters
    ----------
    model : ScalarModel
        The network, at theta_0 (its current weights). An encoder needs its head
        fitted.
    params : str, default="attention"
        The subset theta that moves; the others stay at their theta_0 values and
        f_lin is linear in theta only.
    cache_size : int, default=4
        Batches whose linearisation (``torch.func.linearize``) and pullback are
        kept, so that full-batch training traces each batch once. Each entry holds
        the activations of one forward pass.
    trace_after : int, default=8
        A batch is traced on its ``trace_after``-th use; before that (and for
        minibatches, which rarely repeat) each call takes a plain jvp and vjp.
        Tracing costs a few forward passes, so it pays off on long runs only.

    Attributes
    ----------
    theta0 : dict of str to torch.Tensor
        The expansion point, detached.
    linearized : bool
        Always True; tells the loop which kind of model it trains.
    """

    linearized = True

    def __init__(self, model, params="attention", *, cache_size=4, trace_after=8):
        self.model = model
        self.params = params
        self.cache_size = cache_size
        self.trace_after = trace_after
        self.theta0 = model.named_trainable(params)
        self._on = {}
        self._seen = {}
        self._cache = OrderedDict()

    def __repr__(self):
        return f"LinearizedModel({self.model!r}, params={self.params!r})"

    # the ScalarModel interface, delegated
    @property
    def module(self):
        return self.model.module

    @property
    def name(self):
        return f"{self.model.name}-linearized"

    @property
    def kind(self):
        return self.model.kind

    @property
    def dtype(self):
        return self.model.dtype

    @property
    def head_fitted(self):
        return self.model.head_fitted

    @property
    def tokenizer(self):
        return self.model.tokenizer

    def encode(self, texts):
        """Tokenise as the underlying model does."""
        return self.model.encode(texts)

    def named_trainable(self, params=None):
        """theta_0, the expansion point (only the subset it was built with)."""
        if params is not None and params != self.params:
            raise ValueError(
                f"params must be {self.params!r}, the subset this LinearizedModel "
                f"was built with; got {params!r}."
            )
        return {k: v.clone() for k, v in self.theta0.items()}

    def n_params(self, params=None) -> int:
        return sum(v.numel() for v in self.theta0.values())

    def _theta0(self, device):
        key = str(device)
        if key not in self._on:
            self._on[key] = {k: v.to(device) for k, v in self.theta0.items()}
        return self._on[key]

    def _maps(self, names, inputs, device):
        """(f_0, tangent -> J tangent, cotangent -> J^T cotangent) on a batch.

        A batch seen ``trace_after`` times gets ``torch.func.linearize`` (traced
        once, then cheap) and a kept vjp closure, in a small least-recently-used
        cache; a batch seen fewer times gets a plain jvp and vjp, so minibatches
        cost no tracing.
        """
        import torch
        from torch.func import jvp, linearize, vjp

        base = self._theta0(device)
        theta0 = {k: base[k] for k in names}

        def f(p):
            return self.model.forward(p, inputs)

        digest = hashlib.sha1()
        for key in ("input_ids", "attention_mask"):
            digest.update(str(tuple(inputs[key].shape)).encode())
            digest.update(inputs[key].detach().cpu().numpy().tobytes())
        key = (digest.hexdigest(), str(device), tuple(names))
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        self._seen[key] = self._seen.get(key, 0) + 1
        if self._seen[key] < self.trace_after:

            def push(tangent):
                with torch.no_grad(), quiet_jvp():
                    return jvp(f, (theta0,), (tangent,))[1]

            def pull(cotangent):
                with torch.no_grad():
                    return vjp(f, theta0)[1](cotangent)[0]

            with torch.no_grad():
                f0 = f(theta0)
            return f0, push, pull

        # traced once: the forward and its linearisation, and a kept pullback
        # (outside any autograd.Function: traced inside one's forward, the
        # tangent map comes out zero)
        with torch.no_grad(), warnings.catch_warnings(), quiet_jvp():
            # torch.fx's constant folding warns about its own traced attributes
            warnings.filterwarnings("ignore", message="Attempted to insert a get_attr")
            f0, push = linearize(f, theta0)
            _, pullback = vjp(f, theta0)
        entry = (f0.detach(), push, lambda c: pullback(c)[0])
        self._cache[key] = entry
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return entry

    def forward(self, params, inputs):
        """f_lin(x; theta) for the batch, differentiable in ``params``.

        Parameters
        ----------
        params : dict of str to torch.Tensor
            theta, with the keys of :attr:`theta0` (a subset falls back to
            theta_0 for the missing keys, i.e. a zero displacement there).
        inputs : dict of str to torch.Tensor
            A tokenised batch.

        Returns
        -------
        torch.Tensor of shape (n,)
        """
        unknown = set(params) - set(self.theta0)
        if unknown:
            raise ValueError(
                f"params must be a subset of the {len(self.theta0)} tensors of "
                f"theta_0 ({self.params!r}); got unknown names {sorted(unknown)[:3]}."
            )
        device = next(iter(params.values())).device
        base = self._theta0(device)
        names = list(base)
        values = [params.get(k, base[k]) for k in names]
        f0, push, pull = self._maps(names, inputs, device)
        return _linear_fn().apply(base, names, f0, push, pull, *values)

    def __call__(self, inputs):
        """f(x; theta_0) without gradients."""
        return self.model(inputs)

    def fit_head(self, *args, **kwargs):
        raise ValueError(
            "fit_head must be called on the ScalarModel before it is linearised; "
            "the head is part of theta_0."
        )


def _linear_fn():
    """The autograd Function of f_lin: jvp forward, vjp backward (built lazily)."""
    import torch

    class _Linear(torch.autograd.Function):
        @staticmethod
        def forward(ctx, base, names, f0, push, pull, *values):
            tangent = {k: v - base[k] for k, v in zip(names, values, strict=True)}
            ctx.pull, ctx.names = pull, names
            with torch.no_grad():
                return f0 + push(tangent)

        @staticmethod
        def backward(ctx, grad_out):
            with torch.no_grad():
                grads = ctx.pull(grad_out.contiguous())
            return (None, None, None, None, None, *(grads[k] for k in ctx.names))

    return _Linear


def kernel_distance(k0, kt):
    """1 - <K_0, K_t>_F / (||K_0||_F ||K_t||_F), in [0, 1] for Gram matrices.

    0 when K_t is a positive multiple of K_0 (the kernel kept its shape); the
    complement of the kernel alignment of Cristianini et al. (NIPS 2001).

    Parameters
    ----------
    k0 : ndarray of shape (n, n)
    kt : ndarray of shape (n, n)

    Returns
    -------
    float
    """
    a = np.asarray(getattr(k0, "train", k0), dtype=float)
    b = np.asarray(getattr(kt, "train", kt), dtype=float)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(
            f"k0 and kt must be square matrices of the same shape; got {a.shape} "
            f"and {b.shape}."
        )
    norm = np.linalg.norm(a) * np.linalg.norm(b)
    if norm == 0:
        raise ValueError("k0 and kt must be non-zero kernels; got a zero matrix.")
    return float(1.0 - np.sum(a * b) / norm)


def prediction_distance(real, linear):
    """RMS gap between real and linearised predictions at every common step.

    d_t = [ (1/n) sum_i (f_t(x_i) - f_lin,t(x_i))^2 ]^(1/2), on the training and
    held-out inputs, relative to the RMS move of the real predictions from the
    start, [ (1/n) sum_i (f_t(x_i) - f_0(x_i))^2 ]^(1/2).

    Parameters
    ----------
    real : FinetuneResult
    linear : FinetuneResult
        A run of :class:`LinearizedModel` on the same data and steps.

    Returns
    -------
    dict
        ``steps``, ``train`` and ``test`` (absolute gaps) and ``train_relative``
        and ``test_relative`` (gap over the real move; NaN at t = 0).
    """
    steps, ia, ib = np.intersect1d(real.steps, linear.steps, return_indices=True)
    out = {"steps": steps}
    for split in ("train", "test"):
        a = getattr(real, f"{split}_predictions")
        b = getattr(linear, f"{split}_predictions")
        if a is None or b is None:
            continue
        gap = np.sqrt(np.mean((a[ia] - b[ib]) ** 2, axis=1))
        move = np.sqrt(np.mean((a[ia] - a[0][None, :]) ** 2, axis=1))
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(move > 0, gap / move, np.nan)
        out[split] = gap
        out[f"{split}_relative"] = rel
    return out


@dataclass(frozen=True)
class KernelDrift:
    """How far the eNTK moves along a fine-tuning run.

    Attributes
    ----------
    steps : ndarray of shape (n_checks,)
    distance : ndarray of shape (n_checks,)
        :func:`kernel_distance` between K at theta_0 and at theta_t.
    relative_change : ndarray of shape (n_checks,)
        ||K_t - K_0||_F / ||K_0||_F.
    trace_ratio : ndarray of shape (n_checks,)
        tr K_t / tr K_0.
    """

    steps: np.ndarray
    distance: np.ndarray
    relative_change: np.ndarray
    trace_ratio: np.ndarray


def kernel_drift(model, result, train, *, block_size=32, callback=None):
    """How far the eNTK moves from theta_0 to the snapshots and end of a run.

    Parameters
    ----------
    model : ScalarModel
        The network the run started from (its weights are theta_0; they are put
        back after the check).
    result : FinetuneResult
        A run from theta_0; K is compared at every step in ``result.snapshots``
        and at its last step.
    train : Split or list of str
        Inputs on which the kernels are computed.
    block_size : int, default=32
    callback : callable, default=None
        ``callback(done, total)`` over the kernels.

    Returns
    -------
    KernelDrift
    """
    import torch

    from initscape.ntk._kernels import empirical_ntk

    points = dict(result.snapshots)
    points[int(result.steps[-1])] = result.final_params
    points.pop(0, None)
    total = len(points) + 1
    k0 = empirical_ntk(model, train, params=result.params, block_size=block_size)
    k0 = k0.train
    if callback is not None:
        callback(1, total)
    named = dict(model.module.named_parameters())
    saved = {k: named[k].detach().clone() for k in result.initial_params}
    out = []
    try:
        for i, step in enumerate(sorted(points)):
            with torch.no_grad():
                for k, v in points[step].items():
                    named[k].copy_(v)
            kt = empirical_ntk(
                model, train, params=result.params, block_size=block_size
            ).train
            out.append(
                (
                    step,
                    kernel_distance(k0, kt),
                    float(np.linalg.norm(kt - k0) / np.linalg.norm(k0)),
                    float(np.trace(kt) / np.trace(k0)),
                )
            )
            if callback is not None:
                callback(i + 2, total)
    finally:
        with torch.no_grad():
            for k, v in saved.items():
                named[k].copy_(v)
    arr = np.array(out, dtype=float).reshape(-1, 4)
    return KernelDrift(arr[:, 0].astype(int), arr[:, 1], arr[:, 2], arr[:, 3])
