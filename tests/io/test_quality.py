"""Per-epoch signal quality and the amplitude check, on constructed signals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinysleepnet.errors import PathError
from tinysleepnet.io.quality import (
    QualitySettings,
    compare_amplitude,
    epoch_quality,
    live_epochs,
    median_amplitude_uv,
)

SFREQ = 100.0
SAMPLES = 3000


def eeg_like(n_epochs: int, seed: int = 0) -> np.ndarray:
    """Smooth noise of about 20 uV SD: white noise through a 5-sample moving average."""
    rng = np.random.default_rng(seed)
    white = rng.normal(0, 45, n_epochs * SAMPLES + 4)
    return np.convolve(white, np.ones(5) / 5, mode="valid").reshape(n_epochs, SAMPLES)


def test_clean_eeg_and_pure_rhythms_pass() -> None:
    t = np.arange(SAMPLES) / SFREQ
    rhythms = [
        150 * np.sin(2 * np.pi * f * t + phase) for f in (0.5, 2, 10, 25) for phase in (0, 0.3)
    ]
    quality = epoch_quality(np.vstack([eeg_like(20), rhythms]))
    assert set(quality) == {"ok"}


def test_real_n3_epoch_passes() -> None:
    # 30 s of frontal N3 EEG at 100 Hz (YASA, see tests/fixtures/real-eeg/README.md)
    path = (
        Path(__file__).parents[1] / "fixtures" / "real-eeg" / "data_N3_no-spindles_30sec_100Hz.txt"
    )
    epoch = np.loadtxt(path)[None]
    assert epoch_quality(epoch).tolist() == ["ok"]
    assert epoch_quality(epoch * 0.01).tolist() == ["flat"]  # at 1 %: SD about 0.2 uV


def test_each_failure_is_named() -> None:
    epochs = eeg_like(6)
    epochs[1, 500] = np.nan
    epochs[2, 9] = np.inf
    epochs[3] = 0.0  # electrode off
    epochs[4, ::10] = 1e5  # every 10th sample at 1e5 uV
    slow = 400 * np.sin(2 * np.pi * 1.0 * np.arange(SAMPLES) / SFREQ)
    epochs[5] = np.clip(slow + epochs[5], -250, 250)  # saturated at +-250 uV
    assert epoch_quality(epochs).tolist() == [
        "ok", "nonfinite", "nonfinite", "flat", "amplitude", "clipped",
    ]  # fmt: skip


def test_thresholds_are_settings() -> None:
    epochs = eeg_like(2)
    epochs[1] *= 0.01  # SD 0.2 uV
    assert epoch_quality(epochs).tolist() == ["ok", "flat"]
    assert epoch_quality(epochs, QualitySettings(flat_sd_uv=0.1)).tolist() == ["ok", "ok"]
    epochs[1, :20] = 5000.0  # a 0.2-s electrode pop: under 1 % of the epoch
    assert epoch_quality(epochs, QualitySettings(flat_sd_uv=0.1))[1] == "ok"
    strict = QualitySettings(flat_sd_uv=0.1, artifact_fraction=0.005)
    assert epoch_quality(epochs, strict)[1] == "amplitude"


def test_live_epochs_and_median_leave_out_flat_and_nan() -> None:
    epochs = eeg_like(40)
    epochs[0] = 0.0
    epochs[1, 3] = np.nan
    assert live_epochs(epochs).tolist() == [False, False] + [True] * 38
    scorable = epoch_quality(epochs) == "ok"
    expected = np.median(np.abs(epochs[2:]))  # estimated on every 11th sample
    assert median_amplitude_uv(epochs, scorable) == pytest.approx(expected, rel=0.03)


@pytest.mark.parametrize(("factor", "word"), [(10.0, "larger"), (0.1, "smaller")])
def test_amplitude_far_from_training_warns_with_the_factor(factor: float, word: str) -> None:
    warning = compare_amplitude(13.5 * factor, 13.5, "night.edf")
    assert warning is not None and warning.startswith("night.edf: ")
    assert f"10.0 times {word}" in warning


def test_amplitude_close_to_training_passes_and_far_off_is_refused() -> None:
    assert compare_amplitude(13.5 * 3, 13.5, "night.edf") is None
    assert compare_amplitude(13.5 / 3, 13.5, "night.edf") is None
    with pytest.raises(PathError, match=r"50\.0 times larger .* refused"):
        compare_amplitude(13.5 * 50, 13.5, "night.edf")
