"""Simulated EEG and EOG: measured stage spectra, transients, the recording chain, night gains."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.signal import butter, sosfilt

from ...errors import TinySleepNetError
from .hypnogram import SeedLike
from .profile import check_stages, epoch_profile, stage_mixture, wake_activity
from .spectra import (
    CORRELATION,
    KNOTS_HZ,
    complex_noise,
    envelope,
    epoch_spectra,
    night_variation,
    synthesise,
)
from .transients import draw_transients

EEG_RANGE_UV = (-500.0, 500.0)  # physical range of the EEG and EOG in a simulated MASS PSG
#: The amplifier's high-pass (Sleep-EDF's headers: "HP:0.5Hz"), a first-order filter.
HIGH_PASS_HZ = 0.5
#: Sleep-EDF's cassette chain also leaves an inverted, low-passed echo of the signal: in
#: SC4001E0 every channel's autocorrelation dips to -0.26..-0.44 at a lag of 1.23-1.28 s in
#: every stage, and the spectra carry the matching comb (peaks at 0.4, 1.2, 2.0, 2.7 Hz, dips
#: at 0.8, 1.6, 2.4 Hz; benchmarks/sim_vs_real.py). Delay (s; the low-pass adds ~0.15 s),
#: gain and low-pass (Hz) of it.
ECHO = (1.1, 0.45, 1.5)

#: Gain of each transient in each derivation, relative to its Fpz-Cz waveform (1 when absent).
#: Horizontal eye movements are defined by their EOG size (20 x their Fpz-Cz one: in
#: SC4001E0, REM's EOG SD is 25 uV and Fpz-Cz's 9.5, uncorrelated), blinks by their Fpz-Cz size.
TRANSIENT_GAIN: dict[str, dict[str, float]] = {
    "EEG Fpz-Cz": {},
    "EEG Pz-Oz": {
        "blink": 0.03,
        "vertical": 0.05,
        "saccade": 0.3,
        "slow_eye": 0.3,
        "vertex": -0.4,
        "spindle": 0.5,
        "k_complex": -0.4,
        "sawtooth": 0.6,
        "movement": 0.7,
        "pop": 0.0,
    },
    "EOG horizontal": {
        "blink": 0.15,
        "vertical": 0.2,
        "saccade": 20.0,
        "slow_eye": 20.0,
        "vertex": 0.1,
        "spindle": 0.2,
        "k_complex": 0.5,
        "sawtooth": 0.2,
        "movement": 1.5,
        "pop": 0.0,
    },
}
#: The derivations that can be simulated.
DERIVATIONS = tuple(TRANSIENT_GAIN)
_EPOCH_GAIN_HZ = np.array([1.0, 6.0, 20.0])  # epochs vary in slow, middle and fast power


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
    """EEG/EOG derivations sharing brain sources and eye movements, and the per-epoch profile
    (transient rates and chin EMG, columns :data:`~.profile.COLUMNS`).

    Each derivation is its stage's ongoing activity (:mod:`.spectra`), correlated with Fpz-Cz
    as measured, plus the night's transients at that derivation's gain, through the
    amplifier's 0.5-Hz high-pass, times the subject's gain (skull and scalp).
    """
    stages = check_stages(stages)
    if not (float(sfreq).is_integer() and sfreq >= 50):
        raise TinySleepNetError(f"sfreq must be a whole number of Hz, at least 50; got {sfreq}")
    if difficulty < 0:
        raise TinySleepNetError(f"difficulty must be 0 or more, got {difficulty}")
    unknown = set(channels) - set(DERIVATIONS)
    if unknown:
        raise TinySleepNetError(f"cannot simulate {sorted(unknown)}; choose from {DERIVATIONS}")
    mixture = stage_mixture(stages, rng, difficulty)
    activity = wake_activity(mixture, rng, difficulty)
    profile = epoch_profile(mixture, rng, difficulty, activity)
    variation = night_variation(rng, difficulty)
    coarse = rng.normal(0.0, 0.08 * difficulty, (len(stages), len(_EPOCH_GAIN_HZ)))
    epoch_gain = np.stack(
        [np.interp(np.log(KNOTS_HZ), np.log(_EPOCH_GAIN_HZ), row) for row in coarse]
    )
    transients = draw_transients(profile, sfreq, rng)
    gain = np.exp(rng.normal(0.0, 0.15 * difficulty))  # scalp and skull of this subject
    reference = complex_noise(rng, len(stages), sfreq)
    waxing = envelope(mixture, rng, sfreq, difficulty)
    signals = {}
    for channel in channels:
        rho = CORRELATION[channel][mixture.rows].astype(np.float32)[:, None]
        if channel == "EEG Fpz-Cz":
            noise = reference
        else:
            noise = complex_noise(rng, len(stages), sfreq)  # its own sources, then shared ones
            noise *= np.sqrt(1 - rho**2)
            noise += rho * reference
        spectra = epoch_spectra(channel, mixture, epoch_gain, variation, activity)
        x = synthesise(spectra, noise, sfreq, variation.warp) * waxing
        x += transients.render(TRANSIENT_GAIN[channel])
        x = _recording_chain(x, sfreq)
        _flatten(x, sfreq, rng)
        signals[channel] = np.float32(gain) * x
    return signals, profile


def _recording_chain(x: np.ndarray, sfreq: float) -> np.ndarray:
    """``x`` through the amplifier's high-pass, minus the delayed low-passed echo (float32)."""
    delay_sec, gain, low_pass_hz = ECHO
    delay = round(delay_sec * sfreq)
    high_pass = butter(1, HIGH_PASS_HZ, "highpass", fs=sfreq, output="sos").astype(np.float32)
    low_pass = butter(2, low_pass_hz, fs=sfreq, output="sos").astype(np.float32)
    out = sosfilt(high_pass, x)
    echo = sosfilt(low_pass, out)
    out[delay:] -= np.float32(gain) * echo[:-delay]
    return out


def _flatten(x: np.ndarray, sfreq: float, rng: np.random.Generator) -> None:
    """Flat-line a few seconds in place, as a disconnected electrode does (~one per 12 h)."""
    hours = len(x) / sfreq / 3600
    for _ in range(rng.poisson(hours / 12)):
        first = int(rng.integers(len(x)))
        x[first : first + int(rng.uniform(5, 30) * sfreq)] = 0.0
