"""``tinysleepnet predict`` end to end (tests of ``cli/predict.py``)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import mne
import numpy as np
import pandas as pd
import pytest

from tinysleepnet.cli import main
from tinysleepnet.io.edf_writer import write_annotations_edf
from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.prediction.stage import stage

OUTPUTS = (
    "hypnogram.csv", "hypnogram.edf", "hypnogram.png", "statistics.json", "statistics.txt",
    "events.tsv", "events.json",
)  # fmt: skip


def outputs_of(out: Path, name: str) -> list[Path]:
    return [out / f"{name}_{kind}" for kind in OUTPUTS]


@pytest.fixture(scope="module")
def expert(recording: Path) -> Path:
    """A Sleep-EDF-style expert hypnogram of the 16-epoch recording (R&K texts, one '?')."""
    start = mne.io.read_raw_edf(recording, verbose="error").info["meas_date"]
    runs = [("W", 4), ("1", 2), ("2", 4), ("3", 1), ("4", 1), ("R", 3), ("?", 1)]
    annotations, onset = [], 0.0
    for text, n in runs:
        annotations.append((onset, 30.0 * n, f"Sleep stage {text}"))
        onset += 30.0 * n
    path = recording.with_name("night-Hypnogram.edf")
    write_annotations_edf(path, annotations, start)
    return path


def test_predict_writes_every_output(
    recording: Path,
    checkpoint: Path,
    model: TinySleepNet,
    expert: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    argv = ["predict", str(recording), "--model", str(checkpoint), "--out", str(out)]
    assert main([*argv, "--hypnogram", str(expert), "--jobs", "1"]) == 0
    assert all(path.is_file() for path in outputs_of(out, "night-PSG"))
    frame = pd.read_csv(out / "night-PSG_hypnogram.csv")
    offline = stage(recording, model=model)
    assert frame["stage"].tolist() == offline.stage_names
    assert frame["clock_time"][0].startswith("2024-03-01T23:15:00")
    annotations = mne.read_annotations(out / "night-PSG_hypnogram.edf")
    assert annotations.duration.sum() == 16 * 30
    assert json.loads((out / "night-PSG_statistics.json").read_text())["tib_min"] == 8.0
    agreement = json.loads((out / "night-PSG_agreement.json").read_text())
    assert agreement["n_epochs"] == 15 and agreement["n_unscored"] == 1  # the '?' epoch
    expected_acc = np.mean(offline.stages[:15] == [0] * 4 + [1] * 2 + [2] * 4 + [3] * 2 + [4] * 3)
    assert agreement["acc"] == pytest.approx(expected_acc)
    assert (out / "night-PSG_agreement.txt").is_file()
    report = capsys.readouterr().out
    assert "night-PSG.edf: 16 epochs" in report and "kappa" in report


def test_start_override_and_online(
    recording: Path, checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["predict", str(recording), "--model", str(checkpoint), "--out", str(tmp_path)]
    assert main([*argv, "--start", "2020-05-06T22:00:00", "--online"]) == 0
    frame = pd.read_csv(tmp_path / "night-PSG_hypnogram.csv")
    assert frame["clock_time"][1] == "2020-05-06T22:00:30"
    difference = float(capsys.readouterr().out.split("online max |difference| ")[1].split(",")[0])
    assert difference < 1e-4


def test_batch_with_a_bad_file(
    recording: Path,
    checkpoint: Path,
    make_recording: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.edf", "b.edf"):
        shutil.copy(recording, folder / name)
    make_recording(folder / "c_volts.edf", n_epochs=2, scale=1e-6)
    (folder / "d_broken.edf").write_text("not an EDF file")
    out = tmp_path / "out"
    # The wildcard is expanded in-process, as on Windows where the shell leaves it.
    code = main(["predict", str(folder / "*.edf"), "--model", str(checkpoint), "--out", str(out)])
    assert code == 1
    assert all(path.is_file() for name in "ab" for path in outputs_of(out, name))
    assert sorted(p.name.split("_")[0] for p in out.iterdir()) == ["a"] * 7 + ["b"] * 7
    errors = [line for line in capsys.readouterr().err.splitlines() if "tinysleepnet:" in line]
    assert any("c_volts.edf" in line and "volts" in line for line in errors)
    assert any("d_broken.edf" in line and "not a readable recording" in line for line in errors)
    assert errors[-1] == "tinysleepnet: 2 of 4 recordings failed"


def test_input_errors_exit_2(
    recording: Path,
    checkpoint: Path,
    expert: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["predict", str(recording), "--out", str(tmp_path)]
    assert main([*argv, "--model", str(tmp_path / "missing.pt")]) == 2
    assert "missing.pt: checkpoint not found" in capsys.readouterr().err
    assert main([*argv, "--model", str(checkpoint), "--hypnogram", str(expert), str(expert)]) == 2
    assert "2 hypnograms for 1 recording;" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*argv, "--model", str(checkpoint), "--start", "yesterday"])
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--lights-off", "25:99", "'25:99': not a clock time HH:MM[:SS]"),
        ("--lights-on", "tomorrow", "'tomorrow': give a clock time HH:MM[:SS]"),
        ("--lights-off", "-5min", "'-5min': give a clock time HH:MM[:SS]"),
    ],
)
def test_a_malformed_lights_time_is_a_usage_error_before_any_recording_is_opened(
    recording: Path,
    checkpoint: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    flag: str,
    value: str,
    message: str,
) -> None:
    out = tmp_path / "out"
    argv = ["predict", str(recording), str(tmp_path / "missing.edf"), "--model", str(checkpoint)]
    with pytest.raises(SystemExit) as stopped:
        main([*argv, "--out", str(out), f"{flag}={value}"])  # "-5min" is not a flag
    assert stopped.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"tinysleepnet predict: error: argument {flag}: {message}")
    assert "missing.edf" not in line  # no recording was looked at
    assert not out.exists()


def test_lights_times_given_set_the_window_of_every_output(
    recording: Path, checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["predict", str(recording), "--model", str(checkpoint), "--out", str(out)]
    assert main([*argv, "--lights-off", "23:16", "--lights-on", "+300"]) == 0
    window = json.loads((out / "night-PSG_statistics.json").read_text())["in_bed"]
    assert (window["source"], window["first_epoch"], window["n_epochs"]) == ("given", 2, 8)
    assert pd.read_csv(out / "night-PSG_hypnogram.csv")["in_bed"].sum() == 8
    assert "in bed 23:16:00-23:20:00 (given), 8 epochs" in capsys.readouterr().out


def test_each_recording_is_checked_and_scored_once(
    recording: Path,
    checkpoint: Path,
    expert: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tinysleepnet.prediction import result as result_module
    from tinysleepnet.prediction import stage as stage_module

    calls = {"microvolts": 0, "statistics": 0, "agreement": 0}

    def counting(name, function):
        def spy(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        return spy

    monkeypatch.setattr(
        stage_module, "check_microvolts", counting("microvolts", stage_module.check_microvolts)
    )
    for name in ("statistics", "agreement"):
        method = getattr(result_module.StagingResult, name)
        monkeypatch.setattr(result_module.StagingResult, name, counting(name, method))
    argv = ["predict", str(recording), "--model", str(checkpoint), "--out", str(tmp_path)]
    assert main([*argv, "--hypnogram", str(expert), "--jobs", "1"]) == 0
    assert calls == {"microvolts": 1, "statistics": 1, "agreement": 1}


def test_recordings_sharing_a_name_are_refused_before_staging(
    recording: Path, checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(recording, tmp_path / folder / "night.edf")
    first, second = tmp_path / "a" / "night.edf", tmp_path / "b" / "night.edf"
    argv = ["predict", str(first), str(second), "--model", str(checkpoint)]
    assert main([*argv, "--out", str(tmp_path / "out")]) != 0
    (line,) = capsys.readouterr().err.strip().splitlines()
    clash = f"{first} and {second} share the name 'night': their outputs would collide"
    assert line == f"tinysleepnet: error: {clash}"
    assert not (tmp_path / "out").exists()


def test_predict_refuses_a_checkpoint_holding_code_without_running_it(
    recording: Path,
    checkpoint: Path,
    hostile_copy: Callable[[Path, Path, Path], Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hostile = hostile_copy(checkpoint, tmp_path / "model.pt", tmp_path / "ran")
    out = tmp_path / "out"
    for backend in ("torch", "onnx"):
        argv = ["predict", str(recording), "--model", str(hostile), "--out", str(out)]
        assert main([*argv, "--backend", backend]) == 2
        error = capsys.readouterr().err.strip()
        assert error.startswith(f"tinysleepnet: error: {hostile}: refused: it holds the Python")
        assert "\n" not in error
    assert not (tmp_path / "ran").exists() and not out.exists()
