"""Scalar models and text tasks: parameter subsets, tied weights, offline data."""

import collections
import re

import numpy as np
import pytest
import torch

from initscape.ntk import ScalarModel, load_model, load_task, tiny_model
from initscape.ntk._models import WordTokenizer, check_device
from initscape.ntk._tasks import _bbc, _tweets

TEXTS = ["good movie here", "bad film really so", "positive", "a b c d e f"]


def test_attention_subset_counts_match_a_hand_count():
    # BERT, 2 layers of hidden size 8: query, key, value and output dense, each an
    # 8 x 8 matrix and a bias of 8 -> 2 * 4 * 72 = 576
    assert tiny_model("encoder").n_params("attention") == 576
    # Llama, 2 layers: q, k, v, o projections, 8 x 8 without bias -> 2 * 4 * 64
    assert tiny_model("causal").n_params("attention") == 512


def test_subsets_by_name():
    model = tiny_model("encoder")
    assert set(model.named_trainable("head")) == {"head.weight", "head.bias"}
    biases = model.named_trainable("biases")
    assert biases and all(name.endswith("bias") for name in biases)
    layer0 = model.named_trainable(r"layer\.0\.attention\.self\.query")
    assert set(layer0) == {
        "encoder.encoder.layer.0.attention.self.query.weight",
        "encoder.encoder.layer.0.attention.self.query.bias",
    }


def test_named_trainable_returns_detached_copies():
    model = tiny_model("encoder")
    params = model.named_trainable("attention")
    name = next(iter(params))
    params[name].add_(1.0)
    again = model.named_trainable("attention")
    assert not torch.equal(params[name], again[name])
    assert not params[name].requires_grad


def test_tied_weights_count_once():
    model = tiny_model("causal")
    lm = model.module.lm
    assert lm.lm_head.weight is lm.model.embed_tokens.weight
    # distinct tensors counted by identity, independently of named_parameters
    distinct = {
        id(p): p.numel()
        for _, p in model.module.named_parameters(remove_duplicate=False)
    }
    assert model.n_params("all") == sum(distinct.values()) == 1832
    assert list(model.named_trainable("head")) == ["lm.model.embed_tokens.weight"]


def test_forward_with_given_params_replaces_only_those():
    model = tiny_model("encoder")
    inputs = model.encode(TEXTS)
    params = model.named_trainable("head")
    assert torch.allclose(model.forward(params, inputs), model(inputs))
    zeroed = {k: torch.zeros_like(v) for k, v in params.items()}
    assert torch.equal(
        model.forward(zeroed, inputs), torch.zeros(len(TEXTS), dtype=torch.float64)
    )
    # the module's own parameters are left untouched
    assert not torch.equal(
        model.module.head.weight, torch.zeros_like(model.module.head.weight)
    )


def test_causal_scalar_is_the_difference_of_two_label_logits():
    model = tiny_model("causal")
    inputs = model.encode(TEXTS)
    with torch.no_grad():
        logits = model.module.lm(**inputs).logits
    last = inputs["attention_mask"].sum(1) - 1
    pos, neg = model.module.positive_id, model.module.negative_id
    expected = logits[torch.arange(len(TEXTS)), last][:, [pos, neg]]
    expected = expected[:, 0] - expected[:, 1]
    # the same float64 numbers through a differently ordered product
    assert torch.allclose(model(inputs), expected, rtol=1e-12, atol=1e-12)


def test_tiny_model_is_seeded():
    a = tiny_model("encoder", random_state=3).named_trainable("all")
    b = tiny_model("encoder", random_state=3).named_trainable("all")
    c = tiny_model("encoder", random_state=4).named_trainable("all")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_fit_head_matches_a_ridge_probe_fitted_by_hand():
    from sklearn.linear_model import Ridge

    model = tiny_model("encoder")
    inputs = model.encode(TEXTS)
    labels = np.array([1.0, -1.0, 1.0, -1.0])
    model.fit_head(inputs, labels, alphas=[0.5])
    with torch.no_grad():
        pooled = model.module.pooled(**inputs).numpy()
    probe = Ridge(alpha=0.5).fit(pooled, labels)
    # sklearn's own prediction vs f through the module; float64 both ways
    np.testing.assert_allclose(model(inputs).numpy(), probe.predict(pooled), atol=1e-10)


def test_errors_name_the_parameter():
    model = tiny_model("encoder")
    with pytest.raises(ValueError, match=r"params='nothing_here' selects no parameter"):
        model.named_trainable("nothing_here")
    with pytest.raises(TypeError, match=r"params must be a str"):
        model.named_trainable(3)
    with pytest.raises(ValueError, match=r"kind must be one of 'encoder', 'causal'"):
        tiny_model("decoder")
    with pytest.raises(TypeError, match=r"texts must be a list of str"):
        model.encode("one text")
    with pytest.raises(ValueError, match=r"fit_head needs an encoder model"):
        tiny_model("causal").fit_head(model.encode(TEXTS), np.ones(4))


def test_empty_params_pattern_is_refused():
    # regression: '' is a regular expression that matches every name, so it
    # selected all parameters silently
    model = tiny_model("encoder")
    with pytest.raises(
        ValueError,
        match=r"params must be .* a non-empty regular "
        r"expression; got ''",
    ):
        model.named_trainable("")


def test_max_length_must_be_at_least_one():
    model = tiny_model("encoder")
    for bad in (0, -3):
        with pytest.raises(ValueError, match=rf"max_length must be >= 1; got {bad}"):
            load_model("minilm", max_length=bad)
        with pytest.raises(ValueError, match=rf"max_length must be >= 1; got {bad}"):
            ScalarModel(model.module, model.tokenizer, name="x", max_length=bad)


@pytest.mark.parametrize("device", ["tpu", "", "cuda:x", 3])
def test_unknown_devices_are_refused_by_name(device):
    message = r"device must be one of 'cpu', 'cuda' \(or 'cuda:N' for GPU N\)"
    with pytest.raises(ValueError, match=message):
        tiny_model("encoder", device=device)
    with pytest.raises(ValueError, match=message):
        load_model("minilm", device=device)
    with pytest.raises(ValueError, match=message):
        check_device(device)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a CPU-only torch")
def test_cuda_on_a_cpu_only_torch_is_refused_before_loading():
    # regression: torch's "Torch not compiled with CUDA enabled" AssertionError
    message = r"device must be 'cpu' or an available 'cuda'; got 'cuda'.*is False"
    with pytest.raises(ValueError, match=message):
        tiny_model("encoder", device="cuda")
    with pytest.raises(ValueError, match=message):
        load_model("minilm", device="cuda")
    assert check_device("cpu") == "cpu"
    assert check_device(torch.device("cpu")) == "cpu"
    assert check_device(None, allow_none=True) is None


_EXPECTED = (
    r"name_or_path must be 'minilm', 'smollm2', a Hugging Face model folder \(with "
    r"config.json and weights\) or a readable .gguf file; got '{path}', "
)


def _bad_model_paths(root):
    garbage = root / "fake.gguf"
    garbage.write_bytes(b"GGUFgarbage")
    empty = root / "empty.gguf"
    empty.write_bytes(b"")
    other = root / "notes.gguf"
    other.write_bytes(b"hello, not a model")
    no_config = root / "no-config"
    no_config.mkdir()
    broken = root / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    listed = root / "listed"
    listed.mkdir()
    (listed / "config.json").write_text("[1, 2]")
    no_weights = root / "no-weights"
    no_weights.mkdir()
    (no_weights / "config.json").write_text(
        '{"model_type": "bert", "architectures": ["BertModel"]}'
    )
    table = root / "table.csv"
    table.write_text("text,label\na,b\n")
    # each path with the words that describe what it is
    return [
        (garbage, r"which cannot be loaded \(struct.error: "),
        (empty, r"an empty file\."),
        (other, r"a file without the GGUF header\."),
        (no_config, r"a folder without config.json\."),
        (broken, r"whose config.json cannot be read as JSON"),
        (listed, r"whose config.json holds a list, not a JSON object\."),
        (no_weights, r"which cannot be loaded \(OSError: "),
        (table, r"a file that is not a .gguf file\."),
        (root / "missing", r"which does not exist\."),
    ]


def test_load_model_says_what_a_bad_path_is(tmp_path):
    for path, what in _bad_model_paths(tmp_path):
        pattern = _EXPECTED.format(path=re.escape(str(path))) + what
        with pytest.raises(ValueError, match=pattern):
            load_model(path)


def test_word_tokenizer_pads_right_and_starts_with_2():
    batch = WordTokenizer(64)(["a b", "c"])
    assert batch["input_ids"][:, 0].tolist() == [2, 2]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["input_ids"][1, 2] == 0


# tasks ---------------------------------------------------------------------------


def test_tweets_task_is_stratified_seeded_and_labelled():
    task = load_task("tweets-sentiment", n_train=40, n_test=20, random_state=0)
    again = load_task("tweets-sentiment", n_train=40, n_test=20, random_state=0)
    other = load_task("tweets-sentiment", n_train=40, n_test=20, random_state=1)
    assert task.train.texts == again.train.texts
    assert task.train.texts != other.train.texts
    assert len(task.train) == 40 and len(task.test) == 20
    assert not set(task.train.texts) & set(task.test.texts)
    for split in (task.train, task.test):
        assert set(split.labels) == {1.0, -1.0}
        positive = [lab == "positive" for lab in split.raw_labels]
        assert np.array_equal(split.labels == 1.0, positive)
    # the corpus holds 6954 positive and 16186 negative tweets: 30.05% positive;
    # stratification keeps each split within one example of that share
    for split in (task.train, task.test):
        share = np.mean(split.labels == 1.0)
        assert abs(share - 6954 / (6954 + 16186)) <= 1 / len(split)


def test_tweets_corpus_is_read_whole_with_bad_bytes_replaced():
    texts, labels, _, _ = _tweets()
    counts = collections.Counter(labels)
    # counted with csv on the raw file: 6954 positive, 16186 negative, 15018 neutral
    assert counts == {"positive": 6954, "negative": 16186}
    assert any("\ufffd" in t for t in texts)


def test_bbc_sport_politics_reads_files_in_sorted_order():
    texts, labels, _, _ = _bbc()
    # 511 sport and 417 politics files in the package
    assert collections.Counter(labels) == {"sport": 511, "politics": 417}
    assert texts[0].startswith("Claxton hunting first major medal")
    task = load_task("bbc-sport-politics", n_train=10, n_test=10, random_state=0)
    assert set(task.train.raw_labels) == {"sport", "politics"}


def test_user_csv(tmp_path):
    path = tmp_path / "mine.csv"
    rows = ["text,label"] + [
        f"text number {i},{'spam' if i % 2 else 'ham'}" for i in range(20)
    ]
    path.write_text("\n".join(rows) + "\n")
    task = load_task(path, n_train=10, n_test=6, random_state=0)
    # sorted labels: 'spam' last, mapped to +1
    assert (task.positive, task.negative) == ("spam", "ham")
    for split in (task.train, task.test):
        spam = [lab == "spam" for lab in split.raw_labels]
        assert np.array_equal(split.labels == 1.0, spam)


@pytest.mark.parametrize(
    ("positive", "negative"),
    [
        ("1", "0"),
        ("1", "-1"),
        ("10", "9"),  # as text "10" < "9": the numeric order must win
        ("0.5", "-2e3"),
        ("positive", "negative"),
        ("pos", "neg"),
        ("true", "false"),
        ("sport", "politics"),
        ("Positive", "negative"),  # case is ignored: ASCII puts "P" before "n"
    ],
)
def test_user_csv_maps_the_label_that_sorts_last_to_plus_one(
    tmp_path, positive, negative
):
    # regression: the label sorting first used to become +1, which inverts a
    # causal model's f = z(" positive") - z(" negative")
    path = tmp_path / "pair.csv"
    rows = ["text,label"] + [
        f"text number {i},{positive if i % 2 else negative}" for i in range(12)
    ]
    path.write_text("\n".join(rows) + "\n")
    task = load_task(path, n_train=6, n_test=4, random_state=0)
    assert (task.positive, task.negative) == (positive, negative)
    for split in (task.train, task.test):
        expected = [1.0 if lab == positive else -1.0 for lab in split.raw_labels]
        assert split.labels.tolist() == expected


def _ham_spam_csv(path, n):
    rows = ["text,label"] + [
        f"text number {i},{'spam' if i % 2 else 'ham'}" for i in range(n)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_probe_split_is_disjoint_seeded_and_stratified(tmp_path):
    path = _ham_spam_csv(tmp_path / "mine.csv", 60)
    task = load_task(path, n_train=20, n_test=12, n_probe=10, random_state=0)
    again = load_task(path, n_train=20, n_test=12, n_probe=10, random_state=0)
    other = load_task(path, n_train=20, n_test=12, n_probe=10, random_state=1)
    assert (len(task.train), len(task.test), len(task.probe)) == (20, 12, 10)
    train, test, probe = (set(s.texts) for s in (task.train, task.test, task.probe))
    assert not train & test and not train & probe and not test & probe
    assert task.train.texts == again.train.texts
    assert task.test.texts == again.test.texts
    assert task.probe.texts == again.probe.texts
    assert task.probe.texts != other.probe.texts
    # 30 ham and 30 spam: a stratified split of 10 holds 5 of each
    assert sorted(task.probe.raw_labels) == ["ham"] * 5 + ["spam"] * 5
    spam = [lab == "spam" for lab in task.probe.raw_labels]
    assert np.array_equal(task.probe.labels == 1.0, spam)
    assert task.head_split is task.probe


def test_no_probe_split_means_the_head_is_fitted_on_train(tmp_path):
    path = _ham_spam_csv(tmp_path / "mine.csv", 20)
    task = load_task(path, n_train=10, n_test=6, random_state=0)
    assert task.probe is None
    assert task.head_split is task.train
    with pytest.raises(ValueError, match=r"n_probe must be 0 or at least 2; got 1"):
        load_task(path, n_train=10, n_test=6, n_probe=1)
    with pytest.raises(ValueError, match=r"n_probe must be >= 0; got -3"):
        load_task(path, n_train=10, n_test=6, n_probe=-3)


def test_tweets_probe_split_is_disjoint_from_train_and_test():
    task = load_task(
        "tweets-sentiment", n_train=24, n_test=16, n_probe=12, random_state=3
    )
    train, test, probe = (set(s.texts) for s in (task.train, task.test, task.probe))
    assert len(probe) == 12 and not probe & (train | test)
    assert set(task.probe.labels) == {1.0, -1.0}


def test_fit_probe_fits_the_head_on_the_probe_split_only(tmp_path):
    from sklearn.linear_model import RidgeCV

    from initscape.ntk import empirical_ntk

    path = _ham_spam_csv(tmp_path / "mine.csv", 40)
    task = load_task(path, n_train=12, n_test=6, n_probe=14, random_state=0)
    model = tiny_model("encoder", random_state=0)
    model.module.head.weight.data.zero_()
    model.head_fitted = False
    # empirical_ntk fits the unfitted head on probe=..., not on train
    empirical_ntk(model, task.train, probe=task.probe, params="head")
    with torch.no_grad():
        pooled = model.module.pooled(**model.encode(task.probe.texts)).numpy()
    by_hand = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(pooled, task.probe.labels)
    # the same float64 ridge solution, computed twice by sklearn
    np.testing.assert_allclose(
        model.module.head.weight.detach().numpy().ravel(), by_hand.coef_, atol=1e-10
    )
    # fit_probe(task.head_split) does the same without a kernel
    twin = tiny_model("encoder", random_state=0).fit_probe(task.head_split)
    np.testing.assert_allclose(
        twin.module.head.weight.detach().numpy().ravel(), by_hand.coef_, atol=1e-10
    )
    # a causal model has no head: fit_probe leaves it unchanged
    causal = tiny_model("causal")
    before = {k: v.clone() for k, v in causal.named_trainable("all").items()}
    causal.fit_probe(task.probe)
    after = causal.named_trainable("all")
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_task_errors(tmp_path):
    with pytest.raises(
        ValueError, match=r"n_train \+ n_test \+ n_probe must be at most 928"
    ):
        load_task("bbc-sport-politics", n_train=900, n_test=20, n_probe=10)
    with pytest.raises(ValueError, match=r"n_train must be >= 2; got 1"):
        load_task("tweets-sentiment", n_train=1, n_test=10)
    with pytest.raises(ValueError, match=r"name_or_csv must be one of"):
        load_task("imdb", n_train=10, n_test=10)
    three = tmp_path / "three.csv"
    three.write_text("text,label\na,x\nb,y\nc,z\n")
    with pytest.raises(ValueError, match=r"exactly 2 distinct labels; got 3"):
        load_task(three, n_train=2, n_test=2)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("sentence,y\na,x\n")
    with pytest.raises(ValueError, match=r"must have columns 'text' and 'label'"):
        load_task(wrong, n_train=2, n_test=2)
