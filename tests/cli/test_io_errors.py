"""I/O errors of any command end in one line naming the path and exit status 2."""

from __future__ import annotations

import pytest

from tinysleepnet.cli import main


def test_output_folder_that_is_a_file_is_one_line(tmp_path, capsys: pytest.CaptureFixture[str]):
    (tmp_path / "taken").write_text("")
    argv = ["simulate", str(tmp_path / "taken" / "sim"), "--subjects", "0", "--n-epochs", "40"]
    assert main(argv) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == f"tinysleepnet: error: {tmp_path / 'taken' / 'sim'}: Not a directory"
