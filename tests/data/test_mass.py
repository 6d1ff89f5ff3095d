"""MASS: pairing PSG and Base files, epochs cut at the annotations' onsets, 20-s epochs."""

from __future__ import annotations

import datetime as dt

import mne
import numpy as np
import pytest

from tinysleepnet.data.mass import annotated_epochs, find_mass_pairs, read_annotated_epochs
from tinysleepnet.data.nights import load_nights
from tinysleepnet.data.prepare import prepare
from tinysleepnet.data.simulate.mass import simulate_mass_cohort
from tinysleepnet.errors import PathError
from tinysleepnet.io.edf_writer import write_annotations_edf
from tinysleepnet.io.recordings import Recording
from tinysleepnet.stages import UNSCORED

START = dt.datetime(2000, 1, 1, 22, 30)


def annotations(*runs: tuple[float, float, str]) -> mne.Annotations:
    onsets, durations, texts = zip(*runs, strict=True)
    return mne.Annotations(onsets, durations, texts)


def touch(folder, *names):
    for name in names:
        (folder / name).write_bytes(b"")


def test_pairs_by_subset_and_subject(tmp_path):
    touch(
        tmp_path,
        "01-03-0001 PSG.edf",
        "01-03-0001 Base.edf",
        "01-03-0012 PSG.edf",
        "01-03-0012 Base.edf",
        "01-05-0001 PSG.edf",  # another subset: not SS3
        "01-03-0002 Base.edf",  # a Base without its PSG is no night
        "SC4001E0-PSG.edf",
    )
    pairs = find_mass_pairs(tmp_path, subset=3)
    assert list(pairs["name"]) == ["01-03-0001", "01-03-0012"]
    assert list(pairs["subject"]) == ["0001", "0012"]
    assert [p.name for p in pairs["hypnogram"]] == ["01-03-0001 Base.edf", "01-03-0012 Base.edf"]
    assert find_mass_pairs(tmp_path, subset=1).empty


def test_psg_without_base_names_both(tmp_path):
    touch(tmp_path, "01-03-0007 PSG.edf")
    with pytest.raises(PathError, match=r"01-03-0007 PSG\.edf: no annotation file "
                       r"'01-03-0007 Base\.edf' beside it"):  # fmt: skip
        find_mass_pairs(tmp_path, subset=3)


def test_epochs_start_at_the_first_annotation_not_at_the_first_sample():
    sfreq = 256.0
    runs = [(7.3 + 30 * i, 30.0, text) for i, text in enumerate(["Sleep stage W", "Sleep stage 2",
                                                                  "Sleep stage 4"])]  # fmt: skip
    starts, stages = annotated_epochs(annotations(*runs), 100 * 256, sfreq, 30.0)
    np.testing.assert_array_equal(starts, np.round(np.array([7.3, 37.3, 67.3]) * sfreq))
    np.testing.assert_array_equal(stages, [0, 2, 3])  # R&K stage 4 is N3


def test_gaps_overlaps_and_the_signal_edges():
    sfreq, n_samples = 10.0, 1000  # 100 s of signal, 20-s epochs (200 samples)
    runs = [
        (-5.0, 20.0, "Sleep stage W"),  # starts before the signal: dropped
        (15.0, 20.0, "Sleep stage 1"),
        (35.0, 20.0, "Sleep stage 2"),
        (45.0, 20.0, "Sleep stage 3"),  # overlaps the previous epoch: dropped
        (60.0, 20.0, "Sleep stage ?"),  # after a 5-s gap, nothing invented in it
        (85.0, 20.0, "Sleep stage R"),  # runs past the end of the signal: dropped
        (20.0, 0.0, "Arousal"),  # not a stage
    ]
    starts, stages = annotated_epochs(annotations(*runs), n_samples, sfreq, 20.0)
    np.testing.assert_array_equal(starts, [150, 350, 600])
    np.testing.assert_array_equal(stages, [1, 2, UNSCORED])


def test_a_long_annotation_gives_consecutive_epochs_in_time_order():
    runs = [(60.0, 20.0, "Sleep stage R"), (0.0, 60.0, "Sleep stage 2")]
    starts, stages = annotated_epochs(annotations(*runs), 2000, 10.0, 20.0)
    np.testing.assert_array_equal(starts, [0, 200, 400, 600])
    np.testing.assert_array_equal(stages, [2, 2, 2, 4])


def test_epoch_length_other_than_the_scoring_is_refused():
    with pytest.raises(PathError, match=r"lasts 20 s, not a whole number of 30-s epochs"):
        annotated_epochs(annotations((0.0, 20.0, "Sleep stage W")), 10_000, 100.0, 30.0)
    with pytest.raises(PathError, match="no scored epoch lies inside the signal"):
        annotated_epochs(annotations((80.0, 30.0, "Sleep stage W")), 1000, 10.0, 30.0)


def test_signal_is_cut_at_the_base_files_onsets(tmp_path):
    sfreq = 256.0
    signal = np.arange(int(90 * sfreq), dtype=np.float32)  # sample i holds the value i
    base = tmp_path / "01-03-0001 Base.edf"
    runs = [(7.3, 30.0, "Sleep stage W"), (37.3, 30.0, "Sleep stage 1"),
            (67.3, 30.0, "Sleep stage 2")]  # fmt: skip
    write_annotations_edf(base, runs, START)
    recording = Recording(signal, sfreq, "EEG", START, tmp_path / "01-03-0001 PSG.edf")
    epochs, stages = read_annotated_epochs(recording, base, 30.0)
    assert epochs.shape == (2, 7680)  # the third runs past the 90-s signal
    np.testing.assert_array_equal(epochs[:, 0], [round(7.3 * sfreq), round(37.3 * sfreq)])
    np.testing.assert_array_equal(stages, [0, 1])


def test_base_file_starting_later_moves_the_onsets(tmp_path):
    sfreq = 10.0
    signal = np.arange(900, dtype=np.float32)  # 90 s
    base = tmp_path / "01-03-0001 Base.edf"
    write_annotations_edf(base, [(7.0, 30.0, "Sleep stage 2")], START + dt.timedelta(seconds=2))
    recording = Recording(signal, sfreq, "EEG", START, tmp_path / "01-03-0001 PSG.edf")
    epochs, _ = read_annotated_epochs(recording, base, 30.0)
    assert epochs[0, 0] == 90  # 7 s after a start 2 s into the recording


@pytest.mark.parametrize(("subset", "epoch_sec"), [(3, 30.0), (5, 20.0)])
def test_simulated_mass_cohort_prepares_at_256_hz(tmp_path, subset, epoch_sec):
    cohort = simulate_mass_cohort(tmp_path / "rec", subset, [1, 2], n_epochs=60)
    # MASS's layout: both files per night, a first epoch after the first sample, both names
    assert all(cohort["psg"].map(lambda p: p.is_file()) & cohort["base"].map(lambda p: p.is_file()))
    assert set(cohort["eeg_channel"]) == {"EEG F4-CLE", "EEG F4-LER"}
    assert (cohort["offset_sec"] > 0).all() and set(cohort["epoch_sec"]) == {epoch_sec}
    manifest = prepare(tmp_path / "rec", tmp_path / "prepared", dataset=f"mass-ss{subset}",
                       progress=False)  # fmt: skip
    nights = load_nights(tmp_path / "prepared")
    assert [n.subject for n in nights] == ["0001", "0002"]
    for night, offset in zip(nights, cohort["offset_sec"], strict=True):
        assert night.sfreq == 256.0
        assert night.signal_uv.shape[1] == 256 * epoch_sec  # 5,120 samples for 20-s epochs
        assert night.channel == "EEG F4-CLE|EEG F4-LER minus EOG Left Horiz"
        # every scored epoch but the last, which runs past the signal; '?' epochs dropped
        scored = mne.read_annotations(tmp_path / "rec" / f"{night.name} Base.edf").description
        assert night.n_epochs == np.sum(scored[:-1] != "Sleep stage ?")
        # the first epoch is the derived signal from the first annotation's onset
        raw = mne.io.read_raw_edf(tmp_path / "rec" / f"{night.name} PSG.edf", verbose="error")
        eeg = [c for c in raw.ch_names if c.startswith("EEG F4")]
        derived = np.subtract(*raw.get_data([*eeg, "EOG Left Horiz"], units="uV"))
        first = round(offset * 256)
        if night.stages[0] != UNSCORED:
            np.testing.assert_allclose(
                night.signal_uv[0], derived[first : first + night.signal_uv.shape[1]], atol=1e-3
            )
    assert set(manifest["sfreq"]) == {256.0}


def test_an_annotation_lasting_far_past_or_before_the_signal_gives_only_its_epochs():
    # 1e12 s would be 3e10 epochs (hundreds of GiB) if the onsets followed the annotation
    runs = [(-1e12, 1e12 + 20.0, "Sleep stage W"), (20.0, 1e12, "Sleep stage 2")]
    starts, stages = annotated_epochs(annotations(*runs), 1000, 10.0, 20.0)
    np.testing.assert_array_equal(starts, [0, 200, 400, 600, 800])
    np.testing.assert_array_equal(stages, [0, 2, 2, 2, 2])
