"""Reading hypnograms and labelling 30-s epochs from their onset/duration runs."""

from __future__ import annotations

import datetime as dt

import mne
import numpy as np
import pytest

from tinysleepnet.data.resources import official_hypnograms
from tinysleepnet.errors import PathError
from tinysleepnet.io.edf_writer import write_annotations_edf
from tinysleepnet.io.hypnogram import epoch_labels, read_epoch_labels, read_hypnogram
from tinysleepnet.stages import UNSCORED

U = UNSCORED


def _annotations(*runs):
    onsets, durations, texts = zip(*runs, strict=True)
    return mne.Annotations(onsets, durations, texts)


def test_official_hypnogram_counts_match_the_published_raw_counts():
    # SC4001EC, whole file (2880 epochs): W 1997, 1 58, 2 250, 3 101, 4 119, R 125, ? 230.
    path = next(p for p in official_hypnograms() if p.name == "SC4001EC-Hypnogram.edf")
    labels = epoch_labels(read_hypnogram(path), n_epochs=2880)
    assert labels.dtype == np.int64
    counts = dict(zip(*np.unique(labels, return_counts=True), strict=True))
    assert counts == {U: 230, 0: 1997, 1: 58, 2: 250, 3: 101 + 119, 4: 125}


def test_runs_become_one_label_per_epoch():
    annotations = _annotations(
        (0, 60, "Sleep stage W"),
        (60, 30, "Sleep stage 1"),
        (90, 90, "Sleep stage 4"),
        (100, 0, "Lights off"),  # not a stage: ignored, however it overlaps
        (180, 30, "Movement time"),
        (210, 30, "Sleep stage ?"),
        (240, 30, "Sleep stage R"),
        (270, 30, "Sleep stage N2"),  # the AASM text this package writes
    )
    labels = epoch_labels(annotations, n_epochs=10)
    np.testing.assert_array_equal(labels, [0, 0, 1, 3, 3, 3, U, U, 4, 2])


def test_labels_are_cut_to_the_signal_and_gaps_are_unscored():
    annotations = _annotations((0, 60, "Sleep stage 2"), (90, 600, "Sleep stage W"))
    np.testing.assert_array_equal(epoch_labels(annotations, n_epochs=4), [2, 2, U, 0])


def test_epoch_length_is_a_parameter():
    annotations = _annotations((0, 60, "Sleep stage 2"), (60, 60, "Sleep stage R"))
    np.testing.assert_array_equal(epoch_labels(annotations, 4, epoch_sec=30.0), [2, 2, 4, 4])
    np.testing.assert_array_equal(epoch_labels(annotations, 2, epoch_sec=60.0), [2, 4])


def test_final_epoch_may_be_left_unscored():
    annotations = _annotations((0, 90, "Sleep stage W"))
    np.testing.assert_array_equal(epoch_labels(annotations, n_epochs=4), [0, 0, 0, U])


def test_hypnogram_shorter_than_the_signal_is_an_error():
    annotations = _annotations((0, 90, "Sleep stage W"))
    with pytest.raises(
        ValueError, match="hypnogram covers 3 epochs of 30 s, shorter than the signal's 5"
    ):
        epoch_labels(annotations, n_epochs=5)


def test_read_epoch_labels_names_the_file_of_a_short_hypnogram(tmp_path):
    path = tmp_path / "SC4001EC-Hypnogram.edf"
    write_annotations_edf(path, [(0.0, 90.0, "Sleep stage W")], dt.datetime(1989, 4, 24))
    np.testing.assert_array_equal(read_epoch_labels(path, 3), [0, 0, 0])
    with pytest.raises(PathError, match=r"Hypnogram\.edf: hypnogram covers 3 epochs"):
        read_epoch_labels(path, 5)
    with pytest.raises(PathError) as error:  # named once, not wrapped in itself
        read_epoch_labels(tmp_path / "absent.edf", 5)
    assert str(error.value) == f"{tmp_path / 'absent.edf'}: file not found"


def test_read_hypnogram_errors(tmp_path):
    with pytest.raises(PathError, match=r"absent\.edf: file not found"):
        read_hypnogram(tmp_path / "absent.edf")
    garbage = tmp_path / "garbage-Hypnogram.edf"
    garbage.write_bytes(b"\x00 not an EDF file" * 40)
    with pytest.raises(PathError, match=r"garbage-Hypnogram\.edf: not a readable hypnogram"):
        read_hypnogram(garbage)
    no_stages = tmp_path / "events-Hypnogram.edf"
    write_annotations_edf(no_stages, [(0.0, 30.0, "Lights off")], dt.datetime(2000, 1, 1))
    with pytest.raises(PathError, match=r"events-Hypnogram\.edf: no sleep-stage annotations"):
        read_hypnogram(no_stages)


def test_an_annotation_lasting_far_past_the_signal_is_cut_at_its_end():
    # 1e12 s would be 3e10 epochs (248 GiB of labels) if the grid followed the annotation
    annotations = _annotations((0, 60, "Sleep stage W"), (60, 1e12, "Sleep stage 2"))
    np.testing.assert_array_equal(epoch_labels(annotations, n_epochs=4), [0, 0, 2, 2])


def test_an_annotation_starting_before_the_signal_labels_the_epochs_it_reaches():
    annotations = _annotations((-60, 120, "Sleep stage 1"), (60, 60, "Sleep stage R"))
    np.testing.assert_array_equal(epoch_labels(annotations, n_epochs=4), [1, 1, 4, 4])
    before = _annotations((-90, 30, "Sleep stage 3"), (0, 90, "Sleep stage 2"))
    np.testing.assert_array_equal(epoch_labels(before, n_epochs=3), [2, 2, 2])


def test_a_csv_hypnogram_is_read_in_seconds(tmp_path):
    path = tmp_path / "scoring.csv"
    path.write_text(
        "onset,duration,description\n"
        "0,60,Sleep stage W\n60,30,Sleep stage N2\n90,30,Sleep stage R\n"
    )
    annotations = read_hypnogram(path)
    np.testing.assert_array_equal(annotations.onset, [0.0, 60.0, 90.0])  # not milliseconds
    np.testing.assert_array_equal(epoch_labels(annotations, n_epochs=4), [0, 0, 2, 4])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("start,stage\n0,W\n", r"missing column\(s\) onset, duration, description"),
        (
            "onset,duration,description\n22:30:00,30,Sleep stage W\n",
            r"columns onset and duration must hold seconds \(e.g. 0, 30, 60\) \(ValueError",
        ),
        ("onset,duration,description\n0,-30,Sleep stage W\n", "onset and duration must be finite"),
    ],
)
def test_a_csv_hypnogram_of_another_layout_is_refused_in_one_line(tmp_path, text, problem):
    path = tmp_path / "scoring.csv"
    path.write_text(text)
    with pytest.raises(PathError, match=rf"^{path}: {problem}") as refused:
        read_hypnogram(path)
    assert "\n" not in str(refused.value)


def test_scoring_before_the_recording_is_cut_with_a_warning_naming_the_file(tmp_path, caplog):
    start = dt.datetime(2020, 1, 1, 22, 0, 0)
    path = tmp_path / "early-Hypnogram.edf"
    runs = [(0.0, 60.0, "Sleep stage W"), (60.0, 90.0, "Sleep stage 2")]
    write_annotations_edf(path, runs, start - dt.timedelta(seconds=60))  # starts 60 s early
    with caplog.at_level("WARNING", logger="tinysleepnet"):
        labels = read_epoch_labels(path, 3, recording_start=start)
    np.testing.assert_array_equal(labels, [2, 2, 2])
    (line,) = [r.getMessage() for r in caplog.records]
    assert line == (
        f"{path}: its annotations begin 60 s before the recording starts; that part is cut"
    )
    csv = tmp_path / "scoring.csv"
    csv.write_text("onset,duration,description\n-30,60,Sleep stage 1\n30,30,Sleep stage R\n")
    caplog.clear()
    with caplog.at_level("WARNING", logger="tinysleepnet"):
        np.testing.assert_array_equal(read_epoch_labels(csv, 2), [1, 4])
    assert [r.getMessage() for r in caplog.records] == [
        f"{csv}: its annotations begin 30 s before the recording starts; that part is cut"
    ]


def test_scoring_from_the_recordings_start_gives_no_warning(tmp_path, caplog):
    start = dt.datetime(2020, 1, 1, 22, 0, 0)
    path = tmp_path / "Hypnogram.edf"
    write_annotations_edf(path, [(0.0, 90.0, "Sleep stage 2")], start)
    with caplog.at_level("WARNING", logger="tinysleepnet"):
        np.testing.assert_array_equal(read_epoch_labels(path, 3, recording_start=start), [2] * 3)
    assert not caplog.records
