"""Printing helpers shared by the command modules: progress bars and JSON."""

from __future__ import annotations

import contextlib
import json
import math

import click
import numpy as np
from tqdm.auto import tqdm


@contextlib.contextmanager
def progress_bar(description: str, total: int | None = None, enabled: bool = True):
    """Yield a ``callback(done, total)`` that draws a tqdm bar on stderr.

    Library functions take such a callback and call it as work advances; they never
    draw anything themselves.
    """
    bar = tqdm(total=total, desc=description, disable=not enabled, leave=False)

    def callback(done: int, total: int | None = None) -> None:
        if total is not None and bar.total != total:
            bar.total = total
            bar.refresh()
        # update() redraws at most every mininterval seconds, so a fast loop does
        # not flood a log file when stderr is not a terminal.
        bar.update(done - bar.n)

    try:
        yield callback
    finally:
        bar.refresh()  # the final count, whatever mininterval skipped
        bar.close()


def output_folder(path, param_hint: str = "--out"):
    """Create the folder ``path`` (and its parents) or fail with a usage error."""
    from pathlib import Path

    if not str(path):
        raise click.BadParameter(
            "must be a folder path; got ''.", param_hint=param_hint
        )
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise click.BadParameter(
            f"cannot create the folder {str(path)!r}: {err.strerror}.",
            param_hint=param_hint,
        ) from None
    return path


def to_jsonable(value):
    """Convert numpy scalars and arrays (nested in dicts and lists) for ``json``."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def echo_json(payload) -> None:
    """Print ``payload`` as one JSON object on stdout."""
    click.echo(json.dumps(to_jsonable(payload), indent=2))
