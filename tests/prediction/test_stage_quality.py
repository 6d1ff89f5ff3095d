"""Staging hostile recordings: unscorable epochs marked and skipped, implausible ones refused."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import mne
import numpy as np
import pandas as pd
import pytest

from tinysleepnet.errors import PathError
from tinysleepnet.io.edf_writer import EdfChannel, write_edf
from tinysleepnet.io.filtering import SignalFilter
from tinysleepnet.nn.checkpoint import save_checkpoint
from tinysleepnet.nn.inference import predict_proba
from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.prediction.online import replay
from tinysleepnet.prediction.sources import read_recording
from tinysleepnet.prediction.stage import stage
from tinysleepnet.stages import UNSCORED

from .conftest import START

N_EPOCHS = 20
EPOCH = 3000  # samples of a 30-s epoch at 100 Hz


def noise(seed: int = 0, scale: float = 1.0) -> np.ndarray:
    """A night of N_EPOCHS epochs of 20-uV white noise, in uV."""
    return np.random.default_rng(seed).normal(0.0, 20.0, N_EPOCHS * EPOCH) * scale


def write_fif(path: Path, signal_uv: np.ndarray) -> Path:
    info = mne.create_info(["EEG Fpz-Cz"], 100.0, "eeg")
    raw = mne.io.RawArray(signal_uv[None] * 1e-6, info, verbose="error")
    raw.set_meas_date(START.replace(tzinfo=dt.UTC))
    raw.save(path, verbose="error")
    return path


def write_eeg_edf(path: Path, signal_uv: np.ndarray, physical_range=None) -> Path:
    write_edf(
        path, [EdfChannel("EEG Fpz-Cz", signal_uv, 100.0, physical_range=physical_range)], START
    )
    return path


def test_nan_and_inf_epochs_are_skipped_without_poisoning_the_state(
    model: TinySleepNet, tmp_path: Path
) -> None:
    signal = noise()
    signal[5 * EPOCH : 6 * EPOCH] = np.nan  # 30 s of NaN
    signal[12 * EPOCH + 7] = np.inf
    result = stage(write_fif(tmp_path / "night_raw.fif", signal), model=model)
    bad = np.isin(np.arange(N_EPOCHS), [5, 12])
    assert result.quality[bad].tolist() == ["nonfinite", "nonfinite"]
    assert set(result.quality[~bad]) == {"ok"}
    assert (result.stages[bad] == UNSCORED).all() and np.isnan(result.proba[bad]).all()
    # the network ran over the scorable epochs alone, its state carried across the gaps
    recording = read_recording(tmp_path / "night_raw.fif", None, model)
    epochs = SignalFilter(100.0, model.config.highpass_hz)(recording.signal_uv)
    (expected,) = predict_proba(model, [epochs.reshape(-1, EPOCH)[~bad]])
    np.testing.assert_allclose(result.proba[~bad], expected, atol=1e-6)
    stats = result.statistics()
    assert stats["excluded_epochs"] == 2 and stats["excluded_min"] == 1.0
    # online staging skips them the same way
    online = replay(read_recording(tmp_path / "night_raw.fif", None, model), model)
    assert online.quality.tolist() == result.quality.tolist()
    np.testing.assert_allclose(online.proba, result.proba, atol=1e-4)


def test_flat_stretch_is_marked_and_excluded_from_the_statistics(
    model: TinySleepNet, tmp_path: Path
) -> None:
    signal = noise()
    signal[12 * EPOCH :] = 0.0  # the last 40 % flat: electrode off
    result = stage(write_eeg_edf(tmp_path / "flat.edf", signal), model=model)
    assert result.quality.tolist() == ["ok"] * 12 + ["flat"] * 8
    stats = result.statistics()
    assert stats["excluded_min"] == 4.0 and stats["tib_min"] == 10.0
    assert stats["se_pct"] == pytest.approx(100 * stats["tst_min"] / 6.0)
    result.save(tmp_path / "out", "flat")
    frame = pd.read_csv(tmp_path / "out" / "flat_hypnogram.csv")
    assert frame["quality"].tolist() == result.quality.tolist()
    assert frame["stage"].iloc[12:].eq("?").all() and frame["prob_W"].iloc[12:].isna().all()
    annotations = mne.read_annotations(tmp_path / "out" / "flat_hypnogram.edf")
    flat = [a for a in annotations if a["description"] == "Unscorable signal: flat"]
    assert len(flat) == 1 and flat[0]["onset"] == 360.0 and flat[0]["duration"] == 240.0
    table = (tmp_path / "out" / "flat_statistics.txt").read_text()
    assert re.search(r"Unscorable signal, excluded \(min\) +4\.0\n", table)
    labels = [t.get_text() for t in result.plot().axes[1].get_legend().get_texts()]
    assert "unscorable" in labels


def test_all_zero_recording_is_refused_as_flat(model: TinySleepNet, tmp_path: Path) -> None:
    path = write_eeg_edf(tmp_path / "zero.edf", np.zeros(N_EPOCHS * EPOCH), (-200.0, 200.0))
    with pytest.raises(PathError, match="flat") as info:
        stage(path, model=model)
    assert "volts" not in str(info.value)


def test_spikes_every_tenth_sample_mark_the_epochs(model: TinySleepNet, tmp_path: Path) -> None:
    signal = noise()
    spiked = slice(5 * EPOCH, 10 * EPOCH)
    signal[spiked][::10] = 1e5
    path = write_eeg_edf(tmp_path / "spikes.edf", signal, (-1e5, 1e5))
    result = stage(path, model=model)
    # the epoch after them carries the high-pass settling from their 10-mV mean
    assert result.quality.tolist() == ["ok"] * 5 + ["amplitude"] * 6 + ["ok"] * 9
    signal = noise()
    signal[::10] = 1e5  # the whole night
    path = write_eeg_edf(tmp_path / "all_spikes.edf", signal, (-1e5, 1e5))
    with pytest.raises(PathError, match=r"no scorable epoch \(20 amplitude\)"):
        stage(path, model=model)


@pytest.fixture(scope="module")
def checkpoint_with_reference(
    model: TinySleepNet, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The model with the median |x| of its 'training nights', 20-uV noise (13.5 uV)."""
    path = tmp_path_factory.mktemp("model") / "ref.pt"
    reference = float(np.median(np.abs(noise(seed=1))))
    save_checkpoint(path, model, model.config, reference_amplitude_uv=reference)
    return path


@pytest.mark.parametrize(("scale", "word"), [(10.0, "larger"), (0.1, "smaller")])
def test_scaled_recording_is_warned_about_with_the_factor(
    make_recording: Callable[..., Path],
    checkpoint_with_reference: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    scale: float,
    word: str,
) -> None:
    path = make_recording(tmp_path / "scaled.edf", n_epochs=4, scale=scale)
    with caplog.at_level("WARNING", logger="tinysleepnet"):
        result = stage(path, model=checkpoint_with_reference)
    (warning,) = result.warnings
    factor = float(warning.split(" times ")[0].rsplit(" ", 1)[1])
    assert 8.0 < factor < 12.0 and f"times {word} than the model's training nights'" in warning
    assert warning in caplog.text


def test_recording_far_off_the_training_amplitude_is_refused(
    make_recording: Callable[..., Path], checkpoint_with_reference: Path, tmp_path: Path
) -> None:
    path = make_recording(tmp_path / "gain.edf", n_epochs=2, scale=50.0)
    with pytest.raises(PathError, match=r"times larger .* refused"):
        stage(path, model=checkpoint_with_reference)


def test_clean_night_has_no_warning_and_records_its_provenance(
    recording: Path, checkpoint_with_reference: Path
) -> None:
    result = stage(recording, model=checkpoint_with_reference)
    assert result.warnings == [] and set(result.quality) == {"ok"}
    provenance = result.statistics()["provenance"]
    assert provenance["tool"].startswith("tinysleepnet ")
    assert provenance["model"] == str(checkpoint_with_reference)
    assert len(provenance["model_sha256"]) == 64
    assert provenance["input"] == str(recording) and provenance["channel"] == "EEG Fpz-Cz"
    assert provenance["staged_at"].endswith("+00:00")


def test_interrupted_save_leaves_no_complete_looking_set(
    recording: Path, model: TinySleepNet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = stage(recording, model=model)
    result.save(tmp_path, "night")
    assert (tmp_path / "night_statistics.json").is_file()

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the run stops while writing the figure

    monkeypatch.setattr("tinysleepnet.prediction.result.write_figure", killed)
    with pytest.raises(KeyboardInterrupt):
        result.save(tmp_path, "night")
    # the statistics, which say what produced the set, go first and come back last
    assert not (tmp_path / "night_statistics.json").exists()
