"""Stage profiles: the features of each stage's EEG, drawn per 30-s epoch of a night."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from ...errors import TinySleepNetError
from ...stages import EPOCH_SEC, N_STAGES, UNSCORED

SECONDS_PER_EPOCH = int(EPOCH_SEC)
_BLEND_SEC = 8  # stages fade into each other over this long, in seconds

# Stage profiles: one value per row W, N1, N2, N3, REM, unscored ("?", Movement time).
_ROW_UNSCORED = N_STAGES

#: Standard deviation (uV) of each ongoing rhythm in Fpz-Cz.
RHYTHM_UV: dict[str, tuple[float, ...]] = {
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

COLUMNS = (*RHYTHM_UV, *_TRANSIENT_PER_MIN, "chin_emg")
_PROFILE = np.array([*RHYTHM_UV.values(), *_TRANSIENT_PER_MIN.values(), _CHIN_EMG_UV]).T

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


def check_stages(stages: np.ndarray) -> np.ndarray:
    """``stages`` as an array, refused unless a non-empty 1-D array of class ids or
    :data:`~tinysleepnet.stages.UNSCORED` (:class:`~tinysleepnet.errors.TinySleepNetError`)."""
    stages = np.asarray(stages)
    if stages.ndim != 1 or len(stages) == 0:
        raise TinySleepNetError(f"stages must be a non-empty 1-D array, got shape {stages.shape}")
    bad = ~np.isin(stages, [*range(N_STAGES), UNSCORED])
    if bad.any():
        raise TinySleepNetError(
            f"stages must be class ids 0..4 or {UNSCORED}; got {stages[bad][0]}"
        )
    return stages.astype(np.int64)


def epoch_profile(stages: np.ndarray, rng: np.random.Generator, difficulty: float) -> np.ndarray:
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
    night = rng.normal(0.0, 0.2 * difficulty, len(COLUMNS))
    epoch = rng.normal(0.0, 0.15 * difficulty, profile.shape)
    return profile * np.exp(night + epoch)


def per_second(epoch_values: np.ndarray) -> np.ndarray:
    """Per-epoch values, one row per second, ramping from epoch to epoch over a few seconds."""
    seconds = np.repeat(epoch_values, SECONDS_PER_EPOCH, axis=0)
    return uniform_filter1d(seconds, _BLEND_SEC, axis=0, mode="nearest").astype(np.float32)
