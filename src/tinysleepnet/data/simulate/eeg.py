"""Simulated EEG and EOG: stage rhythms on a 1/f background, transients, per-night gains."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.fft
from scipy.signal import oaconvolve

from ...errors import TinySleepNetError
from .hypnogram import SeedLike
from .profile import RHYTHM_UV, SECONDS_PER_EPOCH, check_stages, epoch_profile, per_second
from .transients import add_at, draw_transients

EEG_RANGE_UV = (-500.0, 500.0)  # physical range of the EEG and EOG in the PSG file
_FILTER_SEC = 40  # length of the rhythm filters: resolves the 0.5-Hz knee of the 1/f background
_N_RHYTHMS = len(RHYTHM_UV)

#: Gain of each source in the other derivations, relative to Fpz-Cz (1 when absent).
CHANNEL_GAIN: dict[str, dict[str, float]] = {
    "EEG Fpz-Cz": {},
    "EEG Pz-Oz": {
        "background": 0.8,
        "delta": 0.6,
        "theta": 0.8,
        "alpha": 1.8,
        "beta": 0.6,
        "blink": 0.05,
        "saccade": 0.05,
        "slow_eye": 0.05,
        "vertex": 0.5,
        "spindle": 0.7,
        "k_complex": 0.4,
        "sawtooth": 0.8,
        "movement": 0.7,
        "pop": 0.0,
    },
    "EOG horizontal": {
        "background": 0.5,
        "delta": 0.4,
        "theta": 0.3,
        "alpha": 0.1,
        "beta": 1.0,
        "blink": 0.3,
        "saccade": 3.0,
        "slow_eye": 2.5,
        "vertex": 0.1,
        "spindle": 0.1,
        "k_complex": 0.3,
        "sawtooth": 0.2,
        "movement": 1.0,
        "pop": 0.0,
    },
}


def simulate_eeg(
    stages: np.ndarray,
    sfreq: float = 100.0,
    *,
    rng: SeedLike = None,
    difficulty: float = 1.0,
) -> np.ndarray:
    """Simulate a Fpz-Cz EEG that follows a stage sequence.

    Parameters
    ----------
    stages : array of int, shape (n_epochs,)
        Class id of each 30-s epoch (0..4 for W, N1, N2, N3, REM);
        :data:`~tinysleepnet.stages.UNSCORED` epochs get wake with frequent movement.
    sfreq : float
        Sampling rate in Hz, a whole number of at least 50.
    rng : int, Generator or None
        Seed or random generator.
    difficulty : float
        How much epochs borrow features of other stages and nights differ in gains:
        0 gives textbook stages, 1 (default) a realistic overlap, 2 a hard cohort.

    Returns
    -------
    ndarray of float32, shape (n_epochs * 30 * sfreq,)
        The EEG in microvolts.
    """
    signals, _ = simulate_derivations(
        stages, sfreq, np.random.default_rng(rng), difficulty, ["EEG Fpz-Cz"]
    )
    return signals["EEG Fpz-Cz"]


def simulate_derivations(
    stages: np.ndarray,
    sfreq: float,
    rng: np.random.Generator,
    difficulty: float,
    channels: Sequence[str],
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """EEG/EOG derivations sharing the same brain sources, and the per-epoch profile."""
    stages = check_stages(stages)
    if not (float(sfreq).is_integer() and sfreq >= 50):
        raise TinySleepNetError(f"sfreq must be a whole number of Hz, at least 50; got {sfreq}")
    if difficulty < 0:
        raise TinySleepNetError(f"difficulty must be 0 or more, got {difficulty}")
    per_sec = int(sfreq)
    n_samples = len(stages) * SECONDS_PER_EPOCH * per_sec
    profile = epoch_profile(stages, rng, difficulty)
    per_second_uv = per_second(profile[:, :_N_RHYTHMS])
    rhythm_uv = {name: per_second_uv[:, [i]] for i, name in enumerate(RHYTHM_UV)}
    filters = _rhythm_filters(sfreq, rng)
    noise_samples = n_samples + len(filters["background"]) - 1  # what "valid" filtering eats
    # Brain rhythms are shared by the derivations; the background differs between electrodes.
    # The rhythms occupy disjoint bands, so filtering one white noise keeps them independent.
    white = rng.standard_normal(noise_samples, dtype=np.float32)
    shared = {
        name: oaconvolve(white, filters[name], mode="valid").reshape(-1, per_sec) * rhythm_uv[name]
        for name in RHYTHM_UV
        if name != "background"
    }
    transients = draw_transients(profile, sfreq, rng)
    gain = np.exp(rng.normal(0.0, 0.15 * difficulty))  # scalp and skull of this subject
    signals = {}
    for channel in channels:
        weight = CHANNEL_GAIN[channel]
        white = rng.standard_normal(noise_samples, dtype=np.float32)
        background = oaconvolve(white, filters["background"], mode="valid").reshape(-1, per_sec)
        x = weight.get("background", 1.0) * background * rhythm_uv["background"]
        for name, source in shared.items():
            x += weight.get(name, 1.0) * source
        x = x.ravel()
        for kind, (onsets, waves) in transients.items():
            add_at(x, onsets, weight.get(kind, 1.0) * waves)
        _flatten(x, sfreq, rng)
        signals[channel] = (gain * x).astype(np.float32)
    return signals, profile


def _rhythm_filters(sfreq: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Zero-phase FIR filter turning white noise into each rhythm, of unit output variance.

    The night's 1/f exponent and alpha frequency are drawn here.
    """
    taps = int(_FILTER_SEC * sfreq) + 1
    freqs = scipy.fft.rfftfreq(taps, 1.0 / sfreq)
    exponent = rng.uniform(1.6, 2.2)  # power ~ 1/f^exponent, flat below 0.5 Hz
    background = (freqs**2 + 0.25) ** (-exponent / 4)
    background[0] = 0.0
    spectra = {
        "background": background,
        "delta": _bump(freqs, 1.0, 0.4) * (freqs >= 0.3),
        "theta": _bump(freqs, 5.5, 0.9),
        "alpha": _bump(freqs, rng.uniform(9.0, 11.0), 0.6),
        "beta": _bump(freqs, 30.0, 8.0),
    }
    filters = {}
    for name, amplitude in spectra.items():
        h = np.fft.fftshift(scipy.fft.irfft(amplitude, taps)) * np.hanning(taps)
        filters[name] = (h / np.linalg.norm(h)).astype(np.float32)
    return filters


def _bump(freqs: np.ndarray, centre_hz: float, width_hz: float) -> np.ndarray:
    return np.exp(-0.5 * ((freqs - centre_hz) / width_hz) ** 2)


def _flatten(x: np.ndarray, sfreq: float, rng: np.random.Generator) -> None:
    """Flat-line a few seconds in place, as a disconnected electrode does (~one per 12 h)."""
    hours = len(x) / sfreq / 3600
    for _ in range(rng.poisson(hours / 12)):
        first = int(rng.integers(len(x)))
        x[first : first + int(rng.uniform(5, 30) * sfreq)] = 0.0
