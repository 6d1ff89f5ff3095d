"""``prepare`` on a real Sleep-EDF night (SC4001E0): the counts every implementation of the
authors' preparation gives, and the signal as recorded."""

from __future__ import annotations

from pathlib import Path

import mne
import numpy as np
import pandas as pd

from tinysleepnet.data.nights import load_nights
from tinysleepnet.stages import STAGES

from ..conftest import REAL_PSG


def test_prepare_gives_the_authors_841_epochs(real_prepared: Path) -> None:
    manifest = pd.read_csv(real_prepared / "manifest.csv", dtype={"subject": str})
    assert manifest[["name", "subject", "night", "n_epochs"]].values.tolist() == [
        ["SC4001E0", "00", 1, 841]
    ]
    (night,) = load_nights(real_prepared)
    counts = dict(zip(STAGES, np.bincount(night.stages, minlength=5).tolist(), strict=True))
    assert counts == {"W": 188, "N1": 58, "N2": 250, "N3": 220, "REM": 125}


def test_prepared_signal_is_the_recorded_fpz_cz(real_prepared: Path) -> None:
    (night,) = load_nights(real_prepared)
    raw = mne.io.read_raw_edf(REAL_PSG, include=["EEG Fpz-Cz"], verbose="error")
    recorded = raw.get_data(units="uV")[0].astype(np.float32)
    # the kept stretch starts 30 min before the first sleep epoch: epoch 61 of the file
    first = 61 * 3000
    assert night.sfreq == 100.0 and night.channel == "EEG Fpz-Cz"
    np.testing.assert_array_equal(night.signal_uv.reshape(-1), recorded[first : first + 841 * 3000])
    assert night.start.startswith("1989-04-24T23:43:00")


def test_stage_amplitudes_are_those_of_real_fpz_cz(real_prepared: Path) -> None:
    """Per-stage SD of the prepared epochs (uV), as measured on the official file."""
    (night,) = load_nights(real_prepared)
    sd = {name: float(night.signal_uv[night.stages == i].std()) for i, name in enumerate(STAGES)}
    expected = {"W": 24.4, "N1": 12.7, "N2": 17.4, "N3": 32.7, "REM": 10.4}
    assert {k: round(v, 1) for k, v in sd.items()} == expected
    assert np.abs(night.signal_uv).max() == 192.0  # the converter's rail
