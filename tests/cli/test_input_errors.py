"""Input a command cannot use is named for what it is, in one line, with exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinysleepnet.cli import main


def last_error(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda path: path.mkdir(), "a folder, not a recording; give the files in it"),
        (
            lambda path: path.with_suffix(".txt").write_text("stage per epoch\n"),
            "not a recording format (.txt); recordings are EDF/EDF+, BDF, FIF or another",
        ),
        (lambda path: None, "file not found"),
    ],
    ids=["folder", "txt", "missing"],
)
def test_predict_says_what_a_path_is_and_exits_2_when_nothing_was_staged(
    make, problem, checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "night"
    make(target)
    given = target.with_suffix(".txt") if "txt" in problem else target
    out = tmp_path / "out"
    assert main(["predict", str(given), "--model", str(checkpoint), "--out", str(out)]) == 2
    assert last_error(capsys).startswith(f"tinysleepnet: error: {given}: {problem}")
    assert not out.exists() or not list(out.iterdir())


def test_predict_exits_2_when_every_recording_failed_and_1_when_some_were_staged(
    recording: Path, checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    missing = [str(tmp_path / "a.edf"), str(tmp_path / "b.edf")]
    assert main(["predict", *missing, "--model", str(checkpoint), "--out", str(out)]) == 2
    assert last_error(capsys) == "tinysleepnet: 2 of 2 recordings failed"
    both = [str(recording), missing[0]]
    assert main(["predict", *both, "--model", str(checkpoint), "--out", str(out)]) == 1
    assert last_error(capsys) == "tinysleepnet: 1 of 2 recordings failed"


@pytest.mark.parametrize("command", ["cv", "train"])
def test_a_data_folder_that_does_not_exist_is_said_so(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    absent = tmp_path / "prepared"
    assert main([command, str(absent), "--out", str(tmp_path / "run")]) == 2
    assert last_error(capsys) == f"tinysleepnet: error: {absent}: does not exist"
    assert not (tmp_path / "run").exists()


def test_the_plural_follows_the_count(
    recording: Path, checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tinysleepnet.text import counted

    assert [counted(n, "pass") for n in (0, 1, 2)] == ["0 passes", "1 pass", "2 passes"]
    assert [counted(n, "epoch") for n in (1, 1000)] == ["1 epoch", "1,000 epochs"]
    argv = ["predict", str(recording), "--model", str(checkpoint), "--out", str(tmp_path)]
    assert main([*argv, "--hypnogram", str(recording), str(recording)]) == 2
    assert "2 hypnograms for 1 recording;" in last_error(capsys)
