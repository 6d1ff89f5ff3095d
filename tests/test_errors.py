"""Errors name the path first, wrap a library's exception in one line, and are ValueErrors."""

from __future__ import annotations

import pickle
import zipfile

import pytest

from tinysleepnet.errors import PathError, TinySleepNetError
from tinysleepnet.nn.checkpoint import load_checkpoint


def test_path_error_names_the_path_first_and_is_a_value_error(tmp_path):
    error = PathError(tmp_path / "night.edf", "channel 'EEG Fpz-Cz' not found")
    assert str(error) == f"{tmp_path / 'night.edf'}: channel 'EEG Fpz-Cz' not found"
    assert isinstance(error, TinySleepNetError) and isinstance(error, ValueError)
    assert str(pickle.loads(pickle.dumps(error))) == str(error)  # crosses worker processes


def test_wrap_gives_one_line_with_the_library_error(tmp_path):
    try:
        zipfile.ZipFile(tmp_path / "missing.zip")
    except OSError as err:
        error = PathError.wrap("night.npz", "not a prepared night", err)
    assert str(error).startswith("night.npz: not a prepared night (FileNotFoundError: ")
    assert "\n" not in str(error)
    assert str(PathError.wrap("a", "b", RuntimeError())) == "a: b (RuntimeError)"


def test_a_damaged_file_raises_a_path_error(tmp_path):
    path = tmp_path / "best.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(PathError, match=r"best\.pt: not a readable checkpoint \(\w+"):
        load_checkpoint(path)
