"""Shared parameter descriptions (``tinysleepnet._docs``): filled where named, never left
as placeholders in the package's docstrings."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import tinysleepnet
from tinysleepnet._docs import DOCDICT, fill_doc

PLACEHOLDER = re.compile(r"%\(\w+\)s")


def test_an_entry_is_indented_as_the_docstring() -> None:
    @fill_doc
    def read(path: str, allow_truncated: bool = False) -> None:
        """Read.

        Parameters
        ----------
        path : str
            The file; 10 % of it.
        %(allow_truncated)s
        """

    doc = inspect.getdoc(read)
    assert doc is not None
    lines = doc.splitlines()
    at = lines.index("allow_truncated : bool")
    assert lines[at + 1].startswith("    Accept an EDF/BDF file")
    assert "10 % of it" in doc  # other percent signs stay


def test_an_unknown_entry_is_refused() -> None:
    def f() -> None:
        """Do.

        %(no_such_entry)s
        """

    with pytest.raises(KeyError, match="no_such_entry"):
        fill_doc(f)


def test_no_docstring_of_the_package_keeps_a_placeholder() -> None:
    """Every function or class naming a shared entry is decorated, in every module."""
    unfilled = []
    for info in pkgutil.walk_packages(tinysleepnet.__path__, "tinysleepnet."):
        if info.name.endswith(("__main__", "._docs")):  # runs the CLI; shows placeholders
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if getattr(obj, "__module__", None) != info.name:
                continue
            docs = [obj.__doc__]
            if inspect.isclass(obj):
                docs += [member.__doc__ for member in vars(obj).values() if callable(member)]
            if any(doc and PLACEHOLDER.search(doc) for doc in docs):
                unfilled.append(f"{info.name}.{name}")
    assert unfilled == []
    assert set(DOCDICT) >= {"allow_truncated", "progress"}
