"""The fine-tuning loop: a hand-computed gradient step, resuming, the options'
checks, and a pretrained start against a random one."""

import os
import warnings

import numpy as np
import pytest
import scipy.linalg
import torch

from initscape.exceptions import ConvergenceWarning
from initscape.ntk import finetune, tiny_model, top_eigenvalue
from tests.ntk._toy import word_task


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(2)
    return word_task(8, rng), word_task(6, rng)


def test_gd_on_the_head_is_linear_regression_by_hand(data):
    # f = w . z + b is linear in the head, so full-batch gradient descent on
    # (1/2n) ||y - Z w - b||^2 is w <- w + (alpha/n) Z^T r, b <- b + (alpha/n)
    # sum r: iterated here in numpy on the pooled features
    train, test = data
    model = tiny_model("encoder", random_state=4)
    with torch.no_grad():
        z = model.module.pooled(**model.encode(train.texts)).numpy()
        zt = model.module.pooled(**model.encode(test.texts)).numpy()
    w0 = model.module.head.weight.detach().numpy().ravel().copy()
    w = w0.copy()
    b = float(model.module.head.bias.detach())
    alpha, n, y = 0.7, len(train), train.labels
    train_pred, test_pred = [z @ w + b], [zt @ w + b]
    for _ in range(3):
        r = y - (z @ w + b)
        w, b = w + alpha / n * z.T @ r, b + alpha / n * r.sum()
        train_pred.append(z @ w + b)
        test_pred.append(zt @ w + b)
    run = finetune(model, train, test, params="head", n_steps=3, step_size=alpha)
    # float64 throughout: round-off only
    np.testing.assert_allclose(run.train_predictions, train_pred, atol=1e-12)
    np.testing.assert_allclose(run.test_predictions, test_pred, atol=1e-12)
    np.testing.assert_allclose(
        run.train_risk, np.mean((np.array(train_pred) - y) ** 2, axis=1), atol=1e-12
    )
    np.testing.assert_array_equal(run.steps, [0, 1, 2, 3])
    # the module itself is untouched: theta_0 stays for the next run
    np.testing.assert_array_equal(model.module.head.weight.detach().numpy()[0], w0)


def test_cross_entropy_risk_is_the_mean_logistic_loss(data):
    train, test = data
    model = tiny_model("encoder", random_state=4)
    run = finetune(model, train, test, n_steps=1, step_size=0.1, loss="cross-entropy")
    f0 = model(model.encode(test.texts)).numpy()
    # log(1 + e^-m) computed by numpy's logaddexp: an independent evaluation
    assert run.test_risk[0] == pytest.approx(
        np.mean(np.logaddexp(0, -test.labels * f0))
    )


def test_resumed_run_equals_uninterrupted_run(data, tmp_path):
    # minibatch SGD: the batches come from the generator, whose state is saved
    train, test = data
    model = tiny_model("encoder", random_state=4)
    kw = dict(optimizer="sgd", batch_size=3, step_size=0.2, random_state=7)
    whole = finetune(model, train, test, n_steps=5, **kw)
    path = tmp_path / "run.pt"
    first = finetune(model, train, test, n_steps=2, checkpoint=path, **kw)
    assert first.resumed_from == 0
    resumed = finetune(model, train, test, n_steps=5, checkpoint=path, **kw)
    assert resumed.resumed_from == 2
    np.testing.assert_array_equal(resumed.steps, whole.steps)
    # the same float64 operations in the same order
    np.testing.assert_allclose(resumed.test_predictions, whole.test_predictions)
    for k, v in whole.final_params.items():
        torch.testing.assert_close(resumed.final_params[k], v)
    with pytest.raises(ValueError, match="belongs to another run"):
        finetune(model, train, test, n_steps=5, checkpoint=path, step_size=0.3)


def test_options_are_checked(data):
    train, test = data
    model = tiny_model("encoder", random_state=4)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        finetune(model, train, optimizer="lbfgs")
    with pytest.raises(ValueError, match="batch_size must be None or n_train=8"):
        finetune(model, train, optimizer="gd", batch_size=4)
    with pytest.raises(TypeError, match="train must be a Split"):
        finetune(model, train.texts)
    with pytest.raises(ValueError, match="step_size must be > 0; got -1"):
        finetune(model, train, step_size=-1.0)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="torch.cuda.is_available"):
            finetune(model, train, device="cuda")
    with pytest.raises(ValueError, match="device must be one of 'cpu', 'cuda'"):
        finetune(model, train, device="tpu")
    # regression: snapshots="x" was int("x")'s own ValueError
    with pytest.raises(
        TypeError,
        match=r"snapshots must be None or an iterable of int steps; got "
        r"str 'x'",
    ):
        finetune(model, train, snapshots="x", step_size=0.1)
    with pytest.raises(
        ValueError, match=r"each step in snapshots must be >= 0; got -1"
    ):
        finetune(model, train, snapshots=[2, -1], step_size=0.1)
    with pytest.raises(
        TypeError, match=r"each step in snapshots must be an Integral; got float 1.5"
    ):
        finetune(model, train, snapshots=[1.5], step_size=0.1)
    with pytest.raises(
        TypeError,
        match=r"model must be a ScalarModel or "
        r"LinearizedModel .*; got str 'minilm'",
    ):
        finetune("minilm", train, step_size=0.1)


def test_checkpoint_path_and_contents_are_checked(data, tmp_path):
    train, _ = data
    model = tiny_model("encoder", random_state=4)
    missing = tmp_path / "no" / "such" / "ck.pt"
    # regression: torch.save's RuntimeError after the whole run
    with pytest.raises(
        ValueError,
        match=r"checkpoint must be a file in an existing "
        r"folder; got .*ck.pt', whose folder .*such' does not exist",
    ):
        finetune(model, train, n_steps=1, step_size=0.1, checkpoint=missing)
    with pytest.raises(ValueError, match=r"which exists and is not a file"):
        finetune(model, train, n_steps=1, step_size=0.1, checkpoint=tmp_path)
    # regression: an existing file that is not a checkpoint gave UnpicklingError
    table = tmp_path / "some.csv"
    table.write_text("text,label\na,b\n")
    with pytest.raises(
        ValueError,
        match=r"checkpoint must be a file written by "
        r"finetune; got .*some.csv', which cannot be read as one",
    ):
        finetune(model, train, n_steps=1, step_size=0.1, checkpoint=table)
    # a pickle of something else
    other = tmp_path / "other.pt"
    torch.save([1, 2, 3], other)
    with pytest.raises(ValueError, match=r"which holds a list without its keys"):
        finetune(model, train, n_steps=1, step_size=0.1, checkpoint=other)
    assert table.read_text() == "text,label\na,b\n"


def test_linearised_default_step_size_is_the_networks(data):
    # regression: the power iteration's vjp failed on a LinearizedModel; the eNTK of
    # f_lin at theta_0 is that of f, so both runs get alpha = 1/lambda_1
    from initscape.ntk import LinearizedModel, empirical_ntk

    train, test = data
    model = tiny_model("encoder", random_state=4)
    real = finetune(model, train, test, n_steps=2, random_state=0)
    linear = finetune(LinearizedModel(model), train, test, n_steps=2, random_state=0)
    # the same exact kernel: f_lin at theta_0 has the eNTK of f
    assert linear.step_size == pytest.approx(real.step_size, rel=1e-12)
    # and lambda_1 from scipy's eigensolver, independent of numpy's eigvalsh:
    # both exact in float64 on an 8 x 8 kernel, so 1e-10 is round-off
    top = scipy.linalg.eigh(empirical_ntk(model, train).train / len(train))[0][-1]
    assert linear.step_size == pytest.approx(1.0 / top, rel=1e-10)
    # the public power iteration still agrees: 20 iterations on a kernel whose
    # top gap is wide reach 1e-6
    assert top_eigenvalue(model, train) == pytest.approx(top, rel=1e-6)
    # the eigensolve's time is reported apart from the steps'
    assert linear.step_size_seconds > 0 and real.step_size_seconds > 0
    given = finetune(model, train, n_steps=1, step_size=0.1)
    assert given.step_size_seconds < 0.01
    assert given.summary()["step_size_seconds"] == given.step_size_seconds


def test_pretrained_start_reaches_its_best_step_sooner(data):
    # pretext: the same word-count rule on other sentences, learnt by Adam on every
    # parameter; then the attention layers of the pretrained and of a random
    # twin are fine-tuned on the task, each with alpha = 1/lambda_1 of its eNTK
    rng = np.random.default_rng(11)
    pretext, train, test = word_task(32, rng), word_task(12, rng), word_task(16, rng)
    pretrained = tiny_model("encoder", random_state=1)
    pre = finetune(
        pretrained,
        pretext,
        None,
        params="all",
        optimizer="adam",
        step_size=3e-3,
        n_steps=30,
    )
    with torch.no_grad():
        named = dict(pretrained.module.named_parameters())
        for k, v in pre.final_params.items():
            named[k].copy_(v)
    random = tiny_model("encoder", random_state=1)
    runs = [
        finetune(m, train, test, n_steps=10, random_state=0)
        for m in (pretrained, random)
    ]
    assert runs[0].test_risk[0] < runs[1].test_risk[0]
    assert runs[0].best_step < runs[1].best_step


def test_divergence_is_an_error_not_a_nan_risk(data):
    # regression: step_size=1e30 reported risks of nan and a "best" step at nan;
    # with every parameter moving, the second step's forward pass overflows
    train, test = data
    model = tiny_model("encoder", random_state=4)
    with pytest.raises(
        ValueError,
        match=r"training diverged at step \d+: the (training|held-out) risk is "
        r"(nan|inf)\. step_size=1e\+30 is too large; leave step_size unset for "
        r"1/lambda_1 of K/n",
    ):
        finetune(model, train, test, params="all", n_steps=3, step_size=1e30)
    # the same without held-out data: the training risk is checked too
    with pytest.raises(ValueError, match=r"the training risk is (nan|inf)"):
        finetune(model, train, params="all", n_steps=3, step_size=1e30)


def test_a_finite_blow_up_is_warned_about(data):
    # regression: step_size=1e4 on the attention parameters alone took the risk
    # far above its start without overflowing, and the run passed as a success
    train, test = data
    model = tiny_model("encoder", random_state=4)
    with pytest.warns(ConvergenceWarning, match=r"the training risk rose from"):
        result = finetune(model, train, test, n_steps=3, step_size=1e4)
    assert result.train_risk[-1] > result.train_risk[0]
    # the default step size descends: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        result = finetune(model, train, test, n_steps=3)
    assert result.train_risk[-1] < result.train_risk[0]


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs Linux's /proc")
def test_unwritable_checkpoint_is_refused_before_the_run(data):
    # regression: torch's "open file failed" RuntimeError traceback after the run
    train, _ = data
    model = tiny_model("encoder", random_state=4)
    calls = []
    with pytest.raises(
        ValueError,
        match=r"checkpoint must be a file that can be written; got '/proc/ck.pt', "
        r"which cannot \(",
    ):
        finetune(
            model,
            train,
            n_steps=1,
            step_size=0.1,
            checkpoint="/proc/ck.pt",
            callback=lambda done, total: calls.append(done),
        )
    assert calls == []  # no step was taken


def test_a_failed_save_names_the_checkpoint(data, tmp_path, monkeypatch):
    # a folder that becomes unwritable during the run: torch.save's RuntimeError
    train, _ = data
    model = tiny_model("encoder", random_state=4)

    def fail(*args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:747] open failed")

    monkeypatch.setattr(torch, "save", fail)
    path = tmp_path / "ck.pt"
    with pytest.raises(
        ValueError,
        match=r"checkpoint must be a file that can be written; got '.*ck.pt', which "
        r"cannot \(RuntimeError: \[enforce fail",
    ):
        finetune(model, train, n_steps=1, step_size=0.1, checkpoint=path)
    assert not path.exists()
