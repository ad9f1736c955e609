"""Argument checks and random-state handling shared by the whole package.

Every check raises ``ValueError`` (or ``TypeError``) with a message that names the
parameter, what was expected and what was received.
"""

from __future__ import annotations

import numbers

import numpy as np


def check_random_state(random_state) -> np.random.Generator:
    """Normalise ``random_state`` to a ``numpy.random.Generator``.

    Parameters
    ----------
    random_state : int, numpy.random.Generator or None
        ``None`` draws fresh entropy from the operating system; an int seeds a new
        generator; a generator is returned unchanged, so callers share its stream.

    Returns
    -------
    numpy.random.Generator
    """
    if random_state is None or isinstance(random_state, numbers.Integral):
        if random_state is not None and random_state < 0:
            raise ValueError(
                f"random_state must be a non-negative int, a numpy Generator or "
                f"None; got {random_state!r}."
            )
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    raise TypeError(
        "random_state must be an int, a numpy.random.Generator or None; got "
        f"{type(random_state).__name__} {random_state!r}."
    )


def torch_generator(rng: np.random.Generator, device="cpu"):
    """A ``torch.Generator`` seeded from ``rng``, so torch draws follow the seed."""
    import torch

    gen = torch.Generator(device=device)
    gen.manual_seed(int(rng.integers(0, 2**63 - 1)))
    return gen


def check_scalar(
    value,
    name: str,
    kind=numbers.Real,
    *,
    low=None,
    high=None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
):
    """Check that ``value`` is a finite scalar of type ``kind`` within bounds.

    Returns the value (as a Python ``int`` or ``float``).
    """
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) or not isinstance(value, kinds):
        expected = " or ".join(k.__name__ for k in kinds)
        raise TypeError(
            f"{name} must be {_article(expected)} {expected}; got "
            f"{type(value).__name__} {value!r}."
        )
    if isinstance(value, numbers.Real) and not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}.")
    if low is not None:
        bad = value < low if low_inclusive else value <= low
        if bad:
            op = ">=" if low_inclusive else ">"
            raise ValueError(f"{name} must be {op} {low}; got {value!r}.")
    if high is not None:
        bad = value > high if high_inclusive else value >= high
        if bad:
            op = "<=" if high_inclusive else "<"
            raise ValueError(f"{name} must be {op} {high}; got {value!r}.")
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def check_candidates(candidates, n_nodes: int | None = None) -> list:
    """The candidate numbers of blocks as a non-empty list of ints in [1, n_nodes]."""
    if isinstance(candidates, (str, bytes, numbers.Number)) or not hasattr(
        candidates, "__iter__"
    ):
        raise TypeError(
            "candidates must be a non-empty list of positive ints, such as "
            f"range(1, 7); got {type(candidates).__name__} {candidates!r}."
        )
    candidates = list(candidates)
    if not candidates or not all(
        isinstance(k, numbers.Integral) and not isinstance(k, bool) and k >= 1
        for k in candidates
    ):
        raise ValueError(
            f"candidates must be a non-empty list of positive ints; got {candidates!r}."
        )
    if n_nodes is not None and max(candidates) > n_nodes:
        raise ValueError(
            f"candidates must be at most the number of nodes ({n_nodes}); got "
            f"{max(candidates)} in candidates={candidates!r}."
        )
    return candidates


def check_option(value, name: str, options):
    """Check that ``value`` is one of ``options`` (strings)."""
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}.")
    return value


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"
