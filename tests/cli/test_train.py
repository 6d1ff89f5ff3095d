"""``tinysleepnet train``: what it refuses before training."""

from __future__ import annotations

import pytest

from tinysleepnet.cli import main
from tinysleepnet.config import Config

from ..conftest import write_prepared
from ..training.conftest import toy_night


def test_validation_subject_without_nights_is_one_line_naming_the_data(
    tmp_path, capsys: pytest.CaptureFixture[str]
):
    nights = [toy_night(f"{i:02d}", 30, Config(epoch_sec=3.0), seed=i) for i in range(3)]
    prepared = write_prepared(tmp_path / "prepared", nights)
    argv = ["train", str(prepared), "--out", str(tmp_path / "run"), "--valid-subjects", "01,07"]
    assert main(argv) != 0
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == f"tinysleepnet: error: {prepared}: no nights of validation subject(s) 07"
    assert not (tmp_path / "run").exists()  # refused before anything was written
