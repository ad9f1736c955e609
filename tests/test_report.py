"""Tests of initscape.report: every claim and figure lands in the page."""

import html
import json
import math
from html.parser import HTMLParser

import numpy as np
import pytest

from initscape.report import Claim, Section, format_value, read_numbers, write_report


class _Collector(HTMLParser):
    """Collect text, img sources and script/link tags of a page."""

    def __init__(self):
        super().__init__()
        self.text = []
        self.images = []
        self.external = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "script" or (tag == "link" and "href" in attrs):
            self.external.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def _png(path):
    # the 8-byte PNG signature is enough for a file the page only links to
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    return path


def test_page_holds_every_claim_figure_and_numbers_round_trip(tmp_path):
    (tmp_path / "out").mkdir()
    inside = _png(tmp_path / "out" / "fig_a.png")
    outside = _png(tmp_path / "elsewhere.png")
    claims = [
        Claim("fraction reaching <truth>", 0.9731, 0.95, agrees=True, error=0.0051),
        Claim("d* bracket", 0.0412, 0.0400, unit="", agrees=False, note="within 20%"),
        Claim("words only", "collapse", None),
    ]
    sections = [
        Section(
            "Known parameters",
            "First paragraph.\n\nSecond & last.",
            claims[:2],
            [inside, outside],
            ["phase portrait"],
        ),
        Section("Estimated", "", claims[2:]),
    ]
    numbers = {
        "fractions": {"truth": np.float64(0.9731), "counts": np.arange(3)},
        "n": np.int64(1000),
        "bad": float("nan"),
        "nested": [{"a": 1.5}, (2, 3)],
    }
    index = write_report(
        tmp_path / "out", "SBM <landscape>", "Intro.", sections, numbers
    )

    page = index.read_text()
    parser = _Collector()
    parser.feed(page)
    text = "".join(parser.text)
    # every claim's statement and both numbers appear, escaped correctly
    for claim in claims:
        assert claim.statement in text
        assert format_value(claim.measured, claim.error, claim.unit) in text
    assert "0.9731 ± 0.0051" in text
    assert "Second & last." in text and "&amp;" in page
    assert "<truth>" not in page  # escaped, not parsed as a tag
    # both figures are referenced by relative paths that exist
    assert parser.images == ["fig_a.png", "figures/elsewhere.png"]
    for src in parser.images:
        assert (tmp_path / "out" / src).is_file()
    # standalone: no script, no external stylesheet
    assert parser.external == []
    # numbers.json round-trips (numpy converted, NaN as null)
    back = read_numbers(tmp_path / "out")
    assert back == {
        "fractions": {"truth": 0.9731, "counts": [0, 1, 2]},
        "n": 1000,
        "bad": None,
        "nested": [{"a": 1.5}, [2, 3]],
    }
    assert json.loads((tmp_path / "out" / "numbers.json").read_text()) == back
    assert html.unescape("SBM &lt;landscape&gt;") in text


def test_format_value():
    assert format_value(0.123456) == "0.1235"
    assert format_value(3) == "3"
    assert format_value(True) == "yes"
    assert format_value(None) == "—"
    assert format_value(math.inf) == "inf"
    assert format_value(0.5, 0.01, "s") == "0.5 ± 0.01 s"


def test_bad_input(tmp_path):
    with pytest.raises(TypeError, match="numbers must be a dict; got list"):
        write_report(tmp_path, "t", "i", [], [1, 2])
    with pytest.raises(TypeError, match=r"sections\[0\] must be a Section; got str"):
        write_report(tmp_path, "t", "i", ["oops"], {})
    with pytest.raises(ValueError, match="figures must be existing files; got"):
        write_report(tmp_path, "t", "i", [Section("s", figures=["nope.png"])], {})
