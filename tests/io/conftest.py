"""Fixtures of the reader tests: the pyedflib EDF+ files and small EDF files written here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tinysleepnet.io.edf_writer import EdfChannel, write_edf

EDF_FIXTURES = Path(__file__).parents[1] / "fixtures" / "edf-fixtures"
START = dt.datetime(1989, 4, 24, 16, 13)


@pytest.fixture
def edf_fixture() -> Callable[[str], Path]:
    """Path of a copied pyedflib fixture, e.g. ``edf_fixture("generator")``."""
    return lambda name: EDF_FIXTURES / f"pyedflib_test_{name}.edf"


@pytest.fixture
def write_recording(tmp_path: Path) -> Callable[..., Path]:
    """Write an EDF+ file of noise; channels given as ``{label: sfreq}``, length in seconds."""

    def write(
        channels: dict[str, float], duration_sec: float, name: str = "rec.edf", record_sec=30.0
    ) -> Path:
        rng = np.random.default_rng(0)
        signals = [
            EdfChannel(label, rng.normal(0, 20, round(duration_sec * sfreq)), sfreq)
            for label, sfreq in channels.items()
        ]
        path = tmp_path / name
        write_edf(path, signals, START, record_sec=record_sec)
        return path

    return write
