"""The ongoing EEG and EOG: each stage's spectrum, measured on a real night, synthesised.

The ongoing (non-transient) activity of each derivation is Gaussian noise with the power
spectrum of its stage, synthesised per 30-s epoch in the frequency domain and cross-faded
between epochs. The spectra are those of SC4001E0 (Sleep-EDF, subject 0, night 1), fitted by
``benchmarks/sim_vs_real.py --fit``: the median Welch spectrum of each stage's epochs, at the
frequencies :data:`KNOTS_HZ`, divided by the amplifier's 0.5-Hz high-pass (which the
simulation applies after), and corrected so that the simulated nights, transients included,
have the real median spectrum. One night fixes one subject's spectra; each simulated night
varies them (:func:`night_variation`) by what is known to vary between people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
from scipy.ndimage import uniform_filter1d

from .profile import SECONDS_PER_EPOCH, Mixture

#: Frequencies (Hz) at which the spectra are given; log-log interpolated in between.
KNOTS_HZ = np.array([0.3, 0.6, 1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 20,
                     25, 30, 40, 48])  # fmt: skip

#: log10 power spectral density (uV^2/Hz) of the ongoing activity, per derivation, at
#: :data:`KNOTS_HZ`; rows W, N1, N2, N3, REM, unscored (as W). SC4001E0, fitted by
#: benchmarks/sim_vs_real.py --fit (before the 0.5-Hz high-pass, transients removed).
# fmt: off
LOG10_PSD: dict[str, np.ndarray] = {
    "EEG Fpz-Cz": np.array([
        # W
        [3.02, 2.47, 1.98, 1.91, 1.58, 1.18, 0.98, 0.87, 0.63, 0.56, 0.50, 0.37,
         0.03, -0.23, -0.27, -0.31, -0.33, -0.37, -0.48, -0.51, -0.52, -0.50, -0.44],
        # N1
        [1.60, 1.31, 1.00, 0.78, 0.67, 0.63, 0.50, 0.51, 0.50, 0.69, 0.94, -0.08,
         -0.18, -0.42, -0.65, -0.59, -0.49, -0.50, -0.61, -0.85, -1.22, -1.41, -1.57],
        # N2
        [2.50, 1.92, 1.66, 1.86, 1.67, 1.50, 1.21, 0.93, 0.72, 0.62, 0.23, 0.11,
         0.03, -0.22, 0.29, 0.18, -0.31, -0.63, -0.89, -1.16, -1.40, -1.57, -1.62],
        # N3
        [2.94, 3.14, 2.92, 2.66, 2.28, 1.81, 1.45, 1.24, 1.12, 0.72, 0.35, 0.42,
         0.38, 0.05, 0.29, 0.14, -0.36, -0.73, -1.05, -1.33, -1.52, -1.64, -1.72],
        # REM
        [2.23, 1.58, 1.33, 1.18, 1.04, 0.88, 0.80, 0.70, 0.62, 0.41, 0.46, 0.12,
         -0.23, -0.38, -0.44, -0.46, -0.64, -0.79, -0.82, -1.15, -1.38, -1.48, -1.41],
        # unscored
        [3.02, 2.47, 1.98, 1.91, 1.58, 1.18, 0.98, 0.87, 0.63, 0.56, 0.50, 0.37,
         0.03, -0.23, -0.27, -0.31, -0.33, -0.37, -0.48, -0.51, -0.52, -0.50, -0.44],
    ]),
    "EEG Pz-Oz": np.array([
        # W
        [2.18, 1.24, 1.13, 0.87, 0.62, 0.28, 0.21, 0.16, 0.06, 0.06, 0.40, 0.61,
         0.03, -0.25, -0.41, -0.50, -0.55, -0.46, -0.86, -1.02, -1.16, -1.16, -1.17],
        # N1
        [1.96, 1.47, 1.38, 1.06, 0.87, 0.42, 0.33, 0.34, 0.40, 0.74, 0.93, 0.14,
         -0.03, -0.39, -0.68, -0.73, -0.68, -0.68, -1.06, -1.29, -1.54, -1.66, -1.86],
        # N2
        [2.17, 1.75, 1.59, 1.42, 1.19, 0.98, 0.78, 0.60, 0.52, 0.40, 0.11, -0.08,
         -0.19, -0.57, -0.25, -0.29, -0.66, -0.99, -1.27, -1.46, -1.63, -1.74, -1.90],
        # N3
        [2.68, 2.77, 2.53, 2.13, 1.71, 1.30, 1.03, 0.81, 0.93, 0.62, 0.24, 0.04,
         -0.17, -0.47, -0.28, -0.40, -0.76, -1.10, -1.41, -1.61, -1.72, -1.76, -1.91],
        # REM
        [2.19, 1.73, 1.32, 0.89, 0.75, 0.33, 0.29, 0.32, 0.32, 0.31, 0.74, 0.40,
         -0.17, -0.36, -0.56, -0.72, -0.85, -0.91, -1.29, -1.52, -1.72, -1.76, -1.97],
        # unscored
        [2.18, 1.24, 1.13, 0.87, 0.62, 0.28, 0.21, 0.16, 0.06, 0.06, 0.40, 0.61,
         0.03, -0.25, -0.41, -0.50, -0.55, -0.46, -0.86, -1.02, -1.16, -1.16, -1.17],
    ]),
    "EOG horizontal": np.array([
        # W
        [4.27, 3.43, 2.77, 2.36, 2.01, 1.62, 1.28, 1.06, 0.82, 0.73, 0.68, 0.49,
         0.45, 0.37, 0.28, 0.26, 0.24, 0.19, 0.16, 0.16, 0.17, 0.18, 0.23],
        # N1
        [3.54, 0.42, 1.48, -0.02, 0.69, 0.39, 0.29, 0.24, 0.20, 0.21, 0.19, -0.08,
         -0.20, -0.25, -0.21, -0.24, -0.31, -0.26, -0.41, -0.39, -0.50, -0.48, -0.46],
        # N2
        [2.87, 1.30, 1.72, 0.88, 1.15, 0.78, 0.58, 0.49, 0.40, 0.26, 0.07, -0.08,
         -0.15, -0.08, -0.06, -0.25, -0.38, -0.39, -0.55, -0.51, -0.58, -0.62, -0.55],
        # N3
        [2.90, 2.42, 2.36, 1.88, 1.65, 1.23, 0.99, 0.85, 0.67, 0.37, 0.17, -0.04,
         -0.10, -0.07, -0.12, -0.31, -0.41, -0.47, -0.58, -0.56, -0.64, -0.66, -0.59],
        # REM
        [3.59, 2.20, 1.89, 0.73, 0.91, 0.25, 0.13, 0.14, 0.08, 0.03, 0.06, -0.21,
         -0.42, -0.45, -0.46, -0.43, -0.56, -0.58, -0.71, -0.71, -0.77, -0.75, -0.76],
        # unscored
        [4.27, 3.43, 2.77, 2.36, 2.01, 1.62, 1.28, 1.06, 0.82, 0.73, 0.68, 0.49,
         0.45, 0.37, 0.28, 0.26, 0.24, 0.19, 0.16, 0.16, 0.17, 0.18, 0.23],
    ]),
}
# fmt: on

#: Change of the ongoing activity's log10 PSD at :data:`KNOTS_HZ` per s.d. of wake activity
#: (:func:`.profile.wake_activity`): SC4001E0's wake epochs, the regression of each knot's
#: log10 power on their activity (the standardised sum of Fpz-Cz 0.5-2 Hz, Fpz-Cz 20-40 Hz
#: and EOG 0.5-2 Hz log powers; benchmarks/sim_vs_real.py --measure). Active wake: more eye
#: movements, muscle and (on Fpz-Cz) delta; quiet wake: less of all, more Pz-Oz alpha.
# fmt: off
WAKE_ACTIVITY_LOG10: dict[str, np.ndarray] = {
    "EEG Fpz-Cz": np.array([
        0.49, 0.56, 0.44, 0.42, 0.42, 0.37, 0.30, 0.17, 0.09, -0.07, -0.16, -0.11,
        0.01, 0.16, 0.21, 0.20, 0.19, 0.17, 0.26, 0.31, 0.39, 0.45, 0.48]),
    "EEG Pz-Oz": np.array([
        0.34, 0.28, 0.14, 0.07, -0.02, -0.03, -0.07, -0.11, -0.17, -0.30, -0.36, -0.25,
        -0.07, 0.05, 0.10, 0.11, 0.09, 0.07, 0.23, 0.35, 0.45, 0.49, 0.56]),
    "EOG horizontal": np.array([
        0.40, 0.74, 0.63, 0.78, 0.63, 0.63, 0.56, 0.48, 0.42, 0.34, 0.32, 0.33,
        0.36, 0.37, 0.36, 0.37, 0.37, 0.36, 0.38, 0.39, 0.40, 0.42, 0.40]),
}
# fmt: on

#: Correlation of each derivation's ongoing activity with that of Fpz-Cz, per row (Pz-Oz
#: shares the Cz-Pz sources with the opposite sign). Chosen so that the simulated channels
#: correlate as SC4001E0's do, measured by benchmarks/sim_vs_real.py (Pz-Oz with Fpz-Cz,
#: median per epoch: W 0.03, N1 -0.30, N2 -0.40, N3 -0.47, REM -0.28; EOG: -0.11..0.02).
CORRELATION: dict[str, np.ndarray] = {
    "EEG Fpz-Cz": np.ones(6),
    "EEG Pz-Oz": np.array([0.0, -0.35, -0.45, -0.5, -0.3, 0.0]),
    "EOG horizontal": np.array([0.0, 0.0, -0.05, -0.12, 0.0, 0.0]),
}

#: Spread (s.d. of log amplitude) of the slow waxing and waning of the ongoing activity
#: within an epoch, per row: Gaussian noise has an excess kurtosis of 0, SC4001E0's Fpz-Cz
#: epochs (median) W 1.3, N1 0.6, N2 1.2, N3 0.05, REM 0.5 (benchmarks/sim_vs_real.py), part
#: of it from transients; a log-normal envelope of s.d. s adds 3 (exp(4 s^2) - 1).
ENVELOPE_SPREAD = np.array([0.15, 0.2, 0.27, 0.05, 0.18, 0.15])
_ENVELOPE_SEC = 3  # the envelope's changes last about this long

_CROSSFADE_SEC = 8  # epochs' spectra fade into each other over this long, around the boundary


@dataclass(frozen=True)
class NightVariation:
    """How a simulated subject's spectra differ from those of :data:`LOG10_PSD`.

    Attributes
    ----------
    warp : float
        Factor on every frequency: alpha at 10 Hz becomes ``10 * warp`` (individual alpha
        frequency 10 +/- 1 Hz in adults: Klimesch 1999, Brain Res Rev 29:169).
    log10_gain : ndarray, shape (n_knots,)
        Gain of each frequency (log10 of power): band powers differ between people by a
        factor of about 1.5-2 (s.d. of log power ~0.2-0.3 in normative EEG: e.g. Dustman et
        al. 1999, Clin Neurophysiol 110:1399), and the aperiodic exponent by ~0.3
        (Donoghue et al. 2020, Nat Neurosci 23:1655).
    """

    warp: float
    log10_gain: np.ndarray


def night_variation(rng: np.random.Generator, difficulty: float) -> NightVariation:
    """Draw one simulated subject's spectral differences (none at difficulty 0)."""
    anchors_hz = np.array([0.3, 1.0, 3.0, 6.0, 10.0, 13.0, 20.0, 48.0])
    gains = rng.normal(0.0, 0.12 * difficulty, len(anchors_hz))  # log10: s.d. x1.3 per band
    tilt = rng.normal(0.0, 0.15 * difficulty)  # change of the 1/f exponent
    log10_gain = np.interp(np.log(KNOTS_HZ), np.log(anchors_hz), gains)
    log10_gain -= tilt * np.log10(KNOTS_HZ / 5.0)
    warp = float(np.exp(rng.uniform(-0.1, 0.1) * min(difficulty, 1.0)))
    return NightVariation(warp, log10_gain)


def epoch_spectra(
    channel: str,
    mixture: Mixture,
    epoch_log10_gain: np.ndarray,
    variation: NightVariation,
    activity: np.ndarray,
) -> np.ndarray:
    """log10 PSD at :data:`KNOTS_HZ` of every epoch of one derivation, shape (n_epochs, n_knots).

    ``epoch_log10_gain`` (n_epochs, n_knots) is the epoch-to-epoch variation, shared by the
    derivations; ``activity`` (n_epochs,) the wake activity (:func:`.profile.wake_activity`).
    """
    power = mixture.mix(10.0 ** LOG10_PSD[channel])
    wake = activity[:, None] * WAKE_ACTIVITY_LOG10[channel]
    return np.log10(power) + epoch_log10_gain + variation.log10_gain + wake


def synthesise(
    log10_psd: np.ndarray,
    spectra_noise: np.ndarray,
    sfreq: float,
    warp: float,
) -> np.ndarray:
    """Gaussian noise with each epoch's spectrum, epochs cross-faded into one signal.

    Parameters
    ----------
    log10_psd : ndarray, shape (n_epochs, n_knots)
        Each epoch's spectrum at :data:`KNOTS_HZ` (times ``warp``), log10 uV^2/Hz.
    spectra_noise : ndarray of complex, shape (n_epochs, n_freqs)
        Standard complex Gaussian coefficients (:func:`noise_shape` gives the shape).
    sfreq : float
        Sampling rate in Hz.
    warp : float
        Factor on the knots' frequencies.

    Returns
    -------
    ndarray of float32, shape (n_epochs * 30 * sfreq,)
        The signal in uV.
    """
    n_epochs = len(log10_psd)
    hop = int(SECONDS_PER_EPOCH * sfreq)
    length, overlap = noise_shape(sfreq)[0], int(_CROSSFADE_SEC * sfreq)
    freqs = scipy.fft.rfftfreq(length, 1.0 / sfreq)
    weights, offset = _interpolation(freqs, KNOTS_HZ * warp)
    # One-sided PSD P (uV^2/Hz) -> rfft coefficients of variance P * sfreq * length / 2.
    amplitude = log10_psd.astype(np.float32) @ weights  # log10 power, then amplitude
    amplitude += offset
    amplitude *= np.float32(np.log(10) / 2)
    np.exp(amplitude, out=amplitude)
    amplitude *= np.float32(np.sqrt(sfreq * length / 4))
    amplitude[:, 0] = 0.0
    segments = scipy.fft.irfft(amplitude * spectra_noise, length, axis=1, overwrite_x=True)
    ramp = np.sin(0.5 * np.pi * (np.arange(overlap) + 0.5) / overlap).astype(np.float32)
    segments[1:, :overlap] *= ramp
    segments[:-1, hop:] *= ramp[::-1]
    # Segment e starts half a crossfade before epoch e; sin^2 + cos^2 = 1 keeps the power.
    out = np.zeros((n_epochs + 1) * hop, dtype=np.float32)
    out[: n_epochs * hop].reshape(n_epochs, hop)[:] = segments[:, :hop]
    out[hop:].reshape(n_epochs, hop)[:, :overlap] += segments[:, hop:]
    start = overlap // 2
    return out[start : start + n_epochs * hop]


def envelope(
    mixture: Mixture, rng: np.random.Generator, sfreq: float, difficulty: float
) -> np.ndarray:
    """Slow log-normal amplitude modulation of the ongoing activity, one value per sample
    (mean power 1), shared by the derivations."""
    n_seconds = len(mixture.rows) * SECONDS_PER_EPOCH
    spread = np.repeat(mixture.mix(ENVELOPE_SPREAD), SECONDS_PER_EPOCH) * min(difficulty, 1.0)
    swing = uniform_filter1d(rng.standard_normal(n_seconds), _ENVELOPE_SEC, mode="nearest")
    log_gain = spread * np.sqrt(_ENVELOPE_SEC) * swing - spread**2
    # interpolated at 10 Hz, held for the samples in between
    tenths = np.interp(np.arange(n_seconds * 10) / 10 + 0.05, np.arange(n_seconds) + 0.5, log_gain)
    per_sample = np.arange(n_seconds * int(sfreq)) * 10 // int(sfreq)
    return np.exp(tenths).astype(np.float32)[per_sample]


def noise_shape(sfreq: float) -> tuple[int, int]:
    """Samples per synthesised segment (an epoch and a crossfade) and its rfft length."""
    length = int((SECONDS_PER_EPOCH + _CROSSFADE_SEC) * sfreq)
    return length, length // 2 + 1


def complex_noise(rng: np.random.Generator, n_epochs: int, sfreq: float) -> np.ndarray:
    """Standard complex Gaussian coefficients, shape (n_epochs, n_freqs), complex64."""
    n_freqs = noise_shape(sfreq)[1]
    pairs = rng.standard_normal((n_epochs, 2 * n_freqs), dtype=np.float32)
    return pairs.view(np.complex64)


def _interpolation(freqs: np.ndarray, knots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights (n_knots, n_freqs) and offsets (n_freqs,) giving log10 power at ``freqs`` from
    log10 power at ``knots``: linear in log frequency, flat below the first knot, falling as
    1/f^2 beyond the last."""
    log_f = np.log(np.maximum(freqs, knots[0] / 2))
    weights = np.stack([np.interp(log_f, np.log(knots), row) for row in np.eye(len(knots))])
    offset = np.where(freqs > knots[-1], -2.0 * np.log10(np.maximum(freqs, 1e-9) / knots[-1]), 0.0)
    return weights.astype(np.float32), offset.astype(np.float32)
