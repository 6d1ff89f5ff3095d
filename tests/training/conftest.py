"""Tiny nights and settings that make a training run take a fraction of a second."""

from __future__ import annotations

import numpy as np
import pytest

from tinysleepnet.config import Config
from tinysleepnet.data.nights import Night

#: Frequency (Hz) of the sine wave that encodes each stage in the toy nights.
STAGE_FREQUENCIES = (1.0, 3.0, 6.0, 10.0, 15.0)


@pytest.fixture
def tiny_config() -> Config:
    """A small network on 3-s epochs at 100 Hz: the paper's recipe, scaled down."""
    return Config(
        epoch_sec=3.0,
        n_filters=8,
        lstm_units=16,
        batch_nights=2,
        seq_len=5,
        lr=3e-3,
        max_skip_epochs=2,
        max_passes=2,
        patience=5,
        device="cpu",
    )


def toy_night(name: str, n_epochs: int, config: Config, seed: int) -> Night:
    """A night whose stage sets the frequency of a noisy sine: trivially separable."""
    rng = np.random.default_rng(seed)
    stages = rng.integers(0, 5, n_epochs)
    t = np.arange(config.epoch_samples) / config.sfreq
    freqs = np.asarray(STAGE_FREQUENCIES)[stages]
    phase = rng.uniform(0, 2 * np.pi, (n_epochs, 1))
    signal = 40 * np.sin(2 * np.pi * freqs[:, None] * t + phase)
    signal += rng.normal(0, 5, signal.shape)
    return Night(
        signal_uv=signal.astype(np.float32),
        stages=stages.astype(np.int64),
        sfreq=config.sfreq,
        channel="EEG Fpz-Cz",
        subject=name[:2],
        night=1,
        start="",
        name=name,
    )


@pytest.fixture
def toy_nights(tiny_config: Config) -> tuple[list[Night], list[Night]]:
    """Four training nights of 30-45 epochs and two validation nights."""
    train = [toy_night(f"{i:02d}", 30 + 5 * i, tiny_config, seed=i) for i in range(4)]
    valid = [toy_night(f"{i:02d}", 30, tiny_config, seed=i) for i in range(10, 12)]
    return train, valid
