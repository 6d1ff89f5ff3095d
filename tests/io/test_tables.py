from __future__ import annotations

import pytest

from tinysleepnet.errors import PathError
from tinysleepnet.io.tables import read_text_table


def test_cells_are_stripped_strings_and_empty_cells_empty(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(" a , b\n 007 ,\nx,  y \n")
    table = read_text_table(path, required=("a",))
    assert list(table.columns) == ["a", "b"]
    assert table.values.tolist() == [["007", ""], ["x", "y"]]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (None, "file not found"),
        ("", r"not a readable CSV \(EmptyDataError"),
        ("b\n1\n", r"missing column\(s\) a \(columns: 'b'\)"),
        ("a,b\n1,2\n ,3\n", r"data row 2: empty 'a' cell"),
    ],
)
def test_bad_tables_are_refused_naming_the_file(tmp_path, text, problem):
    path = tmp_path / "t.csv"
    if text is not None:
        path.write_text(text)
    with pytest.raises(PathError, match=rf"t\.csv: {problem}"):
        read_text_table(path, required=("a",))
