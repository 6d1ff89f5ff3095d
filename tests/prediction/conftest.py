"""Fixtures for staging tests: a small seeded network, its checkpoint and EDF recordings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from tinysleepnet.config import Config
from tinysleepnet.io.edf_writer import EdfChannel, write_edf
from tinysleepnet.nn.checkpoint import save_checkpoint
from tinysleepnet.nn.model import TinySleepNet

#: Start written into every fixture recording.
START = dt.datetime(2024, 3, 1, 23, 15, 0)

#: Channels of a Sleep-EDF cassette recording's EEG.
CHANNELS = ("EEG Fpz-Cz", "EEG Pz-Oz")


@pytest.fixture(scope="session")
def model() -> TinySleepNet:
    """A random-weight network, narrow so the tests run fast, at 100 Hz on EEG Fpz-Cz."""
    torch.manual_seed(0)
    return TinySleepNet(Config(n_filters=8, lstm_units=16)).eval()


@pytest.fixture(scope="session")
def checkpoint(model: TinySleepNet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "model.pt"
    save_checkpoint(path, model, model.config)
    return path


@pytest.fixture(scope="session")
def make_recording() -> Callable[..., Path]:
    """Factory writing a Sleep-EDF-like EDF+: white noise of 20 uV SD on each EEG channel.

    ``scale`` multiplies the values written while the header still says ``unit`` (so
    ``scale=1e-6`` gives a file in volts labelled microvolts).
    """

    def make(
        path: Path,
        n_epochs: int = 24,
        sfreq: float = 100.0,
        scale: float = 1.0,
        channels: tuple[str, ...] = CHANNELS,
        seed: int = 0,
    ) -> Path:
        rng = np.random.default_rng(seed)
        n_samples = round(n_epochs * 30 * sfreq)
        signals = [
            EdfChannel(label, rng.normal(0.0, 20.0, n_samples) * scale, sfreq) for label in channels
        ]
        write_edf(path, signals, START)
        return path

    return make


@pytest.fixture(scope="session")
def recording(
    make_recording: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A 16-epoch (8-min) recording at 100 Hz."""
    return make_recording(tmp_path_factory.mktemp("recordings") / "night-PSG.edf", n_epochs=16)
