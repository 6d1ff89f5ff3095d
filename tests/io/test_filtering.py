"""The filter to the training nights' band: offsets, drift and mains out, EEG kept."""

from __future__ import annotations

import numpy as np
import pytest

from tinysleepnet.io.filtering import SignalFilter, filter_sections, mains_harmonics
from tinysleepnet.io.quality import epoch_quality, mains_share


def _tone(frequency: float, sfreq: float, seconds: float = 60.0, amplitude: float = 100.0):
    t = np.arange(round(seconds * sfreq)) / sfreq
    return amplitude * np.sin(2 * np.pi * frequency * t)


@pytest.mark.parametrize("sfreq", [100.0, 128.0, 200.0, 256.0])
def test_mains_is_removed_and_sleep_frequencies_kept(sfreq):
    steady = slice(round(10 * sfreq), None)  # after the filter settled
    for mains in (50.0, 60.0):
        if mains <= sfreq / 2:
            out = SignalFilter(sfreq, 0.5)(_tone(mains, sfreq))[steady]
            assert np.abs(out).max() < 5.0, (sfreq, mains)  # 100 uV -> under 5
    for frequency in (1.0, 2.0, 10.0, 14.0, 30.0):  # delta, alpha, spindles, beta
        out = SignalFilter(sfreq, 0.5)(_tone(frequency, sfreq))[steady]
        assert 80.0 < np.abs(out).max() < 110.0, (sfreq, frequency)


def test_an_offset_starts_no_transient_and_a_drift_is_removed():
    rng = np.random.default_rng(0)
    eeg = rng.normal(0, 20, 6000)
    offset = SignalFilter(100.0, 0.5)(eeg + 5000.0)
    assert np.abs(offset).max() < 150  # from the first sample on
    drift = 800.0 * np.linspace(0, 1, 6000) ** 2
    assert np.abs(SignalFilter(100.0, 0.5)(eeg + drift)).max() < 150


def test_blocks_give_the_samples_of_one_pass_and_nan_passes_through():
    signal = np.random.default_rng(1).normal(0, 20, 5000) + 300.0
    signal[1200:1300] = np.nan
    whole = SignalFilter(100.0, 0.5)(signal)
    band = SignalFilter(100.0, 0.5)
    blocks = np.concatenate([band(signal[i : i + 77]) for i in range(0, signal.size, 77)])
    np.testing.assert_allclose(blocks, whole, atol=1e-3)
    assert np.isnan(whole[1200:1300]).all() and np.isfinite(whole[1300:]).all()


def test_no_filter_without_highpass_or_mains():
    assert mains_harmonics(40.0) == []
    assert len(filter_sections(40.0, 0.0)) == 0
    assert mains_harmonics(256.0) == [50.0, 60.0, 100.0, 120.0]


def test_an_epoch_still_dominated_by_mains_is_flagged():
    sfreq = 250.0
    rng = np.random.default_rng(2)
    eeg = rng.normal(0, 20, (4, 30 * 250))
    t = np.arange(eeg.shape[1]) / sfreq
    eeg[1] += 200.0 * np.sin(2 * np.pi * 50.2 * t)  # mains off the notch, 10 x the EEG
    # white noise holds 8 Hz of the 125 Hz band there (6 %); sleep EEG far less
    assert mains_share(eeg, sfreq)[1] > 0.9 and mains_share(eeg, sfreq)[0] < 0.1
    assert epoch_quality(eeg, sfreq=sfreq).tolist() == ["ok", "mains", "ok", "ok"]
    assert epoch_quality(eeg).tolist() == ["ok"] * 4  # no rate given: not checked
