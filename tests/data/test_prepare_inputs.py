"""What prepare does with inputs that would otherwise give wrong training labels or signals."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import mne
import numpy as np
import pytest

from tinysleepnet.data.nights import load_night
from tinysleepnet.data.prepare import prepare
from tinysleepnet.errors import PathError
from tinysleepnet.io.edf_writer import write_annotations_edf
from tinysleepnet.stages import STAGE_TO_ANNOTATION, UNSCORED

from .test_prepare import SHORT_NIGHT, START, write_psg
from .test_prepare_integrity import EPOCH, noise, write_pairs


def write_scoring(path: Path, stages, start: dt.datetime) -> Path:
    """A hypnogram of ``stages`` (-1 = `?`) whose own start is ``start``."""
    runs, onset = [], 0.0
    for stage, run in itertools.groupby(stages):
        duration = 30.0 * len(list(run))
        runs.append(
            (onset, duration, "Sleep stage ?" if stage == UNSCORED else STAGE_TO_ANNOTATION[stage])
        )
        onset += duration
    write_annotations_edf(path, runs, start)
    return path


def _prepared(tmp_path: Path, name: str, stages, start: dt.datetime, n_epochs: int):
    src = tmp_path / name
    src.mkdir()
    write_psg(src / "SC4001E0-PSG.edf", n_epochs, {"EEG Fpz-Cz": 100.0})
    write_scoring(src / "SC4001EC-Hypnogram.edf", stages, start)
    prepare(src, tmp_path / f"{name}-out", progress=False, n_jobs=1)
    return load_night(tmp_path / f"{name}-out" / "SC4001E0.npz")


def test_a_hypnogram_starting_later_is_aligned_by_whole_epochs(tmp_path):
    n_epochs = len(SHORT_NIGHT) + 2
    later = _prepared(tmp_path, "later", SHORT_NIGHT, START + dt.timedelta(seconds=60), n_epochs)
    # the same scoring written from the recording's start, after two unscored epochs
    same = _prepared(tmp_path, "same", [UNSCORED, UNSCORED, *SHORT_NIGHT], START, n_epochs)
    np.testing.assert_array_equal(later.stages, same.stages)
    np.testing.assert_array_equal(later.signal_uv, same.signal_uv)


def test_a_hypnogram_off_the_recordings_epochs_is_refused(tmp_path):
    with pytest.raises(
        PathError, match=r"Hypnogram.edf: starts \+17 s from the recording, not a whole"
    ):
        _prepared(tmp_path, "odd", SHORT_NIGHT, START + dt.timedelta(seconds=17), len(SHORT_NIGHT))
    assert not (tmp_path / "odd-out" / "SC4001E0.npz").exists()


def _fif_night(src: Path, signal_uv: np.ndarray) -> Path:
    """``night_raw.fif`` holding ``signal_uv`` (12 epochs at 100 Hz) and its pairs CSV."""
    src.mkdir()
    info = mne.create_info(["EEG Fpz-Cz"], 100.0, "eeg")
    mne.io.RawArray(signal_uv[None] * 1e-6, info, verbose="error").save(
        src / "night_raw.fif", verbose="error"
    )
    return write_pairs(src, "night_raw.fif")


@pytest.mark.parametrize(
    ("scale", "problem"),
    [
        (
            1e-6,
            r"signal looks like it is in volts \(median \|x\| 1.3e-05 uV\), expected microvolts",
        ),
        (25.0, r"12 of 12 scored epochs fail the signal checks \(amplitude 12\): a gain or unit"),
    ],
)
def test_nights_in_volts_or_with_a_gain_error_are_refused(tmp_path, scale, problem):
    pairs = _fif_night(tmp_path / "src", noise() * scale)
    with pytest.raises(PathError, match=rf"night_raw.fif: {problem}"):
        prepare(tmp_path / "src", tmp_path / "out", pairs_csv=pairs, progress=False)
    assert not (tmp_path / "out" / "night_raw.npz").exists()


def test_flat_stretches_are_named_in_a_warning(tmp_path, caplog):
    signal = noise()
    signal[4 * EPOCH : 7 * EPOCH] = 0.0  # an electrode off for 3 epochs
    pairs = _fif_night(tmp_path / "src", signal)
    with caplog.at_level("WARNING", logger="tinysleepnet"):
        prepare(tmp_path / "src", tmp_path / "out", pairs_csv=pairs, progress=False)
    assert "night night_raw: 3 of 12 epochs fail the signal checks (flat 3)" in caplog.text
    assert load_night(tmp_path / "out" / "night_raw.npz").n_epochs == 12  # kept, as before


def test_a_full_disk_names_the_file_and_leaves_no_partial_night(tmp_path, monkeypatch):
    import errno

    pairs = _fif_night(tmp_path / "src", noise())

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", full_disk)
    out = tmp_path / "out"
    with pytest.raises(PathError, match=rf"^{out / 'night_raw.npz'}: cannot be written \(No space"):
        prepare(tmp_path / "src", out, pairs_csv=pairs, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["prepare.json"]


@pytest.mark.parametrize(
    "slow",
    [
        lambda t: np.full_like(t, 5000.0),  # a 5 mV DC offset
        lambda t: 800.0 * np.sin(2 * np.pi * t / t[-1]),  # an 800 uV drift over the night
    ],
    ids=["offset-5mV", "drift-800uV"],
)
def test_an_offset_or_drift_is_prepared_as_recorded_with_a_warning(tmp_path, caplog, slow):
    clean = noise()
    pairs = _fif_night(tmp_path / "clean", clean)
    prepare(tmp_path / "clean", tmp_path / "clean-out", pairs_csv=pairs, progress=False)
    expected = load_night(tmp_path / "clean-out" / "night_raw.npz")
    assert "DC offset" not in caplog.text
    shifted = clean + slow(np.arange(clean.size) / 100.0)
    pairs = _fif_night(tmp_path / "src", shifted)
    with caplog.at_level("WARNING", logger="tinysleepnet"):
        prepare(tmp_path / "src", tmp_path / "out", pairs_csv=pairs, progress=False)
    night = load_night(tmp_path / "out" / "night_raw.npz")
    np.testing.assert_array_equal(night.stages, expected.stages)
    # saved as recorded (offset included), not filtered
    np.testing.assert_allclose(night.signal_uv.ravel(), shifted, atol=1e-3)
    (line,) = [r.getMessage() for r in caplog.records if "DC offset" in r.getMessage()]
    assert line.startswith(f"{tmp_path / 'src' / 'night_raw.fif'}: night night_raw: a DC offset")
    assert "prepared as recorded, so training sees it" in line
