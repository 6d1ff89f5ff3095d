"""Simulated Sleep-EDF-shaped nights: stage sequences, EEG, EDF file pairs and cohorts.

A simulated night is what Sleep-EDF's sleep-cassette study holds for one night: a PSG file
``SC4ssNE0-PSG.edf`` with its seven channels and a hypnogram file ``SC4ssNx?-Hypnogram.edf``
of Rechtschaffen & Kales (R&K) annotations that runs past the end of the signal. The stage
sequence is either simulated (:func:`simulate_hypnogram`) or taken from a real hypnogram,
such as the packaged official ones (:mod:`tinysleepnet.data.resources`).

The EEG (:func:`simulate_eeg`) is built from the textbook ingredients of each stage (AASM
scoring manual; Rechtschaffen & Kales 1968) on a 1/f background, with amplitudes of
frontal EEG in microvolts:

- W: alpha (8-12 Hz) of relaxed wakefulness, muscle (beta/EMG) activity, eye blinks and
  saccades, which a frontal electrode picks up.
- N1: alpha replaced by theta (4-7 Hz), vertex sharp waves, slow eye movements.
- N2: sleep spindles (11-16 Hz, 0.5-2 s) and K-complexes (100-200 uV peak to peak).
- N3: slow waves (0.5-2 Hz) of at least 75 uV peak to peak.
- REM: low-voltage theta, sawtooth waves (2-4 Hz), rapid eye movements, muscle atonia.

Stages blend into each other over several seconds, each epoch borrows some features of a
neighbouring stage, and every night has its own gains, so that a classifier finds the
cohort learnable but not trivial; N1, a transitional stage, is the hardest, as on real data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.fft
from joblib import Parallel, delayed
from scipy.ndimage import uniform_filter1d
from scipy.signal import oaconvolve, sawtooth

from ..errors import RecordingError, TinySleepNetError
from ..io.edf_writer import EdfChannel, write_annotations_edf, write_edf
from ..io.hypnogram import read_hypnogram
from ..stages import EPOCH_SEC, N_STAGES, UNSCORED, UNSCORED_TEXTS, stage_from_annotation
from .resources import official_hypnograms, official_n_epochs, psg_name_for

#: R&K annotation text Sleep-EDF uses for each class id (N3 is written as stage 3).
RK_TEXT: dict[int, str] = {
    0: "Sleep stage W",
    1: "Sleep stage 1",
    2: "Sleep stage 2",
    3: "Sleep stage 3",
    4: "Sleep stage R",
    UNSCORED: "Sleep stage ?",
}
_STAGE_4 = "Sleep stage 4"
_MOVEMENT = "Movement time"

#: Channels of a Sleep-EDF sleep-cassette PSG, in file order.
SLEEP_EDF_CHANNELS: tuple[str, ...] = (
    "EEG Fpz-Cz",
    "EEG Pz-Oz",
    "EOG horizontal",
    "Resp oro-nasal",
    "EMG submental",
    "Temp rectal",
    "Event marker",
)

#: Length of a Sleep-EDF sleep-cassette recording in 30-s epochs (about 23 h).
DEFAULT_N_EPOCHS = 2800

#: Sleep-EDF recordings start in the afternoon (SC4001E0: 1989-04-24 16:13).
DEFAULT_START = dt.datetime(1989, 4, 24, 16, 13)

_SECONDS_PER_EPOCH = int(EPOCH_SEC)
_CYCLE_EPOCHS = 180  # a 90-min NREM-REM cycle
_SLEEP_PERIOD_EPOCHS = (840, 960)  # 7-8 h in bed, lights off to lights on
_BLEND_SEC = 8  # stages fade into each other over this long, in seconds
_EEG_RANGE_UV = (-500.0, 500.0)  # physical range of the EEG and EOG in the PSG file
_FILTER_SEC = 40  # length of the rhythm filters: resolves the 0.5-Hz knee of the 1/f background
_PSG_NAME = re.compile(r"S[CT]\d{4}[A-Z]0")

# Stage profiles: one value per row W, N1, N2, N3, REM, unscored ("?", Movement time).
_ROW_UNSCORED = N_STAGES

#: Standard deviation (uV) of each ongoing rhythm in Fpz-Cz.
_RHYTHM_UV: dict[str, tuple[float, ...]] = {
    "background": (8.0, 9.0, 11.0, 13.0, 8.0, 9.0),
    "delta": (3.0, 5.0, 12.0, 35.0, 5.0, 4.0),
    "theta": (2.0, 8.0, 5.0, 5.0, 6.0, 2.0),
    "alpha": (9.0, 3.0, 1.5, 1.0, 3.0, 7.0),
    "beta": (5.0, 2.0, 1.5, 1.0, 1.5, 6.0),
}
#: Rate of each transient, per minute.
_TRANSIENT_PER_MIN: dict[str, tuple[float, ...]] = {
    "blink": (12.0, 1.0, 0.0, 0.0, 0.0, 8.0),
    "saccade": (8.0, 0.5, 0.0, 0.0, 12.0, 6.0),
    "slow_eye": (0.5, 3.0, 0.2, 0.0, 0.2, 0.0),
    "vertex": (0.0, 3.0, 0.8, 0.0, 0.3, 0.0),
    "spindle": (0.0, 0.3, 5.0, 1.5, 0.0, 0.0),
    "k_complex": (0.0, 0.2, 1.5, 0.6, 0.0, 0.0),
    "sawtooth": (0.0, 0.2, 0.0, 0.0, 2.0, 0.0),
    "movement": (0.15, 0.05, 0.02, 0.01, 0.03, 1.5),
    "pop": (0.01, 0.01, 0.01, 0.01, 0.01, 0.01),
}
#: Submental muscle tone (RMS, uV): high awake, atonia in REM.
_CHIN_EMG_UV = (15.0, 8.0, 6.0, 5.0, 2.0, 20.0)

_COLUMNS = (*_RHYTHM_UV, *_TRANSIENT_PER_MIN, "chin_emg")
_PROFILE = np.array([*_RHYTHM_UV.values(), *_TRANSIENT_PER_MIN.values(), _CHIN_EMG_UV]).T
_N_RHYTHMS = len(_RHYTHM_UV)

#: Which stage an epoch of each row may borrow features from (probabilities, same row order).
_RESEMBLES = np.array(
    [
        [0.0, 0.7, 0.0, 0.0, 0.3, 0.0],  # W looks like N1 (drowsy) or REM
        [0.35, 0.0, 0.35, 0.0, 0.3, 0.0],  # N1 sits between W, N2 and REM
        [0.0, 0.4, 0.0, 0.6, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        [0.3, 0.7, 0.0, 0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ]
)
#: How much each row borrows at difficulty 1 (scale of a Beta(2, 3) fraction).
_AMBIGUITY = np.array([0.25, 0.6, 0.3, 0.35, 0.35, 0.2])

#: Gain of each source in the other derivations, relative to Fpz-Cz (1 when absent).
_CHANNEL_GAIN: dict[str, dict[str, float]] = {
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

SeedLike = int | Sequence[int] | np.random.SeedSequence | np.random.Generator | None


@dataclass(frozen=True)
class SimulatedNight:
    """The files of one simulated night.

    Attributes
    ----------
    psg : Path
        The recording, ``SC4ssNE0-PSG.edf``.
    hypnogram : Path
        Its scoring, ``SC4ssNx?-Hypnogram.edf``.
    n_epochs : int
        30-s epochs of signal in ``psg``.
    hypnogram_epochs : int
        30-s epochs the hypnogram covers (more than ``n_epochs``).
    record_sec : float
        Duration of the PSG's data records in seconds.
    """

    psg: Path
    hypnogram: Path
    n_epochs: int
    hypnogram_epochs: int
    record_sec: float


# --------------------------------------------------------------------------- stage sequence


def simulate_hypnogram(n_epochs: int = DEFAULT_N_EPOCHS, *, rng: SeedLike = None) -> np.ndarray:
    """Simulate the scoring of a Sleep-EDF night, one R&K text per 30-s epoch.

    The recording starts and ends with hours of wake around a 7-8 h sleep period of ~90-min
    cycles: N1 at sleep onset and after brief awakenings, N3 (R&K stages 3 and 4) mostly in
    the first cycles, REM periods lengthening towards morning; N1 makes up about 5-10 % of
    sleep. A few ``Movement time`` epochs fall in the sleep period and a short run of
    ``Sleep stage ?`` in the final wake. A short night (e.g. 120 epochs) keeps wake edges
    and at least two cycles, so that every stage occurs.

    Parameters
    ----------
    n_epochs : int
        Number of 30-s epochs, at least 40.
    rng : int, Generator or None
        Seed or random generator.

    Returns
    -------
    ndarray of str, shape (n_epochs,)
        ``"Sleep stage W"``, ``"Sleep stage 1"``, ..., ``"Sleep stage 4"``,
        ``"Sleep stage R"``, ``"Sleep stage ?"`` or ``"Movement time"``.
    """
    if n_epochs < 40:
        raise TinySleepNetError(f"a simulated night needs at least 40 epochs, got {n_epochs}")
    rng = np.random.default_rng(rng)
    sleep_epochs = min(int(rng.integers(*_SLEEP_PERIOD_EPOCHS)), round(0.76 * n_epochs))
    n_cycles = max(2, round(sleep_epochs / _CYCLE_EPOCHS))
    weights = rng.uniform(0.8, 1.2, n_cycles)
    bounds = np.round(np.cumsum(weights) / weights.sum() * sleep_epochs).astype(int)
    cycle_epochs = np.diff(bounds, prepend=0)
    sleep = np.concatenate([_sleep_cycle(n, i, rng) for i, n in enumerate(cycle_epochs)])
    _sprinkle(sleep, rng)
    wake_epochs = n_epochs - len(sleep)
    lights_off = round(rng.uniform(0.35, 0.6) * wake_epochs)
    morning = np.full(wake_epochs - lights_off, RK_TEXT[0], dtype=object)
    unknown = int(rng.integers(len(morning) // 3, len(morning) - 3, endpoint=True))
    morning[unknown : unknown + int(rng.integers(1, 4))] = RK_TEXT[UNSCORED]
    texts = np.concatenate([np.full(lights_off, RK_TEXT[0], dtype=object), sleep, morning])
    return texts.astype(str)


def _sleep_cycle(n_epochs: int, index: int, rng: np.random.Generator) -> np.ndarray:
    """R&K texts of one NREM-REM cycle: [brief awakening], N1, N2, N3, N2, REM."""
    awake = 0 if index == 0 else int(rng.integers(0, 3))
    n1 = max(1, round(n_epochs * (0.07 if index == 0 else 0.04)))
    n3 = round(n_epochs * max(0.0, 0.35 - 0.12 * index))
    rem = max(1, round(n_epochs * min(0.1 + 0.08 * index, 0.4)))
    n2 = n_epochs - awake - n1 - n3 - rem
    deep = n3 // 2 if index < 2 else 0  # R&K stage 4 only in the heart of early slow-wave sleep
    light = n3 - deep
    runs = [
        (RK_TEXT[0], awake),
        (RK_TEXT[1], n1),
        (RK_TEXT[2], n2 - n2 // 3),
        (RK_TEXT[3], light // 2),
        (_STAGE_4, deep),
        (RK_TEXT[3], light - light // 2),
        (RK_TEXT[2], n2 // 3),
        (RK_TEXT[4], rem),
    ]
    texts, counts = zip(*runs, strict=True)
    return np.repeat(np.array(texts, dtype=object), counts)


def _sprinkle(sleep: np.ndarray, rng: np.random.Generator) -> None:
    """Add in place the single-epoch shifts of real scoring: N1 and W arousals, movements."""
    draw = rng.random(len(sleep))
    sleep[(sleep == RK_TEXT[2]) & (draw < 0.03)] = RK_TEXT[1]
    sleep[np.isin(sleep, [RK_TEXT[2], RK_TEXT[4]]) & (draw > 0.995)] = RK_TEXT[0]
    sleep[rng.choice(len(sleep), size=int(rng.integers(1, 4)), replace=False)] = _MOVEMENT


# --------------------------------------------------------------------------- EEG


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
    signals, _ = _simulate_eeg(
        stages, sfreq, np.random.default_rng(rng), difficulty, ["EEG Fpz-Cz"]
    )
    return signals["EEG Fpz-Cz"]


def _simulate_eeg(
    stages: np.ndarray,
    sfreq: float,
    rng: np.random.Generator,
    difficulty: float,
    channels: Sequence[str],
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """EEG/EOG derivations sharing the same brain sources, and the per-epoch profile."""
    stages = _check_stages(stages)
    if not (float(sfreq).is_integer() and sfreq >= 50):
        raise TinySleepNetError(f"sfreq must be a whole number of Hz, at least 50; got {sfreq}")
    if difficulty < 0:
        raise TinySleepNetError(f"difficulty must be 0 or more, got {difficulty}")
    per_sec = int(sfreq)
    n_samples = len(stages) * _SECONDS_PER_EPOCH * per_sec
    profile = _epoch_profile(stages, rng, difficulty)
    per_second_uv = _per_second(profile[:, :_N_RHYTHMS])
    rhythm_uv = {name: per_second_uv[:, [i]] for i, name in enumerate(_RHYTHM_UV)}
    filters = _rhythm_filters(sfreq, rng)
    noise_samples = n_samples + len(filters["background"]) - 1  # what "valid" filtering eats
    # Brain rhythms are shared by the derivations; the background differs between electrodes.
    # The rhythms occupy disjoint bands, so filtering one white noise keeps them independent.
    white = rng.standard_normal(noise_samples, dtype=np.float32)
    shared = {
        name: oaconvolve(white, filters[name], mode="valid").reshape(-1, per_sec) * rhythm_uv[name]
        for name in _RHYTHM_UV
        if name != "background"
    }
    transients = _transients(profile, sfreq, rng)
    gain = np.exp(rng.normal(0.0, 0.15 * difficulty))  # scalp and skull of this subject
    signals = {}
    for channel in channels:
        weight = _CHANNEL_GAIN[channel]
        white = rng.standard_normal(noise_samples, dtype=np.float32)
        background = oaconvolve(white, filters["background"], mode="valid").reshape(-1, per_sec)
        x = weight.get("background", 1.0) * background * rhythm_uv["background"]
        for name, source in shared.items():
            x += weight.get(name, 1.0) * source
        x = x.ravel()
        for kind, (onsets, waves) in transients.items():
            _add_at(x, onsets, weight.get(kind, 1.0) * waves)
        _flatten(x, sfreq, rng)
        signals[channel] = (gain * x).astype(np.float32)
    return signals, profile


def _check_stages(stages: np.ndarray) -> np.ndarray:
    stages = np.asarray(stages)
    if stages.ndim != 1 or len(stages) == 0:
        raise TinySleepNetError(f"stages must be a non-empty 1-D array, got shape {stages.shape}")
    bad = ~np.isin(stages, [*range(N_STAGES), UNSCORED])
    if bad.any():
        raise TinySleepNetError(
            f"stages must be class ids 0..4 or {UNSCORED}; got {stages[bad][0]}"
        )
    return stages.astype(np.int64)


def _epoch_profile(stages: np.ndarray, rng: np.random.Generator, difficulty: float) -> np.ndarray:
    """Per epoch, the amplitude of every rhythm, rate of every transient and chin EMG level.

    Each epoch borrows a random fraction of the profile of a neighbouring epoch's stage (or of
    a stage it resembles), and every feature varies between nights and between epochs.
    """
    rows = np.where(stages == UNSCORED, _ROW_UNSCORED, stages)
    previous, following = np.r_[rows[0], rows[:-1]], np.r_[rows[1:], rows[-1]]
    resembling = (rng.random((len(rows), 1)) > _RESEMBLES[rows].cumsum(axis=1)).sum(axis=1)
    partner = np.where(
        following != rows, following, np.where(previous != rows, previous, resembling)
    )
    borrowed = np.minimum(difficulty * _AMBIGUITY[rows] * rng.beta(2.0, 3.0, len(rows)), 0.5)
    profile = (1 - borrowed[:, None]) * _PROFILE[rows] + borrowed[:, None] * _PROFILE[partner]
    night = rng.normal(0.0, 0.2 * difficulty, len(_COLUMNS))
    epoch = rng.normal(0.0, 0.15 * difficulty, profile.shape)
    return profile * np.exp(night + epoch)


def _per_second(epoch_values: np.ndarray) -> np.ndarray:
    """Per-epoch values, one row per second, ramping from epoch to epoch over a few seconds."""
    seconds = np.repeat(epoch_values, _SECONDS_PER_EPOCH, axis=0)
    return uniform_filter1d(seconds, _BLEND_SEC, axis=0, mode="nearest").astype(np.float32)


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


# --------------------------------------------------------------------------- transients

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


def _transients(
    profile: np.ndarray, sfreq: float, rng: np.random.Generator
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Onsets (samples) and waveforms (uV, Fpz-Cz) of every transient of the night."""
    samples_per_epoch = _SECONDS_PER_EPOCH * sfreq
    transients = {}
    for kind, (window_sec, waveform) in _WAVEFORMS.items():
        per_epoch = profile[:, _COLUMNS.index(kind)] * EPOCH_SEC / 60
        epochs = np.repeat(np.arange(len(profile)), rng.poisson(per_epoch))
        onsets = ((epochs + rng.random(len(epochs))) * samples_per_epoch).astype(np.int64)
        t = np.arange(round(window_sec * sfreq)) / sfreq
        transients[kind] = (onsets, waveform(t, len(onsets), rng).astype(np.float32))
    return transients


def _add_at(x: np.ndarray, onsets: np.ndarray, waves: np.ndarray) -> None:
    """Add each waveform (row of ``waves``) to ``x`` from its onset, cut at the end of ``x``."""
    index = onsets[:, None] + np.arange(waves.shape[1])
    inside = index < len(x)
    np.add.at(x, index[inside], waves[inside])


def _flatten(x: np.ndarray, sfreq: float, rng: np.random.Generator) -> None:
    """Flat-line a few seconds in place, as a disconnected electrode does (~one per 12 h)."""
    hours = len(x) / sfreq / 3600
    for _ in range(rng.poisson(hours / 12)):
        first = int(rng.integers(len(x)))
        x[first : first + int(rng.uniform(5, 30) * sfreq)] = 0.0


# --------------------------------------------------------------------------- other channels


def _psg_channels(
    stages: np.ndarray, sfreq: float, rng: np.random.Generator, difficulty: float
) -> list[EdfChannel]:
    """The seven channels of a Sleep-EDF sleep-cassette PSG, in file order."""
    signals, profile = _simulate_eeg(stages, sfreq, rng, difficulty, list(_CHANNEL_GAIN))
    asleep = _per_second(np.isin(stages, [1, 2, 3, 4]).astype(float)[:, None])[:, 0]
    chin = _per_second(profile[:, [_COLUMNS.index("chin_emg")]])[:, 0]
    seconds = len(asleep)
    # Breathing slows in sleep; at 1 Hz, as Sleep-EDF stores it, the waveform is aliased.
    breath_hz = 0.28 - 0.05 * asleep + rng.normal(0.0, 0.01, seconds)
    resp = 200 * np.sin(2 * np.pi * np.cumsum(breath_hz)) + rng.normal(0.0, 20.0, seconds)
    # Core temperature falls by about half a degree over the night's sleep.
    temp = 37.2 - 0.5 * uniform_filter1d(asleep, 3600, mode="nearest")
    return [
        # Like the amplifier, the file saturates at its physical range.
        *(
            EdfChannel(label, np.clip(x, *_EEG_RANGE_UV), sfreq, "uV", _EEG_RANGE_UV)
            for label, x in signals.items()
        ),
        EdfChannel("Resp oro-nasal", resp, 1.0, "", (-2048.0, 2048.0)),
        EdfChannel(
            "EMG submental", chin * rng.lognormal(0.0, 0.3, seconds), 1.0, "uV", (0.0, 500.0)
        ),
        EdfChannel("Temp rectal", temp + rng.normal(0.0, 0.01, seconds), 1.0, "DegC", (34.0, 40.0)),
        EdfChannel("Event marker", np.zeros(seconds), 1.0, "", (0.0, 1.0)),
    ]


# --------------------------------------------------------------------------- files


def simulate_night(
    out_dir: str | Path,
    name: str | None = None,
    *,
    hypnogram: str | Path | np.ndarray | Sequence[str] | Sequence[int] | None = None,
    n_epochs: int | None = None,
    sfreq: float = 100.0,
    record_sec: float = 30.0,
    start: dt.datetime = DEFAULT_START,
    seed: SeedLike = None,
    difficulty: float = 1.0,
    hypnogram_extra_epochs: int = 40,
) -> SimulatedNight:
    """Write a simulated Sleep-EDF night: a PSG file and its hypnogram file.

    The PSG ``<name>-PSG.edf`` holds the channels of Sleep-EDF's sleep-cassette study
    (:data:`SLEEP_EDF_CHANNELS`): "EEG Fpz-Cz", "EEG Pz-Oz" and "EOG horizontal" at
    ``sfreq`` in uV, then "Resp oro-nasal", "EMG submental", "Temp rectal" and
    "Event marker" at 1 Hz. The hypnogram ``SC4ssNx?-Hypnogram.edf`` is an annotation-only
    EDF+ of R&K texts ("Sleep stage W/1/2/3/4/R/?", "Movement time"), one annotation per run
    of epochs, running past the end of the signal as real Sleep-EDF hypnograms do.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write to (created if needed).
    name : str or None
        Record name of the PSG, ``SC4ssNE0`` (``ss`` subject, ``N`` night). Default: that
        of ``hypnogram`` when it is a Sleep-EDF hypnogram file, else ``"SC4001E0"``.
    hypnogram : path, array or None
        Scoring to follow: ``None`` simulates one (:func:`simulate_hypnogram`); a hypnogram
        file (e.g. one of :func:`~tinysleepnet.data.resources.official_hypnograms`); or one
        R&K text or class id (0..4, :data:`~tinysleepnet.stages.UNSCORED`) per 30-s epoch.
        R&K stages 3 and 4 both give N3 EEG; ``?`` and Movement epochs give wake with
        frequent movement artefacts.
    n_epochs : int or None
        30-s epochs of signal. Default: 2800 for a simulated scoring, the official length
        (:func:`~tinysleepnet.data.resources.official_n_epochs`) for a Sleep-EDF hypnogram
        file, else the length of the given scoring. Epochs past the scoring are scored ``?``.
    sfreq : float
        Sampling rate of the EEG and EOG in Hz (Sleep-EDF: 100).
    record_sec : float
        Duration of the PSG's data records in seconds: 30 as in Sleep-EDF, 60 as in its
        SC4362F0, whose file holds whole 60-s records; a signal of an odd number of epochs
        is then lengthened by one epoch, scored ``?`` when the scoring ends there.
    start : datetime
        Start of the recording.
    seed : int, sequence of int, Generator or None
        Seed of the simulation.
    difficulty : float
        See :func:`simulate_eeg`.
    hypnogram_extra_epochs : int
        The written hypnogram covers at least this many epochs past the signal (appending
        ``Sleep stage ?``, as Sleep-EDF's hypnograms do).

    Returns
    -------
    SimulatedNight
        Paths and lengths of what was written.

    Raises
    ------
    RecordingError
        If the hypnogram file cannot be read.
    TinySleepNetError
        If an argument is invalid.
    """
    if hypnogram_extra_epochs < 0:
        raise TinySleepNetError(
            f"hypnogram_extra_epochs must be 0 or more, got {hypnogram_extra_epochs}"
        )
    rng = np.random.default_rng(seed)
    scoring, name, scorer = _scoring(hypnogram, name, n_epochs, rng)
    if n_epochs is None:
        n_epochs = _default_n_epochs(hypnogram, scoring)
    n_epochs = _whole_records(n_epochs, record_sec)
    shortfall = n_epochs + hypnogram_extra_epochs - len(scoring)
    scoring = np.concatenate([scoring, np.full(max(shortfall, 0), RK_TEXT[UNSCORED])])
    stages = np.array([stage_from_annotation(text) for text in scoring[:n_epochs]])
    out_dir = Path(out_dir)
    psg = out_dir / f"{name}-PSG.edf"
    hypnogram_path = out_dir / f"{name[:7]}{scorer}-Hypnogram.edf"
    write_edf(psg, _psg_channels(stages, sfreq, rng, difficulty), start, record_sec=record_sec)
    write_annotations_edf(hypnogram_path, hypnogram_annotations(scoring), start)
    return SimulatedNight(psg, hypnogram_path, n_epochs, len(scoring), record_sec)


def hypnogram_annotations(scoring: Sequence[str] | np.ndarray) -> list[tuple[float, float, str]]:
    """Annotations of a scoring, one per run of equal epochs, as Sleep-EDF stores them.

    Parameters
    ----------
    scoring : sequence of str
        One annotation text per 30-s epoch.

    Returns
    -------
    list of (onset_s, duration_s, text)
        Onsets in seconds from the start of the recording.
    """
    scoring = np.asarray(scoring)
    starts = np.flatnonzero(np.r_[True, scoring[1:] != scoring[:-1]])
    stops = np.r_[starts[1:], len(scoring)]
    return [
        (float(a * EPOCH_SEC), float((b - a) * EPOCH_SEC), str(scoring[a]))
        for a, b in zip(starts, stops, strict=True)
    ]


def _scoring(
    hypnogram: str | Path | np.ndarray | Sequence[str] | Sequence[int] | None,
    name: str | None,
    n_epochs: int | None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, str, str]:
    """The night's R&K texts per epoch, its PSG record name and its scorer letter."""
    scorer = "C"
    if hypnogram is None:
        scoring = simulate_hypnogram(n_epochs or DEFAULT_N_EPOCHS, rng=rng)
    elif isinstance(hypnogram, str | Path):
        scoring = _read_scoring(hypnogram)
        if _is_sleep_edf_hypnogram(hypnogram):  # keep its scorer letter, e.g. SC4011EH
            scorer = Path(hypnogram).name[7]
            name = name or psg_name_for(hypnogram).removesuffix("-PSG.edf")
    else:
        scoring = np.asarray(hypnogram)
        if scoring.dtype.kind in "iu":
            scoring = np.array([RK_TEXT[stage] for stage in _check_stages(scoring).tolist()])
    name = name or "SC4001E0"
    if not _PSG_NAME.fullmatch(name):
        raise TinySleepNetError(f"name {name!r}: expected a Sleep-EDF record name like 'SC4001E0'")
    return scoring.astype(str), name, scorer


def _read_scoring(path: str | Path) -> np.ndarray:
    """One annotation text per 30-s epoch of a hypnogram file, ``?`` where none."""
    annotations = read_hypnogram(path)
    stops = np.round((annotations.onset + annotations.duration) / EPOCH_SEC).astype(int)
    scoring = np.full(stops.max(initial=0), RK_TEXT[UNSCORED], dtype=object)
    for onset, stop, text in zip(annotations.onset, stops, annotations.description, strict=True):
        text = text.strip()
        if stage_from_annotation(text) != UNSCORED or text in UNSCORED_TEXTS:
            scoring[round(onset / EPOCH_SEC) : stop] = text
    return scoring


def _is_sleep_edf_hypnogram(path: str | Path) -> bool:
    try:
        psg_name_for(path)
    except RecordingError:
        return False
    return True


def _default_n_epochs(hypnogram: object, scoring: np.ndarray) -> int:
    if isinstance(hypnogram, str | Path) and _is_sleep_edf_hypnogram(hypnogram):
        official = official_n_epochs(hypnogram)
        if official is not None:
            return official
    return len(scoring)


def _whole_records(n_epochs: int, record_sec: float) -> int:
    """Number of epochs lengthened to whole data records of ``record_sec`` seconds."""
    if n_epochs < 1:
        raise TinySleepNetError(f"n_epochs must be at least 1, got {n_epochs}")
    epochs_per_record = record_sec / EPOCH_SEC
    if record_sec <= 0 or not (
        epochs_per_record.is_integer() or (1 / epochs_per_record).is_integer()
    ):
        raise TinySleepNetError(
            f"record_sec must divide 30 s or be a multiple of it (Sleep-EDF: 30); got {record_sec}"
        )
    per_record = max(1, int(epochs_per_record))
    return -(-n_epochs // per_record) * per_record


def simulate_cohort(
    out_dir: str | Path,
    subjects: Iterable[int] = (0, 1),
    *,
    nights: Sequence[int] = (1, 2),
    from_official: bool = False,
    n_epochs: int | None = None,
    record_sec: float = 30.0,
    seed: int = 0,
    difficulty: float = 1.0,
    quirks: bool = True,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Write a Sleep-EDF-shaped cohort of simulated nights.

    Night ``N`` of subject ``ss`` is ``SC4ssNE0-PSG.edf`` with ``SC4ssNEC-Hypnogram.edf``
    (or the official hypnogram's name), starting one day after the subject's previous night.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write to.
    subjects : iterable of int
        Subject numbers, 0..99 (0..7 with ``from_official``).
    nights : sequence of int
        Nights of each subject, 1 and/or 2.
    from_official : bool
        Follow the packaged official hypnograms of Sleep-EDF subjects 0-7, at the official
        PSG lengths, instead of simulated scorings.
    n_epochs : int or None
        30-s epochs per simulated night (default 2800; e.g. 120 for fast tests). Not allowed
        with ``from_official``, whose nights have their real length.
    record_sec : float
        Duration of the PSGs' data records in seconds (see :func:`simulate_night`).
    seed : int
        Seed of the cohort; each night's simulation depends only on it, the subject and
        the night, whatever ``n_jobs``.
    difficulty : float
        See :func:`simulate_eeg`.
    quirks : bool
        Write the last night with 60-s data records, like Sleep-EDF's SC4362F0.
    n_jobs : int
        Nights simulated in parallel (joblib; -1 for all cores).

    Returns
    -------
    pandas.DataFrame
        One row per night: ``name``, ``subject`` (``"00"``), ``night``, ``psg``,
        ``hypnogram``, ``n_epochs``, ``hypnogram_epochs``, ``record_sec`` and ``source``
        (the official hypnogram followed, or ``"simulated"``).

    Raises
    ------
    TinySleepNetError
        If a subject or night is out of range, or ``n_epochs`` is given with
        ``from_official``.
    """
    if from_official and n_epochs is not None:
        raise TinySleepNetError(
            "n_epochs cannot be set with from_official: nights keep their real length"
        )
    plan = [(subject, night) for subject in subjects for night in nights]
    for subject, night in plan:
        if not (0 <= subject <= 99 and night in (1, 2)):
            raise TinySleepNetError(
                f"subject {subject} night {night}: expected subjects 0-99, nights 1-2"
            )
    sources = [_official_hypnogram(s, n) if from_official else None for s, n in plan]
    written = Parallel(n_jobs=n_jobs)(
        delayed(simulate_night)(
            out_dir,
            f"SC4{subject:02d}{night}E0",
            hypnogram=source,
            n_epochs=n_epochs,
            record_sec=60.0 if quirks and i == len(plan) - 1 else record_sec,
            start=DEFAULT_START + dt.timedelta(days=2 * subject + night - 1),
            seed=[seed, subject, night],
            difficulty=difficulty,
        )
        for i, ((subject, night), source) in enumerate(zip(plan, sources, strict=True))
    )
    return pd.DataFrame(
        {
            "name": [w.psg.name.removesuffix("-PSG.edf") for w in written],
            "subject": [f"{subject:02d}" for subject, _ in plan],
            "night": [night for _, night in plan],
            "psg": [w.psg for w in written],
            "hypnogram": [w.hypnogram for w in written],
            "n_epochs": [w.n_epochs for w in written],
            "hypnogram_epochs": [w.hypnogram_epochs for w in written],
            "record_sec": [w.record_sec for w in written],
            "source": [source.name if source else "simulated" for source in sources],
        }
    )


def _official_hypnogram(subject: int, night: int) -> Path:
    """The packaged official hypnogram of a Sleep-EDF subject's night."""
    for path in official_hypnograms():
        if path.name.startswith(f"SC4{subject:02d}{night}"):
            return path
    raise TinySleepNetError(
        f"no official hypnogram packaged for subject {subject} night {night} (subjects 0-7)"
    )
