"""Simulated scorings: one R&K annotation text per 30-s epoch of a Sleep-EDF night.

Also the scoring of a hypnogram file (:func:`read_scoring`); the texts and the conversions
between annotations and epochs are those of :mod:`tinysleepnet.stages`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ...errors import TinySleepNetError
from ...io.hypnogram import read_hypnogram, scoring_annotations
from ...stages import (
    MOVEMENT_TEXT,
    N1,
    N2,
    N3,
    REM,
    RK_STAGE_4,
    STAGE_TO_RK,
    UNSCORED,
    WAKE,
    epoch_grid,
)

#: Length of a Sleep-EDF sleep-cassette recording in 30-s epochs (about 23 h).
DEFAULT_N_EPOCHS = 2800

_CYCLE_EPOCHS = 180  # a 90-min NREM-REM cycle
_SLEEP_PERIOD_EPOCHS = (840, 960)  # 7-8 h in bed, lights off to lights on

SeedLike = int | Sequence[int] | np.random.SeedSequence | np.random.Generator | None


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
    morning = np.full(wake_epochs - lights_off, STAGE_TO_RK[WAKE], dtype=object)
    unknown = int(rng.integers(len(morning) // 3, len(morning) - 3, endpoint=True))
    morning[unknown : unknown + int(rng.integers(1, 4))] = STAGE_TO_RK[UNSCORED]
    texts = np.concatenate([np.full(lights_off, STAGE_TO_RK[WAKE], dtype=object), sleep, morning])
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
        (STAGE_TO_RK[WAKE], awake),
        (STAGE_TO_RK[N1], n1),
        (STAGE_TO_RK[N2], n2 - n2 // 3),
        (STAGE_TO_RK[N3], light // 2),
        (RK_STAGE_4, deep),
        (STAGE_TO_RK[N3], light - light // 2),
        (STAGE_TO_RK[N2], n2 // 3),
        (STAGE_TO_RK[REM], rem),
    ]
    texts, counts = zip(*runs, strict=True)
    return np.repeat(np.array(texts, dtype=object), counts)


def _sprinkle(sleep: np.ndarray, rng: np.random.Generator) -> None:
    """Add in place the single-epoch shifts of real scoring: N1 and W arousals, movements."""
    draw = rng.random(len(sleep))
    sleep[(sleep == STAGE_TO_RK[N2]) & (draw < 0.03)] = STAGE_TO_RK[N1]
    sleep[np.isin(sleep, [STAGE_TO_RK[N2], STAGE_TO_RK[REM]]) & (draw > 0.995)] = STAGE_TO_RK[WAKE]
    sleep[rng.choice(len(sleep), size=int(rng.integers(1, 4)), replace=False)] = MOVEMENT_TEXT


def read_scoring(path: str | Path) -> np.ndarray:
    """One annotation text per 30-s epoch of a hypnogram file, ``?`` where none."""
    scoring = scoring_annotations(read_hypnogram(path))
    texts = scoring.description.astype(object)  # MNE's variable-width strings, as Python str
    return epoch_grid(scoring.onset, scoring.duration, texts, STAGE_TO_RK[UNSCORED])
