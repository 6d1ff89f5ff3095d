"""What amplifiers add to EEG (a DC offset, a slow drift, mains hum) is filtered out before
staging, as the training nights' band was (Sleep-EDF: high-passed at 0.5 Hz)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinysleepnet.data.simulate import simulate_eeg
from tinysleepnet.nn.checkpoint import save_checkpoint
from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.prediction.stage import stage

SFREQ = 100.0
#: A simulated night of 200 epochs: wake, light, deep and REM sleep in blocks.
STAGES = np.repeat([0, 1, 2, 3, 2, 4, 2, 3, 4, 0], 20)
TIME_S = np.arange(STAGES.size * 30 * int(SFREQ)) / SFREQ


@pytest.fixture(scope="module")
def clean() -> np.ndarray:
    return simulate_eeg(STAGES, SFREQ, rng=0).astype(np.float64)


@pytest.fixture(scope="module")
def with_reference(model: TinySleepNet, clean, tmp_path_factory) -> Path:
    """The test network with the median |x| of its 'training nights' (the clean night)."""
    path = tmp_path_factory.mktemp("model") / "model.pt"
    reference = float(np.median(np.abs(clean)))
    save_checkpoint(path, model, model.config, reference_amplitude_uv=reference)
    return path


@pytest.mark.parametrize(
    "added",
    [
        pytest.param(np.full(TIME_S.size, 5000.0), id="5 mV DC offset"),
        pytest.param(800.0 * np.sin(2 * np.pi * TIME_S / 600.0), id="800 uV drift, 10-min period"),
        pytest.param(800.0 * TIME_S / TIME_S[-1], id="800 uV linear drift"),
        pytest.param(100.0 * np.sin(2 * np.pi * 50.0 * TIME_S + 0.3), id="100 uV of 50 Hz mains"),
    ],
)
def test_amplifier_signals_are_filtered_out(clean, with_reference, added):
    expected = stage((clean, SFREQ), model=with_reference)
    result = stage((clean + added, SFREQ), model=with_reference)  # neither refused nor warned
    assert result.warnings == []
    assert np.mean(result.quality == "ok") >= 0.99
    assert np.mean(result.stages == expected.stages) >= 0.95
    assert np.nanmean(np.abs(result.proba - expected.proba)) < 0.01  # not only the argmax
