"""Atomic writes: complete files or none, JSON without NaN."""

from __future__ import annotations

import json
import math
import os
import stat
import threading
import time

import numpy as np
import pytest

from tinysleepnet.config import Config
from tinysleepnet.errors import PathError
from tinysleepnet.io.atomic import (
    atomic_path,
    exclusive,
    partials,
    read_json,
    stale_partials,
    write_json,
    write_text_atomic,
)


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


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_files_get_the_permissions_of_the_umask(tmp_path, umask_022):
    write_json(tmp_path / "a.json", {"n": 1})
    with atomic_path(tmp_path / "b.npy") as tmp:
        np.save(tmp, np.zeros(3))
    for name in ("a.json", "b.npy"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644


def test_a_killed_write_leaves_a_visible_file_the_next_write_removes(
    tmp_path, umask_022, killed_write
):
    path = tmp_path / "night.csv"
    killed_write(path)
    (left,) = tmp_path.iterdir()
    assert left.name.startswith("night.partial-") and left.suffix == ".csv"
    assert partials(path) == stale_partials(path) == [left]
    write_text_atomic(path, "whole")
    assert [p.name for p in tmp_path.iterdir()] == ["night.csv"]
    assert path.read_text(encoding="utf-8") == "whole"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_temporary_files_of_running_writers_are_left_alone(tmp_path):
    path = tmp_path / "folds.json"
    with atomic_path(path) as first:
        first.write_text("{}")
        with atomic_path(path) as second:  # another job writing the same file meanwhile
            assert second != first and stale_partials(path) == []
            second.write_text("{}")
        assert first.is_file()  # still there to be renamed
    assert path.read_text() == "{}" and list(tmp_path.iterdir()) == [path]


def test_read_json_returns_what_write_json_wrote(tmp_path):
    write_json(tmp_path / "values.json", {"a": 1, "b": [1.5, None]})
    assert read_json(tmp_path / "values.json", "values file") == {"a": 1, "b": [1.5, None]}


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (None, "file not found"),
        (b'{"lr": 1e-4, "seq_', r"not a readable settings file \(JSONDecodeError: "),
        (b"\xff\xfe\x00garbage", r"not a readable settings file \(UnicodeDecodeError: "),
        (b"[1, 2]", r"not a readable settings file \(a JSON list\)"),
    ],
)
def test_damaged_json_is_refused_in_one_line_naming_the_file(tmp_path, content, why):
    path = tmp_path / "config.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(PathError, match=rf"config\.json: {why}") as error:
        Config.load(path)  # a run's settings, read through read_json
    assert "\n" not in str(error.value)


def test_exclusive_blocks_run_one_after_the_other(tmp_path):
    lock, order = tmp_path / ".night.lock", []
    inside = threading.Event()

    def first():
        with exclusive(lock):
            order.append("first in")
            inside.set()
            time.sleep(0.3)
            order.append("first out")

    def second():
        inside.wait()
        with exclusive(lock):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert order == ["first in", "first out", "second in"]
    assert not lock.exists()
