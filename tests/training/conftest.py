"""Tiny nights and settings that make a training run take a fraction of a second."""

from __future__ import annotations

import numpy as np
import pytest

from tinysleepnet.config import Config
from tinysleepnet.data.nights import Night

from ..conftest import sine_night


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
    """A :func:`~tests.conftest.sine_night` at the config's rate and epoch length."""
    rng = np.random.default_rng(seed)
    return sine_night(rng, n_epochs, config.epoch_samples, config.sfreq, name=name,
                      subject=name[:2], noise_uv=5.0)  # fmt: skip


@pytest.fixture
def toy_nights(tiny_config: Config) -> tuple[list[Night], list[Night]]:
    """Four training nights of 30-45 epochs and two validation nights."""
    train = [toy_night(f"{i:02d}", 30 + 5 * i, tiny_config, seed=i) for i in range(4)]
    valid = [toy_night(f"{i:02d}", 30, tiny_config, seed=i) for i in range(10, 12)]
    return train, valid
