"""User CSV tasks: encodings, duplicate columns and classes too small to split."""

import pytest

from initscape.ntk import load_task


def _rows(n=12):
    return [f"text number {i},{'spam' if i % 2 else 'ham'}" for i in range(n)]


def test_utf8_csv_with_a_byte_order_mark_is_read(tmp_path):
    # regression: Excel's BOM gave "got columns ['\ufefftext', 'label']"
    path = tmp_path / "excel.csv"
    path.write_bytes("\n".join(["text,label", *_rows()]).encode("utf-8-sig"))
    task = load_task(path, n_train=6, n_test=4, random_state=0)
    assert (task.positive, task.negative) == ("spam", "ham")
    assert all(t.startswith("text number") for t in task.train.texts)


def test_latin1_csv_is_refused_with_the_byte_offset(tmp_path):
    # regression: decoded silently with U+FFFD; "é" in Latin-1 is the byte 0xe9,
    # at offset len("text,label\ncaf") = 14 of the file
    path = tmp_path / "latin.csv"
    path.write_bytes("\n".join(["text,label", "café,spam", *_rows()]).encode("latin-1"))
    with pytest.raises(
        ValueError,
        match=r"name_or_csv '.*latin.csv' must be UTF-8 text; got byte 0xe9 at "
        r"offset 14, which is not UTF-8",
    ):
        load_task(path, n_train=6, n_test=4, random_state=0)


def test_duplicate_column_names_are_refused(tmp_path):
    path = tmp_path / "twice.csv"
    rows = [f"{r},{'ham' if i % 2 else 'spam'}" for i, r in enumerate(_rows())]
    path.write_text("\n".join(["text,label,label", *rows]) + "\n")
    with pytest.raises(
        ValueError,
        match=r"must have distinct column names; got columns \['text', 'label', "
        r"'label'\], with \['label'\] more than once",
    ):
        load_task(path, n_train=6, n_test=4, random_state=0)


def test_a_label_with_one_example_is_refused_with_the_counts(tmp_path):
    # regression: sklearn's "The least populated classes in y have only 1 member"
    path = tmp_path / "lonely.csv"
    rows = [f"text number {i},ham" for i in range(11)] + ["the only one,spam"]
    path.write_text("\n".join(["text,label", *rows]) + "\n")
    with pytest.raises(
        ValueError,
        match=r"each label of '.*lonely.csv' must have at least 2 examples, so "
        r"that n_train=6, n_test=4 \(and n_probe=0\) can each be drawn stratified "
        r"by label; got label counts \{'ham': 11, 'spam': 1\}",
    ):
        load_task(path, n_train=6, n_test=4, random_state=0)


def test_a_row_without_its_label_is_named(tmp_path):
    # regression: the missing field read as None and sorting the labels failed
    path = tmp_path / "short.csv"
    path.write_text("text,label\na,pos\nb,neg\nc\nd,neg\n")
    with pytest.raises(
        ValueError,
        match=r"line 4: every row must have a 'text' and a 'label' field; got \['c'\]",
    ):
        load_task(path, n_train=2, n_test=2, random_state=0)
