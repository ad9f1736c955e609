"""The linearised model against finite differences, the real network and the
closed-form kernel trajectory, on a tiny float64 transformer."""

import subprocess
import sys
import types

import numpy as np
import pytest
import torch

from initscape.ntk import (
    LinearizedModel,
    empirical_ntk,
    finetune,
    kernel_distance,
    kernel_drift,
    kernel_gradient_descent,
    prediction_distance,
    tiny_model,
)
from tests.ntk._toy import word_task


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(0)
    model = tiny_model("encoder", random_state=3)
    return model, word_task(6, rng), word_task(5, rng)


def _direction(theta, seed):
    gen = torch.Generator().manual_seed(seed)
    d = {
        k: torch.randn(v.shape, generator=gen, dtype=v.dtype) for k, v in theta.items()
    }
    norm = torch.sqrt(sum((v**2).sum() for v in d.values()))
    return {k: v / norm for k, v in d.items()}


def test_linear_term_is_the_directional_derivative(setup):
    # f_lin(theta_0 + eps d) - f(theta_0) against a central finite difference of
    # the real network, an independent derivative
    model, train, _ = setup
    lin = LinearizedModel(model)
    inputs = model.encode(train.texts)
    theta0 = lin.named_trainable()
    d = _direction(theta0, 1)
    h = 1e-5
    plus = model.forward({k: v + h * d[k] for k, v in theta0.items()}, inputs)
    minus = model.forward({k: v - h * d[k] for k, v in theta0.items()}, inputs)
    fd = ((plus - minus) / (2 * h)).detach().numpy()
    with torch.no_grad():
        f0 = model.forward(theta0, inputs).numpy()
        moved = lin.forward({k: v + d[k] for k, v in theta0.items()}, inputs).numpy()
    # central differences err by O(h^2) ~ 1e-10 times third derivatives
    np.testing.assert_allclose(moved - f0, fd, rtol=1e-6, atol=1e-8)


def test_real_and_linearised_agree_to_second_order(setup):
    # |f(theta_0 + eps d) - f_lin(theta_0 + eps d)| = c eps^2 + O(eps^3): halving
    # eps divides the gap by 4
    model, train, _ = setup
    lin = LinearizedModel(model)
    inputs = model.encode(train.texts)
    theta0 = lin.named_trainable()
    d = _direction(theta0, 2)
    gaps = []
    with torch.no_grad():
        for eps in (1e-2, 5e-3, 2.5e-3):
            theta = {k: v + eps * d[k] for k, v in theta0.items()}
            real = model.forward(theta, inputs).numpy()
            linear = lin.forward(theta, inputs).numpy()
            gaps.append(np.max(np.abs(real - linear)))
    ratios = np.array(gaps[:-1]) / np.array(gaps[1:])
    # the O(eps^3) term moves the ratio off 4 by a few per cent at these eps
    np.testing.assert_allclose(ratios, 4.0, rtol=0.1)


def test_gradient_of_linearised_model_at_theta0_is_the_networks(setup):
    # at theta = theta_0, grad f_lin = grad f: the vjp backward against autograd
    model, train, _ = setup
    lin = LinearizedModel(model)
    inputs = model.encode(train.texts)
    weights = torch.linspace(-1.0, 1.0, len(train), dtype=torch.float64)
    leaves = {k: v.requires_grad_(True) for k, v in lin.named_trainable().items()}
    (weights * lin.forward(leaves, inputs)).sum().backward()
    real = {k: v.clone().requires_grad_(True) for k, v in lin.theta0.items()}
    (weights * model.forward(real, inputs)).sum().backward()
    for k in leaves:
        # both are one reverse pass through the same graph, in float64
        np.testing.assert_allclose(leaves[k].grad, real[k].grad, atol=1e-12)


def test_traced_and_plain_linearisations_agree(setup):
    # the first call on a batch takes a plain jvp; the second and later a traced
    # torch.func.linearize: the two must agree (a trace made inside an
    # autograd.Function once came out as a zero map)
    model, train, _ = setup
    lin = LinearizedModel(model, trace_after=2)
    inputs = model.encode(train.texts)
    theta0 = lin.named_trainable()
    d = _direction(theta0, 4)
    theta = {k: v + 0.1 * d[k] for k, v in theta0.items()}
    with torch.no_grad():
        outs = [lin.forward(theta, inputs).numpy() for _ in range(3)]
        f0 = model.forward(theta0, inputs).numpy()
    assert np.max(np.abs(outs[0] - f0)) > 1e-3
    # the same float64 products in another order
    np.testing.assert_allclose(outs[2], outs[0], atol=1e-12)
    np.testing.assert_allclose(outs[1], outs[0], atol=1e-12)


def test_closed_form_kernel_trajectory_equals_gd_on_linearised_model(setup):
    # gradient descent on f_lin through the fine-tuning loop (jvp and vjp) against
    # the eigenbasis closed form of the eNTK engine
    model, train, test = setup
    kernel = empirical_ntk(model, train, test, params="attention")
    lam1 = np.linalg.eigvalsh(kernel.train / len(train)).max()
    alpha = 0.8 / lam1
    run = finetune(LinearizedModel(model), train, test, n_steps=6, step_size=alpha)
    path = kernel_gradient_descent(kernel, np.arange(7), step_size=alpha)
    # float64 throughout; the two routes differ by round-off only
    np.testing.assert_allclose(run.train_predictions, path.train_predictions, atol=1e-9)
    np.testing.assert_allclose(run.test_predictions, path.test_predictions, atol=1e-9)
    np.testing.assert_allclose(run.test_risk, path.test_risk, atol=1e-9)


def test_kernel_distance_by_hand():
    k = np.array([[2.0, 1.0], [1.0, 2.0]])
    assert kernel_distance(k, 3.0 * k) == pytest.approx(0.0, abs=1e-15)
    # <I, [[0,1],[1,0]]>_F = 0: orthogonal kernels are at distance 1
    assert kernel_distance(np.eye(2), np.array([[0.0, 1.0], [1.0, 0.0]])) == 1.0
    # <K, I> = 4, |K| = sqrt(10), |I| = sqrt(2): 1 - 4 / sqrt(20)
    assert kernel_distance(k, np.eye(2)) == pytest.approx(1 - 4 / np.sqrt(20))
    with pytest.raises(ValueError, match="same shape"):
        kernel_distance(k, np.eye(3))


def test_prediction_distance_by_hand():
    real = types.SimpleNamespace(
        steps=np.array([0, 1, 2]),
        train_predictions=np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]),
        test_predictions=None,
    )
    linear = types.SimpleNamespace(
        steps=np.array([0, 2]),
        train_predictions=np.array([[0.0, 0.0], [2.0, 1.0]]),
        test_predictions=None,
    )
    out = prediction_distance(real, linear)
    np.testing.assert_array_equal(out["steps"], [0, 2])
    # step 2: gaps (0, 1) -> RMS sqrt(1/2); real move (2, 2) -> RMS 2
    np.testing.assert_allclose(out["train"], [0.0, np.sqrt(0.5)])
    np.testing.assert_allclose(out["train_relative"][1], np.sqrt(0.5) / 2)


def test_kernel_drift_grows_with_the_move_and_restores_weights(setup):
    model, train, test = setup
    before = {k: v.clone() for k, v in model.module.state_dict().items()}
    run = finetune(model, train, None, n_steps=4, step_size=0.5, snapshots=[1])
    drift = kernel_drift(model, run, train)
    np.testing.assert_array_equal(drift.steps, [1, 4])
    assert 0 < drift.distance[0] < drift.distance[1] < 1
    after = model.module.state_dict()
    for k, v in before.items():
        assert torch.equal(v, after[k])


def test_linearized_model_refuses_another_subset(setup):
    model, _, _ = setup
    with pytest.raises(ValueError, match="params must be 'attention'"):
        LinearizedModel(model).named_trainable("all")


def test_jvp_does_not_show_torchs_jit_script_deprecation():
    # the first torch.func.jvp of a process imports torch's jvp decompositions,
    # which warn "`torch.jit.script` is deprecated" a dozen times; pytest filters
    # that warning, so a fresh interpreter with every warning shown is the check
    code = (
        "import numpy as np\n"
        "from initscape.ntk import LinearizedModel, finetune, ntk_matvec, tiny_model\n"
        "from tests.ntk._toy import word_task\n"
        "model = tiny_model('encoder')\n"
        "train = word_task(4, np.random.default_rng(0))\n"
        "ntk_matvec(model, train, np.ones(4))\n"
        "finetune(LinearizedModel(model), train, n_steps=1, step_size=0.1)\n"
        "print('done')\n"
    )
    run = subprocess.run(
        [sys.executable, "-W", "always", "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "done"
    assert "torch.jit.script" not in run.stderr
