"""Reading a real Sleep-EDF recording (SC4001E0): every EEG/EOG channel, and the
signal-quality checks, which must not flag a clean real night."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tinysleepnet.io.quality import OK, check_microvolts, epoch_quality
from tinysleepnet.io.recordings import read_eeg

from ..conftest import REAL_PSG


@pytest.mark.parametrize(
    ("channel", "rail_uv"),
    [("EEG Fpz-Cz", 192.0), ("EEG Pz-Oz", 197.0), ("EOG horizontal", 1009.0)],
)
def test_reads_each_channel_in_microvolts(channel: str, rail_uv: float) -> None:
    recording = read_eeg(REAL_PSG, channel)
    assert recording.sfreq == 100.0 and recording.channel == channel
    assert recording.signal_uv.shape == (960 * 3000,)
    assert recording.start == dt.datetime(1989, 4, 24, 23, 43, tzinfo=dt.UTC)
    assert np.abs(recording.signal_uv).max() <= rail_uv
    assert 5.0 < recording.signal_uv.std() < 100.0  # microvolts, not volts or counts
    check_microvolts(recording.signal_uv, REAL_PSG)  # no refusal


@pytest.mark.parametrize("channel", ["EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal"])
def test_a_clean_real_night_is_not_flagged(channel: str) -> None:
    """8 h of a real night: no epoch flagged, although the EEG touches its converter's rails
    (isolated samples at +/-192 uV, too short and too few to count as clipping)."""
    signal = read_eeg(REAL_PSG, channel).signal_uv.reshape(960, 3000)
    quality = epoch_quality(signal)
    assert set(quality.tolist()) == {OK}
    if channel == "EEG Fpz-Cz":
        assert np.any(np.abs(signal) >= 192.0)
