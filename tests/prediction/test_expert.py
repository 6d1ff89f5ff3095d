"""An expert hypnogram laid on a staging's epochs (``prediction/expert.py``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from tinysleepnet.errors import PathError
from tinysleepnet.io.edf_writer import write_annotations_edf
from tinysleepnet.prediction.expert import expert_labels
from tinysleepnet.prediction.result import StagingResult
from tinysleepnet.stages import UNSCORED

from .conftest import START

W, N1, N2 = 0, 1, 2


def staging(n_epochs: int) -> StagingResult:
    return StagingResult(np.full((n_epochs, 5), 0.2, dtype=np.float32), START, 30.0)


def scoring(path: Path, texts: list[str], start: dt.datetime, first_onset: float = 0.0) -> Path:
    onsets = first_onset + 30.0 * np.arange(len(texts))
    annotations = [(o, 30.0, f"Sleep stage {t}") for o, t in zip(onsets, texts, strict=True)]
    write_annotations_edf(path, annotations, start)
    return path


def test_labels_follow_the_scoring_and_a_later_start_is_shifted(tmp_path: Path) -> None:
    same = scoring(tmp_path / "same.edf", ["W", "1", "2", "2"], START)
    labels, notes = expert_labels(same, staging(4), START)
    assert labels.tolist() == [W, N1, N2, N2] and notes == []
    later = scoring(tmp_path / "later.edf", ["1", "2", "2"], START + dt.timedelta(seconds=30))
    labels, notes = expert_labels(str(later), staging(4), START)
    assert labels.tolist() == [UNSCORED, N1, N2, N2]
    assert notes == ["hypnogram aligned by its start time (+30 s from the recording's)"]


def test_unknown_labels_and_off_grid_scoring_are_noted(tmp_path: Path) -> None:
    path = tmp_path / "odd.edf"
    annotations = [(7.3 + 30.0 * i, 30.0, "Sleep stage W") for i in range(4)]
    write_annotations_edf(path, [*annotations, (40.0, 0.0, "Spindle")], START)
    labels, notes = expert_labels(path, staging(4), START)
    assert labels.tolist() == [W, W, W, W]
    assert notes[0] == "hypnogram labels not known, left out of the agreement: 'Spindle' x1"
    assert notes[1].startswith("hypnogram epochs start up to 7.3 s off the staging grid")


def test_hypnogram_of_another_recording_is_refused(tmp_path: Path) -> None:
    short = scoring(tmp_path / "short.edf", ["W", "1"], START)
    with pytest.raises(PathError, match=r"short\.edf: hypnogram covers 2 epochs"):
        expert_labels(short, staging(10), START)
    odd_start = scoring(tmp_path / "odd.edf", ["W"] * 10, START + dt.timedelta(seconds=45))
    with pytest.raises(PathError, match="not a whole number of 30-s epochs"):
        expert_labels(odd_start, staging(10), START)
