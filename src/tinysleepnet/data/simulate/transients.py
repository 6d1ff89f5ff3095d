"""Transients of the EEG and EOG: eye movements, vertex waves, spindles, K-complexes, artefacts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.signal import sawtooth

from ...stages import EPOCH_SEC
from .profile import COLUMNS, SECONDS_PER_EPOCH

Waveform = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


def _blink(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    # The cornea is positive: a blink is a positive frontal deflection of 0.2-0.4 s.
    return _uniform(rng, n, 50, 150) * _hump(t, _uniform(rng, n, 0.2, 0.4))


def _vertical(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    # A vertical eye movement: a step of the frontal potential, back within a second or two.
    amplitude = _uniform(rng, n, 20, 70) * rng.choice([-1.0, 1.0], (n, 1))
    return amplitude * (1 - np.exp(-t / 0.05)) * np.exp(-t / _uniform(rng, n, 0.3, 0.8))


def _saccade(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    # Horizontal: 40-160 uV on the EOG (TRANSIENT_GAIN), a few uV on the midline Fpz-Cz.
    amplitude = _uniform(rng, n, 2.0, 8.0) * rng.choice([-1.0, 1.0], (n, 1))
    return amplitude * (1 - np.exp(-t / 0.03)) * np.exp(-t / _uniform(rng, n, 0.2, 0.6))


def _slow_eye(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    # Slow rolling horizontal movements of drowsiness: 30-80 uV on the EOG over 1-3 s.
    amplitude = _uniform(rng, n, 1.5, 4.0) * rng.choice([-1.0, 1.0], (n, 1))
    return amplitude * np.sqrt(_hump(t, _uniform(rng, n, 1.0, 3.0)))


def _vertex(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    # Negative at Cz, the reference of Fpz-Cz: a positive sharp wave of 100-200 ms.
    width = _uniform(rng, n, 0.04, 0.08)
    return _uniform(rng, n, 20, 50) * np.exp(-0.5 * ((t - 0.25) / width) ** 2)


def _spindle(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    # Frontal spindles are slow (~12 Hz) and small; SC4001E0's N2 sigma peak: 13 Hz (Fpz-Cz).
    carrier = np.sin(2 * np.pi * _uniform(rng, n, 11.0, 14.5) * t + _uniform(rng, n, 0, 2 * np.pi))
    return _uniform(rng, n, 8, 22) * _hump(t, _uniform(rng, n, 0.5, 2.0)) * carrier


def _k_complex(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    # A sharp frontal negative wave then a slower positive one, 75-150 uV peak to peak
    # (SC4001E0's Fpz-Cz N2: median 91 uV among those of 75 uV or more).
    shape = -np.exp(-0.5 * ((t - 0.3) / 0.08) ** 2) + 0.6 * np.exp(-0.5 * ((t - 0.7) / 0.15) ** 2)
    return _uniform(rng, n, 75, 150) / 1.6 * shape


def _sawtooth(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    phase = 2 * np.pi * _uniform(rng, n, 2.0, 4.0) * t + _uniform(rng, n, 0, 2 * np.pi)
    return _uniform(rng, n, 10, 25) * _hump(t, _uniform(rng, n, 2.0, 5.0)) * sawtooth(phase, 0.8)


def _movement(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    # Large slow swings of the electrodes with muscle activity on top.
    swing = np.sin(2 * np.pi * _uniform(rng, n, 0.3, 1.0) * t + _uniform(rng, n, 0, 2 * np.pi))
    muscle = 0.4 * rng.standard_normal((n, len(t)))
    return _uniform(rng, n, 20, 80) * _hump(t, _uniform(rng, n, 2.0, 8.0)) * (swing + muscle)


def _pop(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    # An electrode pop: a sudden jump that decays as the electrode recovers.
    amplitude = _uniform(rng, n, 50, 200) * rng.choice([-1.0, 1.0], (n, 1))
    return amplitude * np.exp(-t / _uniform(rng, n, 0.2, 1.0))


#: Each transient: length of its window in seconds and the function drawing its waveforms.
_WAVEFORMS: dict[str, tuple[float, Waveform]] = {
    "blink": (0.4, _blink),
    "vertical": (2.0, _vertical),
    "saccade": (2.0, _saccade),
    "slow_eye": (3.0, _slow_eye),
    "vertex": (0.5, _vertex),
    "spindle": (2.0, _spindle),
    "k_complex": (1.2, _k_complex),
    "sawtooth": (5.0, _sawtooth),
    "movement": (8.0, _movement),
    "pop": (3.0, _pop),
}


_FADE_SEC = 0.2


def _uniform(rng: np.random.Generator, n: int, low: float, high: float) -> np.ndarray:
    """One value per event, as a column to broadcast against time."""
    return rng.uniform(low, high, (n, 1))


def _hump(t: np.ndarray, duration: np.ndarray) -> np.ndarray:
    """Smooth envelope rising from 0 to 1 and back to 0 over ``duration`` seconds."""
    return np.sin(np.pi * np.minimum(t / duration, 1.0)) ** 2


@dataclass(frozen=True)
class Transients:
    """Every transient of a night, ready to be added to each derivation at its own gains.

    Attributes
    ----------
    kinds : tuple of str
        The kinds, in the order of ``sizes``.
    sizes : tuple of int
        Samples of all waveforms of each kind (events x window), inside the night.
    index : ndarray of int
        Sample of the night of every waveform sample, kind after kind.
    values : ndarray of float32
        The waveform samples (uV at Fpz-Cz), in the order of ``index``.
    n_samples : int
        Length of the night in samples.
    """

    kinds: tuple[str, ...]
    sizes: tuple[int, ...]
    index: np.ndarray
    values: np.ndarray
    n_samples: int

    def render(self, gains: dict[str, float]) -> np.ndarray:
        """The sum of all transients, each kind times its gain (1 when absent), float32."""
        weights = np.repeat(np.array([gains.get(k, 1.0) for k in self.kinds]), self.sizes)
        summed = np.bincount(self.index, self.values * weights, minlength=self.n_samples)
        return summed.astype(np.float32)


def draw_transients(profile: np.ndarray, sfreq: float, rng: np.random.Generator) -> Transients:
    """Onsets and waveforms (uV, Fpz-Cz) of every transient of the night."""
    samples_per_epoch = SECONDS_PER_EPOCH * sfreq
    n_samples = int(len(profile) * samples_per_epoch)
    indices, values, sizes = [], [], []
    for kind, (window_sec, waveform) in _WAVEFORMS.items():
        per_epoch = profile[:, COLUMNS.index(kind)] * EPOCH_SEC / 60
        epochs = np.repeat(np.arange(len(profile)), rng.poisson(per_epoch))
        onsets = ((epochs + rng.random(len(epochs))) * samples_per_epoch).astype(np.int64)
        t = np.arange(round(window_sec * sfreq)) / sfreq
        fade = np.clip((window_sec - t) / _FADE_SEC, 0.0, 1.0)  # no step where a window ends
        waves = (waveform(t, len(onsets), rng) * fade).astype(np.float32)
        index = onsets[:, None] + np.arange(len(t))
        inside = index < n_samples  # cut at the end of the night
        indices.append(index[inside])
        values.append(waves[inside])
        sizes.append(int(inside.sum()))
    return Transients(
        tuple(_WAVEFORMS), tuple(sizes), np.concatenate(indices), np.concatenate(values), n_samples
    )
