"""``prepare`` on damaged recordings: non-finite samples never reach a prepared night,
truncated files are refused unless allowed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import mne
import numpy as np
import pytest

from tinysleepnet.data.nights import load_night
from tinysleepnet.data.prepare import prepare
from tinysleepnet.errors import PathError
from tinysleepnet.io.edf_writer import EdfChannel, write_annotations_edf, write_edf
from tinysleepnet.stages import STAGE_TO_ANNOTATION

START = dt.datetime(1989, 4, 24, 16, 13)
#: 12 epochs: 2 W, sleep, 2 W; every epoch kept by a 30-min wake trim.
STAGES = [0, 0, 1, 2, 2, 2, 3, 3, 4, 4, 0, 0]
EPOCH = 3000


def noise(n_epochs: int = len(STAGES)) -> np.ndarray:
    return np.random.default_rng(0).normal(0, 20, n_epochs * EPOCH)


def write_hypnogram(path: Path) -> Path:
    runs = [(30.0 * i, 30.0, STAGE_TO_ANNOTATION[s]) for i, s in enumerate(STAGES)]
    write_annotations_edf(path, runs, START)
    return path


def write_pairs(src: Path, psg: str) -> Path:
    write_hypnogram(src / "night-stages.edf")
    pairs = src / "pairs.csv"
    pairs.write_text(f"psg,hypnogram,subject,night\n{psg},night-stages.edf,01,1\n")
    return pairs


def test_epochs_with_nan_or_inf_are_dropped_with_a_warning(tmp_path, caplog):
    src = tmp_path / "src"
    src.mkdir()
    signal = noise()
    signal[3 * EPOCH + 10 : 3 * EPOCH + 200] = np.nan
    signal[7 * EPOCH + 5] = np.inf
    info = mne.create_info(["EEG Fpz-Cz"], 100.0, "eeg")
    raw = mne.io.RawArray(signal[None] * 1e-6, info, verbose="error")
    raw.save(src / "night_raw.fif", verbose="error")
    pairs = write_pairs(src, "night_raw.fif")
    with caplog.at_level("WARNING", logger="tinysleepnet"):
        manifest = prepare(src, tmp_path / "out", pairs_csv=pairs, progress=False)
    night = load_night(tmp_path / "out" / "night_raw.npz")
    assert np.isfinite(night.signal_uv).all()
    assert night.n_epochs == manifest["n_epochs"][0] == len(STAGES) - 2
    np.testing.assert_array_equal(night.stages, np.delete(STAGES, [3, 7]))
    assert (
        "night night_raw: 2 of 12 epochs fail the signal checks (nonfinite 2); the non-finite"
        in caplog.text
    )


def test_truncated_edf_is_refused_unless_allowed(tmp_path, caplog):
    src = tmp_path / "src"
    src.mkdir()
    psg = src / "night.edf"
    write_edf(psg, [EdfChannel("EEG Fpz-Cz", noise(), 100.0, "uV", (-100, 100))], START)
    data = psg.read_bytes()
    psg.write_bytes(data[: len(data) * 2 // 3])
    pairs = write_pairs(src, "night.edf")
    with pytest.raises(PathError, match="truncated: the header declares 12 data records"):
        prepare(src, tmp_path / "out", pairs_csv=pairs, progress=False)
    assert not (tmp_path / "out" / "night.npz").exists()
    with caplog.at_level("WARNING", logger="tinysleepnet"):
        prepare(src, tmp_path / "out", pairs_csv=pairs, progress=False, allow_truncated=True)
    assert load_night(tmp_path / "out" / "night.npz").n_epochs == 7
    assert "truncated" in caplog.text
