"""Sleep-EDF-shaped cohorts of simulated nights, simulated in parallel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from ...errors import TinySleepNetError
from ..naming import SleepEdfName
from ..resources import official_hypnograms
from .night import DEFAULT_START, simulate_night


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
    progress: bool = False,
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
    progress : bool
        Show a progress bar over the nights (on stderr, when it is a terminal).

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
    jobs = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(simulate_night)(
            out_dir,
            SleepEdfName("SC", subject, night).night_name,
            hypnogram=source,
            n_epochs=n_epochs,
            record_sec=60.0 if quirks and i == len(plan) - 1 else record_sec,
            start=DEFAULT_START + dt.timedelta(days=2 * subject + night - 1),
            seed=[seed, subject, night],
            difficulty=difficulty,
        )
        for i, ((subject, night), source) in enumerate(zip(plan, sources, strict=True))
    )
    bar = tqdm(
        jobs, total=len(plan), desc="simulating", unit="night", disable=None if progress else True
    )
    written = list(bar)
    return pd.DataFrame(
        {
            "name": [SleepEdfName.parse(w.psg).night_name for w in written],
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
        name = SleepEdfName.parse(path)
        if (name.subject, name.night) == (subject, night):
            return path
    raise TinySleepNetError(
        f"no official hypnogram packaged for subject {subject} night {night} (subjects 0-7)"
    )
