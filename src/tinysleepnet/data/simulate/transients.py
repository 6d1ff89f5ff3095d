"""Transients of the EEG and EOG: eye movements, vertex waves, spindles, K-complexes, artefacts."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.signal import sawtooth

from ...stages import EPOCH_SEC
from .profile import COLUMNS, SECONDS_PER_EPOCH

Waveform = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


def _blink(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    # The cornea is positive: a blink is a positive frontal deflection of 0.2-0.4 s.
    return _uniform(rng, n, 50, 150) * _hump(t, _uniform(rng, n, 0.2, 0.4))


def _saccade(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    amplitude = _uniform(rng, n, 30, 100) * rng.choice([-1.0, 1.0], (n, 1))
    return amplitude * (1 - np.exp(-t / 0.03)) * np.exp(-t / _uniform(rng, n, 0.3, 0.8))


def _slow_eye(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    amplitude = _uniform(rng, n, 20, 50) * rng.choice([-1.0, 1.0], (n, 1))
    return amplitude * np.sqrt(_hump(t, _uniform(rng, n, 1.0, 3.0)))


def _vertex(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    # Negative at Cz, the reference of Fpz-Cz: a positive sharp wave of 100-200 ms.
    width = _uniform(rng, n, 0.04, 0.08)
    return _uniform(rng, n, 40, 90) * np.exp(-0.5 * ((t - 0.25) / width) ** 2)


def _spindle(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    carrier = np.sin(2 * np.pi * _uniform(rng, n, 11.5, 15.0) * t + _uniform(rng, n, 0, 2 * np.pi))
    return _uniform(rng, n, 15, 40) * _hump(t, _uniform(rng, n, 0.5, 2.0)) * carrier


def _k_complex(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    # A sharp frontal negative wave then a slower positive one, 100-200 uV peak to peak.
    shape = -np.exp(-0.5 * ((t - 0.3) / 0.08) ** 2) + 0.6 * np.exp(-0.5 * ((t - 0.7) / 0.15) ** 2)
    return _uniform(rng, n, 100, 200) / 1.6 * shape


def _sawtooth(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    phase = 2 * np.pi * _uniform(rng, n, 2.0, 4.0) * t + _uniform(rng, n, 0, 2 * np.pi)
    return _uniform(rng, n, 15, 35) * _hump(t, _uniform(rng, n, 2.0, 5.0)) * sawtooth(phase, 0.8)


def _movement(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    # Large slow swings of the electrodes with muscle activity on top.
    swing = np.sin(2 * np.pi * _uniform(rng, n, 0.3, 1.0) * t + _uniform(rng, n, 0, 2 * np.pi))
    muscle = 0.4 * rng.standard_normal((n, len(t)))
    return _uniform(rng, n, 80, 250) * _hump(t, _uniform(rng, n, 2.0, 8.0)) * (swing + muscle)


def _pop(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    # An electrode pop: a sudden jump that decays as the electrode recovers.
    amplitude = _uniform(rng, n, 100, 300) * rng.choice([-1.0, 1.0], (n, 1))
    return amplitude * np.exp(-t / _uniform(rng, n, 0.2, 1.0))


#: Each transient: length of its window in seconds and the function drawing its waveforms.
_WAVEFORMS: dict[str, tuple[float, Waveform]] = {
    "blink": (0.4, _blink),
    "saccade": (3.0, _saccade),
    "slow_eye": (3.0, _slow_eye),
    "vertex": (0.5, _vertex),
    "spindle": (2.0, _spindle),
    "k_complex": (1.2, _k_complex),
    "sawtooth": (5.0, _sawtooth),
    "movement": (8.0, _movement),
    "pop": (3.0, _pop),
}


def _uniform(rng: np.random.Generator, n: int, low: float, high: float) -> np.ndarray:
    """One value per event, as a column to broadcast against time."""
    return rng.uniform(low, high, (n, 1))


def _hump(t: np.ndarray, duration: np.ndarray) -> np.ndarray:
    """Smooth envelope rising from 0 to 1 and back to 0 over ``duration`` seconds."""
    return np.sin(np.pi * np.minimum(t / duration, 1.0)) ** 2


def draw_transients(
    profile: np.ndarray, sfreq: float, rng: np.random.Generator
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Onsets (samples) and waveforms (uV, Fpz-Cz) of every transient of the night."""
    samples_per_epoch = SECONDS_PER_EPOCH * sfreq
    transients = {}
    for kind, (window_sec, waveform) in _WAVEFORMS.items():
        per_epoch = profile[:, COLUMNS.index(kind)] * EPOCH_SEC / 60
        epochs = np.repeat(np.arange(len(profile)), rng.poisson(per_epoch))
        onsets = ((epochs + rng.random(len(epochs))) * samples_per_epoch).astype(np.int64)
        t = np.arange(round(window_sec * sfreq)) / sfreq
        transients[kind] = (onsets, waveform(t, len(onsets), rng).astype(np.float32))
    return transients


def add_at(x: np.ndarray, onsets: np.ndarray, waves: np.ndarray) -> None:
    """Add each waveform (row of ``waves``) to ``x`` from its onset, cut at the end of ``x``."""
    index = onsets[:, None] + np.arange(waves.shape[1])
    inside = index < len(x)
    np.add.at(x, index[inside], waves[inside])
