"""``tinysleepnet predict`` on damaged files, mixed folders and earlier outputs."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

from tinysleepnet.cli import main
from tinysleepnet.io.edf_writer import write_annotations_edf

from ..prediction.conftest import START

#: The 16-epoch recording's expert scoring, as (R&K text, epochs) runs.
RUNS = [("W", 4), ("1", 2), ("2", 4), ("3", 2), ("R", 4)]


def write_expert(path: Path, start: dt.datetime = START, extra=()) -> Path:
    annotations, onset = [], 0.0
    for text, n in RUNS:
        annotations.append((onset, 30.0 * n, f"Sleep stage {text}"))
        onset += 30.0 * n
    write_annotations_edf(path, [*annotations, *extra], start)
    return path


def predict(*argv: str | Path) -> int:
    return main(["predict", *map(str, argv), "--jobs", "1"])


@pytest.fixture
def night(recording: Path, tmp_path: Path) -> Path:
    """A copy of the 16-epoch recording in its own folder."""
    (tmp_path / "in").mkdir()
    return Path(shutil.copy(recording, tmp_path / "in" / "night.edf"))


def test_truncated_edf_is_refused_or_staged_with_allow_truncated(
    night: Path, checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = night.read_bytes()
    night.write_bytes(data[: len(data) // 2])  # head -c
    out = tmp_path / "out"
    assert predict(night, "--model", checkpoint, "--out", out) == 2  # nothing staged
    assert "truncated: the header declares 16 data records" in capsys.readouterr().err
    assert not out.exists() or not list(out.iterdir())
    assert predict(night, "--model", checkpoint, "--out", out, "--allow-truncated") == 0
    assert "night.edf: 7 epochs" in capsys.readouterr().out


def test_damaged_checkpoint_is_one_line_and_exit_2(
    night: Path, checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = tmp_path / "damaged.pt"
    data = bytearray(checkpoint.read_bytes())
    rng = np.random.default_rng(0)
    for i in rng.choice(len(data) // 2, 2000, replace=False) + len(data) // 4:
        data[i] ^= 0xFF
    damaged.write_bytes(bytes(data))
    assert predict(night, "--model", damaged, "--out", tmp_path / "out") == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"tinysleepnet: error: {damaged}: ")
    assert "damaged checkpoint" in line or "not a readable checkpoint" in line


def test_restaging_replaces_the_whole_set(
    night: Path,
    checkpoint: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    killed_write: Callable[[Path], None],
) -> None:
    out = tmp_path / "out"
    expert = write_expert(tmp_path / "expert.edf")
    assert predict(night, "--model", checkpoint, "--out", out, "--hypnogram", expert) == 0
    assert (out / "night_agreement.json").is_file()
    killed_write(out / "night_agreement.json")  # a kill -9 while writing it
    capsys.readouterr()
    assert predict(night, "--model", checkpoint, "--out", out) == 0
    report = capsys.readouterr().out
    assert "replaced 10 earlier outputs" in report  # 9 files and a partial one
    removed = report.split("(removed ")[1].split(")")[0].split(", ")
    partial = next(name for name in removed if ".partial-" in name)
    assert sorted(removed) == sorted(["night_agreement.json", "night_agreement.txt", partial])
    assert partial.startswith("night_agreement.partial-")
    names = {p.name for p in out.iterdir()}
    assert not {"night_agreement.json", "night_agreement.txt"} & names
    assert not [name for name in names if name.startswith(".") or ".partial" in name]
    provenance = json.loads((out / "night_statistics.json").read_text())["provenance"]
    assert provenance["input"] == str(night) and provenance["model"] == str(checkpoint)
    assert len(provenance["model_sha256"]) == 64 and provenance["channel"] == "EEG Fpz-Cz"
    png_text = PIL.Image.open(out / "night_hypnogram.png").text  # PNG text chunks
    assert png_text["model_sha256"] == provenance["model_sha256"]
    assert png_text["input"] == str(night)


def test_outputs_get_the_umask_permissions(night: Path, checkpoint: Path, tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        assert predict(night, "--model", checkpoint, "--out", tmp_path / "out") == 0
    finally:
        os.umask(previous)
    modes = {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "out").iterdir()}
    assert modes == {0o644}


def test_hypnograms_beside_recordings_are_skipped_with_a_note(
    night: Path, checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = night.parent
    write_expert(folder / "night-Hypnogram.edf")
    argv = [folder / "*.edf", "--model", checkpoint, "--out", folder]
    assert predict(*argv) == 0
    assert predict(*argv) == 0  # now with night_hypnogram.edf, its own output, beside
    err = capsys.readouterr().err
    assert f"note: {folder / 'night-Hypnogram.edf'}: annotations only" in err
    assert f"note: {folder / 'night_hypnogram.edf'}: annotations only" in err


def test_io_errors_are_one_line_and_the_batch_goes_on(
    night: Path, checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = Path(shutil.copy(night, night.with_name("other.edf")))
    out = tmp_path / "out"
    (out / "night_hypnogram.csv").mkdir(parents=True)  # a folder where a file must go
    assert predict(night, other, "--model", checkpoint, "--out", out) == 1
    err = capsys.readouterr().err.splitlines()
    assert any(line.startswith(f"tinysleepnet: skipped {night}: ") for line in err)
    assert not any("Traceback" in line for line in err)
    assert (out / "other_statistics.json").is_file()
    (tmp_path / "file").write_text("")
    assert predict(night, "--model", checkpoint, "--out", tmp_path / "file") == 2
    assert "--out names a file" in capsys.readouterr().err


def test_unknown_labels_are_reported_with_counts(
    night: Path, checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = [(0.0, 30.0, "Lights off"), (60.0, 30.0, "Lights off"), (90.0, 30.0, "Arousal")]
    # what this tool writes into its own hypnograms is known, not reported
    extra += [(120.0, 30.0, "Unscorable signal: flat"), (150.0, 30.0, "Review")]
    expert = write_expert(tmp_path / "expert.edf", extra=extra)
    assert predict(night, "--model", checkpoint, "--out", tmp_path, "--hypnogram", expert) == 0
    report = capsys.readouterr().out
    known = "'Lights off' x2, 'Arousal' x1 -> "  # and nothing else
    assert f"labels not known, left out of the agreement: {known}" in report


def test_hypnogram_starting_later_is_aligned_or_refused(
    night: Path, checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    later = write_expert(tmp_path / "later.edf", START + dt.timedelta(seconds=60))
    assert predict(night, "--model", checkpoint, "--out", tmp_path, "--hypnogram", later) == 0
    assert "aligned by its start time (+60 s" in capsys.readouterr().out
    agreement = json.loads((tmp_path / "night_agreement.json").read_text())
    assert agreement["n_unscored"] == 2  # the first two epochs precede the hypnogram
    odd = write_expert(tmp_path / "odd.edf", START + dt.timedelta(seconds=45))
    assert predict(night, "--model", checkpoint, "--out", tmp_path, "--hypnogram", odd) == 2
    assert "not a whole number of 30-s epochs" in capsys.readouterr().err


def test_hypnogram_scored_off_the_epoch_grid_is_compared_with_a_note(
    night: Path, checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Scored at its own onsets, 7.3 s after the recording's start, as MASS's Base files are.
    onsets = 7.3 + 30.0 * np.arange(15)
    texts = [f"Sleep stage {t}" for t, n in RUNS for _ in range(n)][:15]
    expert = tmp_path / "mass_like.edf"
    write_annotations_edf(expert, [(o, 30.0, t) for o, t in zip(onsets, texts, strict=True)], START)
    assert predict(night, "--model", checkpoint, "--out", tmp_path, "--hypnogram", expert) == 0
    assert "up to 7.3 s off the staging grid" in capsys.readouterr().out
    agreement = json.loads((tmp_path / "night_agreement.json").read_text())
    assert agreement["n_unscored"] == 1  # the last epoch: 15 expert epochs fit the 16
    write_expert(expert)  # on the grid: no note
    assert predict(night, "--model", checkpoint, "--out", tmp_path, "--hypnogram", expert) == 0
    assert "off the staging grid" not in capsys.readouterr().out
