from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import mne
import numpy as np
import pytest

from tinysleepnet.errors import PathError, TinySleepNetError
from tinysleepnet.io.filtering import SignalFilter
from tinysleepnet.io.quality import check_microvolts
from tinysleepnet.nn.inference import predict_proba
from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.prediction.stage import stage
from tinysleepnet.stages import N_STAGES

START_UTC = dt.datetime(2024, 3, 1, 23, 15, tzinfo=dt.UTC)


def test_stage_file(recording: Path, model: TinySleepNet) -> None:
    result = stage(recording, model=model)
    assert result.proba.shape == (16, N_STAGES)
    np.testing.assert_allclose(result.proba.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(result.stages, result.proba.argmax(axis=1))
    assert result.start == START_UTC
    assert result.epoch_sec == 30.0
    # The whole night in one pass, state carried: same as predict_proba on the epochs
    # filtered to the training nights' band.
    raw = mne.io.read_raw_edf(recording, include=["EEG Fpz-Cz"], verbose="error")
    band = SignalFilter(100.0, model.config.highpass_hz)
    epochs = band(raw.get_data(units="uV")[0]).reshape(16, 3000)
    np.testing.assert_allclose(result.proba, predict_proba(model, [epochs])[0], atol=1e-6)


def test_checkpoint_path_raw_and_array_give_the_same_staging(
    recording: Path, model: TinySleepNet, checkpoint: Path
) -> None:
    expected = stage(recording, model=model).proba
    raw = mne.io.read_raw_edf(recording, verbose="error")
    signal = raw.get_data(picks="EEG Fpz-Cz", units="uV")[0]
    np.testing.assert_allclose(stage(recording, model=checkpoint).proba, expected, atol=1e-6)
    np.testing.assert_allclose(stage(raw, model=model).proba, expected, atol=1e-6)
    np.testing.assert_allclose(stage((signal, 100.0), model=model).proba, expected, atol=1e-6)


def test_other_channel_and_start(recording: Path, model: TinySleepNet) -> None:
    start = dt.datetime(2020, 1, 1, 22, 0)
    result = stage(recording, model, channel="EEG Pz-Oz", start=start)
    assert result.start == start
    assert not np.allclose(result.proba, stage(recording, model=model).proba)


def test_higher_rate_is_resampled(
    make_recording: Callable[..., Path], model: TinySleepNet, tmp_path: Path
) -> None:
    path = make_recording(tmp_path / "fast.edf", n_epochs=6, sfreq=256.0)
    assert stage(path, model=model).n_epochs == 6
    raw = mne.io.read_raw_edf(path, verbose="error")
    assert stage(raw, model=model).n_epochs == 6


def test_lower_rate_is_refused(
    make_recording: Callable[..., Path], model: TinySleepNet, tmp_path: Path
) -> None:
    path = make_recording(tmp_path / "slow.edf", n_epochs=4, sfreq=50.0)
    with pytest.raises(PathError, match="50 Hz") as info:
        stage(path, model=model)
    assert info.value.path == path
    with pytest.raises(PathError, match="50 Hz"):
        stage((np.zeros(6000) + 20.0, 50.0), model=model)


@pytest.mark.parametrize(
    ("scale", "found"),
    [(1e-6, "in volts"), (1e-3, "in millivolts"), (1e3, "nanovolts or raw ADC counts")],
)
def test_signal_not_in_microvolts_is_refused(
    make_recording: Callable[..., Path],
    model: TinySleepNet,
    tmp_path: Path,
    scale: float,
    found: str,
) -> None:
    # The header says uV, the values are another scale.
    path = make_recording(tmp_path / "scaled.edf", n_epochs=2, scale=scale)
    with pytest.raises(PathError, match=found) as info:
        stage(path, model=model)
    message = str(info.value)
    assert message.startswith(str(path)) and "expected microvolts" in message
    signal = mne.io.read_raw_edf(path, verbose="error").get_data("EEG Fpz-Cz", units="uV")
    assert f"median |x| {np.median(np.abs(signal)):.2g} uV" in message


def test_flat_signal_is_refused() -> None:
    with pytest.raises(PathError, match="flat"):
        check_microvolts(np.zeros(3000), "x.edf")
    check_microvolts(np.random.default_rng(0).normal(0, 20, 3000), "x.edf")


def test_missing_channel_lists_eeg_channels(recording: Path, model: TinySleepNet) -> None:
    with pytest.raises(PathError, match="'EEG C4-A1' not found") as info:
        stage(recording, model, channel="EEG C4-A1")
    assert "'EEG Fpz-Cz', 'EEG Pz-Oz'" in str(info.value)
    raw = mne.io.read_raw_edf(recording, verbose="error")
    with pytest.raises(PathError, match="EEG Pz-Oz"):
        stage(raw, model, channel="EEG C4-A1")


def test_partial_last_epoch_is_dropped_and_short_signal_refused(model: TinySleepNet) -> None:
    signal = np.random.default_rng(0).normal(0, 20, 3000 * 5 + 1700)
    assert stage((signal, 100.0), model=model).n_epochs == 5
    with pytest.raises(PathError, match="<array>: empty recording"):
        stage((signal[:2999], 100.0), model=model)


def test_model_is_required(recording: Path) -> None:
    with pytest.raises(TinySleepNetError, match="no model"):
        stage(recording)


def test_options_are_keyword_only(recording, model):
    with pytest.raises(TypeError):
        stage(recording, model, "EEG Fpz-Cz")
