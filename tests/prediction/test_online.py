from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinysleepnet.io.quality import QualitySettings
from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.prediction.online import Stager, replay
from tinysleepnet.prediction.result import StagingResult
from tinysleepnet.prediction.sources import read_recording
from tinysleepnet.prediction.stage import stage

EPOCH = 3000  # samples in one 30-s epoch at 100 Hz


@pytest.fixture(scope="module")
def signal(recording: Path, model: TinySleepNet) -> np.ndarray:
    return read_recording(recording, None, model).signal_uv


@pytest.fixture(scope="module")
def offline(recording: Path, model: TinySleepNet) -> StagingResult:
    return stage(recording, model=model)


def push_blocks(stager: Stager, signal: np.ndarray, sizes: list[int]) -> list[tuple]:
    """Push ``signal`` in consecutive blocks of the given sizes (cycled); all reports."""
    reports, first, i = [], 0, 0
    while first < signal.size:
        size = sizes[i % len(sizes)]
        reports += stager.push(signal[first : first + size])
        first, i = first + size, i + 1
    return reports


def test_epoch_by_epoch_matches_whole_night(
    signal: np.ndarray, offline: StagingResult, model: TinySleepNet
) -> None:
    stager = Stager(model)
    for index in range(offline.n_epochs):
        ((got_index, got_stage, proba),) = stager.push(signal[index * EPOCH : (index + 1) * EPOCH])
        assert got_index == index
        assert got_stage == offline.stages[index]
        np.testing.assert_allclose(proba, offline.proba[index], atol=1e-5)


@pytest.mark.parametrize("sizes", [[1], [7, 1234, 4999], [EPOCH * 5 + 1, 17], [10**6]])
def test_any_block_sizes_match_whole_night(
    signal: np.ndarray, offline: StagingResult, model: TinySleepNet, sizes: list[int]
) -> None:
    stager = Stager(model, chunk_epochs=4)  # the one-block case goes through several chunks
    reports = push_blocks(stager, signal[: EPOCH * 3 + 123] if sizes == [1] else signal, sizes)
    n_epochs = len(reports)
    assert [index for index, _, _ in reports] == list(range(n_epochs))
    assert [stage for _, stage, _ in reports] == offline.stages[:n_epochs].tolist()
    online = stager.result()
    assert online.n_epochs == n_epochs == (3 if sizes == [1] else offline.n_epochs)
    np.testing.assert_allclose(online.proba, offline.proba[:n_epochs], atol=1e-5)


def test_nothing_reported_before_an_epoch_completes(
    signal: np.ndarray, model: TinySleepNet
) -> None:
    stager = Stager(model)
    assert stager.push(signal[: EPOCH - 1]) == []
    assert stager.n_epochs == 0
    assert [index for index, _, _ in stager.push(signal[EPOCH - 1 : EPOCH + 1])] == [0]


def test_reset_starts_a_new_night(signal: np.ndarray, model: TinySleepNet) -> None:
    stager = Stager(model)
    first = stager.push(signal[:EPOCH])[0][2]
    stager.push(signal[EPOCH : 3 * EPOCH + 10])
    stager.reset()
    assert stager.n_epochs == 0
    np.testing.assert_array_equal(stager.push(signal[:EPOCH])[0][2], first)


def test_replay_matches_stage(
    recording: Path, offline: StagingResult, model: TinySleepNet, checkpoint: Path
) -> None:
    online = replay(read_recording(recording, None, model), checkpoint, block_sec=0.7)
    assert online.start == offline.start
    np.testing.assert_array_equal(online.stages, offline.stages)
    np.testing.assert_allclose(online.proba, offline.proba, atol=1e-5)


def test_quality_thresholds_are_those_given(
    recording: Path, model: TinySleepNet, signal: np.ndarray
) -> None:
    # A threshold between the epochs' amplitudes: some epochs pass, the rest are "amplitude".
    peaks = np.abs(signal[: signal.size // EPOCH * EPOCH].reshape(-1, EPOCH)).max(axis=1)
    strict = QualitySettings(artifact_uv=float(np.median(peaks)), artifact_fraction=0.0)
    offline = stage(recording, model=model, quality=strict)
    assert 0 < offline.scorable.sum() < offline.n_epochs
    online = replay(read_recording(recording, None, model), model, quality=strict)
    np.testing.assert_array_equal(online.quality, offline.quality)
    np.testing.assert_array_equal(online.stages, offline.stages)
