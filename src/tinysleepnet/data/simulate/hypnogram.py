"""Simulated scorings: one R&K annotation text per 30-s epoch of a Sleep-EDF night.

Also the two conversions between a scoring and a hypnogram file's annotations.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ...errors import TinySleepNetError
from ...io.hypnogram import read_hypnogram
from ...stages import EPOCH_SEC, UNSCORED, UNSCORED_TEXTS, stage_from_annotation

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


def read_scoring(path: str | Path) -> np.ndarray:
    """One annotation text per 30-s epoch of a hypnogram file, ``?`` where none."""
    annotations = read_hypnogram(path)
    stops = np.round((annotations.onset + annotations.duration) / EPOCH_SEC).astype(int)
    scoring = np.full(stops.max(initial=0), RK_TEXT[UNSCORED], dtype=object)
    for onset, stop, text in zip(annotations.onset, stops, annotations.description, strict=True):
        text = text.strip()
        if stage_from_annotation(text) != UNSCORED or text in UNSCORED_TEXTS:
            scoring[round(onset / EPOCH_SEC) : stop] = text
    return scoring
