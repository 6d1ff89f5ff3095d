"""Names from users' files that become file names: one path component inside a folder."""

from __future__ import annotations

import pytest

from tinysleepnet.errors import PathError
from tinysleepnet.io.names import MAX_NAME_CHARS, name_problem, safe_name


@pytest.mark.parametrize("name", ["SC4001E0", "01-03-0001", "lab_model.v2", "night 1", "x" * 100])
def test_ordinary_names_pass(name):
    assert name_problem(name) is None
    assert safe_name(name, "pairs.csv", "night name") == name


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "is empty"),
        ("..", "starts with a dot"),
        (".", "starts with a dot"),
        (".toy.partial-host-1-abc", "starts with a dot"),
        ("../../x", "starts with a dot"),
        ("a/../../x", "holds a path separator"),
        ("/abs", "holds a path separator"),
        ("a\\b", "holds a path separator"),
        ("C:x", "holds a ':'"),
        ("a\nb", "holds a control character"),
        ("a\0b", "holds a control character"),
        ("x" * (MAX_NAME_CHARS + 1), f"is longer than {MAX_NAME_CHARS} characters"),
    ],
)
def test_names_that_leave_the_folder_or_hide_are_refused(name, problem):
    assert name_problem(name) == problem
    with pytest.raises(PathError) as info:
        safe_name(name, "model.json", "model name")
    assert str(info.value).startswith(f"model.json: model name {name!r} cannot be a file name: ")
    assert problem in str(info.value)
