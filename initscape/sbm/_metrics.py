"""Permutation-aware comparison of two labellings of the same nodes."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

__all__ = ["agreement"]


def agreement(labels_a, labels_b):
    """Agreement of two labellings, blind to how their labels are named.

    Parameters
    ----------
    labels_a, labels_b : array-like of shape (n_nodes,)
        Labels of the same nodes (any hashable values; their names do not matter).

    Returns
    -------
    dict
        ``"ari"``: adjusted Rand index (Hubert and Arabie 1985), 1 for identical
        partitions, about 0 for independent ones; ``"nmi"``: normalised mutual
        information (arithmetic mean normalisation, scikit-learn's default), in
        [0, 1]; ``"overlap"``: the largest fraction of nodes with equal labels over
        all one-to-one matchings of the labels of ``labels_a`` with those of
        ``labels_b``, found by the Hungarian algorithm on the contingency table.

    Examples
    --------
    >>> agreement([0, 0, 1, 1], [1, 1, 0, 0])["overlap"]
    1.0
    """
    # Validate
    a, b = np.asarray(labels_a), np.asarray(labels_b)
    for name, labels in (("labels_a", a), ("labels_b", b)):
        if labels.ndim != 1:
            raise ValueError(
                f"{name} must be a 1-d array of one label per node; got an array "
                f"of shape {labels.shape}."
            )
        if labels.dtype.kind in "fc" and not np.isfinite(labels).all():
            where = int(np.flatnonzero(~np.isfinite(labels))[0])
            raise ValueError(
                f"{name} must hold a label for every node; got {labels[where]} at "
                f"node {where}."
            )
    if a.shape != b.shape:
        raise ValueError(
            "labels_a and labels_b must have the same length; got "
            f"{a.size} and {b.size}."
        )
    if a.size == 0:
        raise ValueError("labels_a must label at least one node; got 0 labels.")

    # Contingency table and the best matching of labels
    inverse = []
    for name, labels in (("labels_a", a), ("labels_b", b)):
        try:
            inverse.append(np.unique(labels, return_inverse=True)[1].reshape(-1))
        except TypeError:
            kinds = sorted({type(v).__name__ for v in labels.tolist()})
            raise TypeError(
                f"{name} must hold labels of one kind (all numbers or all "
                f"strings); got a mix of {', '.join(kinds)}."
            ) from None
    ia, ib = inverse
    table = np.zeros((ia.max() + 1, ib.max() + 1))
    np.add.at(table, (ia, ib), 1)
    rows, cols = linear_sum_assignment(table, maximize=True)

    return {
        "ari": float(adjusted_rand_score(a, b)),
        "nmi": float(normalized_mutual_info_score(a, b)),
        "overlap": float(table[rows, cols].sum() / a.size),
    }
