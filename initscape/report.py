"""Standalone HTML reports that set each measured number beside its prediction.

A report is a title, an introduction and a list of :class:`Section`; each section
holds prose, :class:`Claim` rows (a statement, the measured value, the predicted
value and whether they agree) and figures. :func:`write_report` writes
``index.html`` (one self-contained page: inline CSS, no JavaScript, no CDN; figures
referenced by relative path) and ``numbers.json`` (every number of the run, so the
claims can be checked by a program). Used by ``initscape reproduce sbm`` and
``initscape reproduce ntk`` so that both reports read the same way.
"""

from __future__ import annotations

import datetime
import html
import json
import logging
import math
import numbers
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Claim", "Section", "read_numbers", "write_report"]

logger = logging.getLogger(__name__)

_CSS = """
body { font-family: sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left;
         vertical-align: top; }
th { background: #f2f2f2; }
td.num { font-family: monospace; white-space: nowrap; }
.yes { color: #176117; font-weight: bold; } .no { color: #a11; font-weight: bold; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #555; }
footer { margin-top: 3em; font-size: 0.8em; color: #777; }
"""


@dataclass
class Claim:
    """One claim of a paper, measured and predicted.

    Parameters
    ----------
    statement : str
        The claim in words, e.g. ``"fraction of random starts reaching the truth"``.
    measured : float, int, str or None
        What the run measured.
    predicted : float, int, str or None
        What theory (or the paper) predicts; ``None`` when there is no number.
    unit : str, default=""
        Unit written after both numbers.
    agrees : bool or None, default=None
        Whether measurement and prediction agree by the criterion given in ``note``;
        ``None`` leaves the column blank.
    note : str, default=""
        The criterion used, or any remark.
    error : float or None, default=None
        A standard error of ``measured``, shown as ``measured ± error``.
    """

    statement: str
    measured: object
    predicted: object = None
    unit: str = ""
    agrees: bool | None = None
    note: str = ""
    error: float | None = None


@dataclass
class Section:
    """A titled part of a report: prose, then claims, then figures.

    Parameters
    ----------
    title : str
    text : str, default=""
        Prose; blank lines separate paragraphs. Plain text (it is escaped).
    claims : list of Claim, default=[]
    figures : list of pathlib.Path, default=[]
        Image files (PNG or SVG). Files outside the report folder are copied into
        its ``figures/`` subfolder.
    captions : list of str, default=[]
        Optional captions, one per figure (missing ones default to the file name).
    """

    title: str
    text: str = ""
    claims: list = field(default_factory=list)
    figures: list = field(default_factory=list)
    captions: list = field(default_factory=list)


def format_value(value, error=None, unit: str = "") -> str:
    """Format a number for a report: 4 significant digits, ``± error`` if given."""
    if value is None:
        text = "—"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, numbers.Integral):
        text = str(int(value))
    elif isinstance(value, numbers.Real):
        text = f"{float(value):.4g}"
    else:
        text = str(value)
    if error is not None and value is not None:
        text += f" ± {float(error):.2g}"
    if unit and value is not None:
        text += f" {unit}"
    return text


def _jsonable(value):
    # numpy scalars and arrays, paths, dataclasses-as-dicts; NaN and inf become None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _claim_row(claim: Claim) -> str:
    measured = format_value(claim.measured, claim.error, claim.unit)
    predicted = format_value(claim.predicted, None, claim.unit)
    verdict = ""
    if claim.agrees is not None:
        word = "yes" if claim.agrees else "no"
        verdict = f'<span class="{word}">{word}</span>'
    return (
        f"<tr><td>{html.escape(claim.statement)}</td>"
        f'<td class="num">{html.escape(measured)}</td>'
        f'<td class="num">{html.escape(predicted)}</td>'
        f"<td>{verdict}</td><td>{html.escape(claim.note)}</td></tr>"
    )


def _place_figure(figure, out_dir: Path) -> str:
    # return the path of the figure relative to out_dir, copying it in if needed
    figure = Path(figure)
    if not figure.is_file():
        raise ValueError(f"figures must be existing files; got {str(figure)!r}.")
    resolved = figure.resolve()
    try:
        return resolved.relative_to(out_dir.resolve()).as_posix()
    except ValueError:
        target = out_dir / "figures" / figure.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(figure, target)
        return target.relative_to(out_dir).as_posix()


def _paragraphs(text: str) -> str:
    blocks = [b.strip() for b in text.split("\n\n") if b.strip()]
    return "\n".join(f"<p>{html.escape(b)}</p>" for b in blocks)


def write_report(out_dir, title: str, intro: str, sections, numbers) -> Path:
    """Write ``index.html`` and ``numbers.json`` into ``out_dir``.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder of the report; created if missing.
    title : str
        Page title.
    intro : str
        Plain-text introduction (blank lines separate paragraphs).
    sections : list of Section
    numbers : dict
        Every number of the run (nested dicts and lists of numbers, strings,
        numpy arrays); written to ``numbers.json``. NaN and infinities become
        ``null``.

    Returns
    -------
    pathlib.Path
        The path of ``index.html``.
    """
    out_dir = Path(out_dir)
    if not isinstance(numbers, dict):
        raise TypeError(f"numbers must be a dict; got {type(numbers).__name__}.")
    for i, section in enumerate(sections):
        if not isinstance(section, Section):
            raise TypeError(
                f"sections[{i}] must be a Section; got {type(section).__name__}."
            )
    out_dir.mkdir(parents=True, exist_ok=True)

    # numbers first, so the page can point at them
    numbers_path = out_dir / "numbers.json"
    numbers_path.write_text(json.dumps(_jsonable(numbers), indent=2, sort_keys=True))

    # the page: title, intro, then each section's prose, claims and figures
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        _paragraphs(intro),
    ]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        parts.append(_paragraphs(section.text))
        if section.claims:
            parts.append(
                "<table><tr><th>claim</th><th>measured</th><th>predicted</th>"
                "<th>agrees</th><th>criterion / note</th></tr>"
            )
            parts.extend(_claim_row(c) for c in section.claims)
            parts.append("</table>")
        for k, figure in enumerate(section.figures):
            rel = _place_figure(figure, out_dir)
            caption = (
                section.captions[k] if k < len(section.captions) else Path(rel).name
            )
            parts.append(
                f'<figure><img src="{html.escape(rel)}" alt="{html.escape(caption)}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts.append(
        f'<footer>All numbers: <a href="numbers.json">numbers.json</a>. '
        f"Written {stamp} by initscape.</footer></body></html>"
    )
    index = out_dir / "index.html"
    index.write_text("\n".join(parts), encoding="utf-8")
    logger.info("wrote report %s", index)
    return index


def read_numbers(out_dir) -> dict:
    """Read back the ``numbers.json`` written by :func:`write_report`."""
    return json.loads((Path(out_dir) / "numbers.json").read_text())
