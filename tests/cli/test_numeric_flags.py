"""Every numeric flag is refused out of its range in one line, before anything is written."""

from __future__ import annotations

import pytest

from tinysleepnet.cli import main
from tinysleepnet.cli._config import MAX_JOBS
from tinysleepnet.data.prepare import prepare
from tinysleepnet.errors import TinySleepNetError


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--epochs", "0"], "max_passes=0 is out of range: must be a whole number >= 1"),
        (["--epochs", "-1"], "max_passes=-1 is out of range: must be a whole number >= 1"),
        (["--lr", "-1"], "lr=-1.0 is out of range: must be a number >= 0"),
        (["--n-filters", "0"], "n_filters=0 is out of range: must be a whole number >= 1"),
        (["--lstm-units", "0"], "lstm_units=0 is out of range: must be a whole number >= 1"),
        (["--seq-len", "0"], "seq_len=0 is out of range: must be a whole number >= 1"),
        (["--dropout", "1.5"], "dropout=1.5 is out of range: must be a number >= 0 and < 1"),
        (["--valid-frac", "1.5"], "valid_frac=1.5 is out of range: must be a number > 0 and < 1"),
        (["--class-weights", "1,1"], "class_weights=(1.0, 1.0) is out of range: must be 5 "),
    ],
)
def test_train_settings_out_of_range(tmp_path, capsys: pytest.CaptureFixture[str], flags, message):
    out = tmp_path / "run"
    assert main(["train", str(tmp_path / "prepared"), "--out", str(out), *flags]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"tinysleepnet: error: {message}")
    assert not out.exists()


RANGE = "is out of range: must be a"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--jobs", "0"], f"--jobs: 0 {RANGE} whole number >= 1 and <= {MAX_JOBS}"),
        (["--jobs", "100000"], f"--jobs: 100000 {RANGE} whole number >= 1 and <= {MAX_JOBS}"),
        (["--jobs", "two"], "--jobs: 'two' is not a whole number"),
        (["--sfreq", "-100"], f"--sfreq: -100.0 {RANGE} number >= 2"),
        (["--sfreq", "nan"], f"--sfreq: nan {RANGE} number >= 2"),
        (["--epoch-sec", "-30"], f"--epoch-sec: -30.0 {RANGE} number > 0"),
        (["--wake-edge-min", "-5"], f"--wake-edge-min: -5.0 {RANGE} number >= 0"),
    ],
)
def test_prepare_flags_out_of_range(tmp_path, capsys: pytest.CaptureFixture[str], flags, message):
    (tmp_path / "src").mkdir()
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stopped:
        main(["prepare", str(tmp_path / "src"), str(out), *flags])
    assert stopped.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert (
        line == f"tinysleepnet prepare: error: argument {message} (see tinysleepnet prepare --help)"
    )
    assert not out.exists()


def test_prepare_checks_its_settings_from_python_too(tmp_path):
    with pytest.raises(TinySleepNetError, match="wake_edge_min=-5 is out of range"):
        prepare(tmp_path, tmp_path / "out", wake_edge_min=-5)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["predict", "night.edf", "--jobs", "0"],
        ["cv", "data", "--out", "run", "--folds", "1"],
        ["cv", "data", "--out", "run", "--fold", "-1"],
        ["cv", "data", "--out", "run", "--parallel", "0"],
        ["simulate", "out", "--seed", "-1"],
        ["simulate", "out", "--record-sec", "0"],
        ["finetune", "model", "data", "out", "--lr", "-1"],
        ["reproduce", "sleep-edf-20", "--out", "run", "--epochs", "0"],
    ],
)
def test_other_commands_numeric_flags(capsys: pytest.CaptureFixture[str], argv):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert RANGE in line
