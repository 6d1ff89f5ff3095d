"""Atomic writes: complete files or none, JSON without NaN."""

from __future__ import annotations

import json
import math

import pytest

from tinysleepnet.io.atomic import atomic_path, write_json


def test_write_json_is_indented_and_writes_nan_as_null(tmp_path):
    path = tmp_path / "sub" / "scores.json"
    write_json(path, {"kappa": math.nan, "f1": [1.0, math.nan], "n": 3})
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == {"kappa": None, "f1": [1.0, None], "n": 3}
    assert text.startswith('{\n  "kappa": null') and text.endswith("}\n")


def test_failed_write_leaves_neither_file_nor_temporary(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("interrupted")
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
