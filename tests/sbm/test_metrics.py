"""agreement: permutation-aware comparison, checked against brute force."""

import itertools

import numpy as np
import pytest

from initscape.sbm._metrics import agreement


def _best_overlap(a, b, k):
    """Largest match fraction over all k! relabellings of b (brute force)."""
    best = 0.0
    for perm in itertools.permutations(range(k)):
        best = max(best, np.mean(a == np.array(perm)[b]))
    return best


@pytest.mark.parametrize("seed", range(5))
def test_overlap_is_the_best_permutation(seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, size=50)
    b = np.where(rng.uniform(size=50) < 0.7, (a + 1) % 4, rng.integers(0, 4, 50))
    assert agreement(a, b)["overlap"] == pytest.approx(_best_overlap(a, b, 4))


def test_relabelled_partitions_agree_fully():
    result = agreement([0, 0, 1, 1, 2], ["b", "b", "a", "a", "c"])
    assert result == {"ari": 1.0, "nmi": 1.0, "overlap": 1.0}


def test_hand_example():
    # a = {0,1,2},{3,4,5}; b moves node 2: best matching keeps 5 of 6 nodes.
    # ARI by hand: pairs together in both: C(2,2) + C(1,1)... contingency
    # [[2, 1], [0, 3]]: sum C(n_ij, 2) = 1 + 3 = 4; rows C(3,2) * 2 = 6;
    # columns C(2,2) + C(4,2) = 7; expected 6 * 7 / 15 = 2.8;
    # ARI = (4 - 2.8) / ((6 + 7) / 2 - 2.8) = 1.2 / 3.7
    result = agreement([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 1])
    assert result["overlap"] == pytest.approx(5 / 6)
    assert result["ari"] == pytest.approx(1.2 / 3.7)


def test_unequal_numbers_of_labels():
    # 3 labels against 2: only 2 labels can be matched; best is 0-0 and 2-1
    assert agreement([0, 1, 2, 2], [0, 1, 1, 1])["overlap"] == pytest.approx(0.75)
    assert agreement([0, 1, 2, 0], [0, 0, 0, 0])["overlap"] == pytest.approx(0.5)


def test_errors():
    with pytest.raises(ValueError, match="same length; got 3 and 2"):
        agreement([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="at least one node"):
        agreement([], [])
    with pytest.raises(
        ValueError,
        match=r"labels_b must be a 1-d array .* got an array of shape"
        r" \(2, 2\)",
    ):
        agreement([0, 1, 1, 0], [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match=r"labels_a must be a 1-d .* shape \(\)"):
        agreement(0, [0])


def test_missing_labels_are_named():
    with pytest.raises(
        ValueError, match="labels_b must hold a label for every node; got nan at node 1"
    ):
        agreement([0, 1, 1], [0.0, np.nan, 1.0])


def test_labels_of_mixed_kinds_are_named():
    with pytest.raises(
        TypeError,
        match="labels_a must hold labels of one kind .*; got a mix of NoneType, str",
    ):
        agreement(["a", None, "b"], ["a", "b", "b"])
