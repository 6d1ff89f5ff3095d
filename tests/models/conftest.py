"""A tiny prepared cohort whose stages are easy to tell apart, and an isolated model home."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from tinysleepnet.config import Config
from tinysleepnet.io.edf_writer import EdfChannel, write_edf
from tinysleepnet.models.store import HOME_ENV
from tinysleepnet.workflows.release import release

from ..conftest import sine_night, write_prepared

#: A small network on 3-s epochs: a release trains in about a second.
TINY = Config(
    epoch_sec=3.0,
    n_filters=4,
    lstm_units=8,
    input_scale=0.05,
    batch_nights=2,
    seq_len=10,
    lr=3e-3,
    max_skip_epochs=2,
    max_passes=2,
    patience=2,
    valid_frac=0.25,
    device="cpu",
    precision="float32",
)

def write_cohort(
    folder: Path, subjects: int, n_epochs: int = 40, gain: float = 1.0, seed: int = 0
) -> Path:
    """One :func:`~tests.conftest.sine_night` per subject, times ``gain``."""
    rng = np.random.default_rng(seed)
    nights = [
        sine_night(rng, n_epochs, TINY.epoch_samples, TINY.sfreq, name=f"SC4{subject:02d}1E0",
                   subject=f"{subject:02d}", noise_uv=10.0, gain=gain)
        for subject in range(subjects)
    ]  # fmt: skip
    return write_prepared(folder, nights)


@pytest.fixture(scope="package")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four subjects of one 40-epoch night each."""
    return write_cohort(tmp_path_factory.mktemp("prepared"), subjects=4)


@pytest.fixture(scope="package")
def released(cohort: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model released from the cohort, in a folder named 'toy'."""
    out = tmp_path_factory.mktemp("released") / "toy"
    release(cohort, out, TINY, progress=False)
    return out


@pytest.fixture(scope="package")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two minutes of noise on the model's channel."""
    path = tmp_path_factory.mktemp("rec") / "night-PSG.edf"
    signal = np.random.default_rng(0).normal(0, 20, 120 * 100)
    write_edf(path, [EdfChannel(TINY.channel, signal, 100.0)], dt.datetime(2024, 3, 1, 23, 0))
    return path


@pytest.fixture(autouse=True)
def model_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Models install into a fresh folder, never the user's."""
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    return tmp_path / "home"
