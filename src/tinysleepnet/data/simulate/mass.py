"""Simulated nights in MASS's layout, to try the MASS path without MASS.

Each night is a pair of EDF files as MASS ships them (see :mod:`tinysleepnet.data.mass`):
``01-0S-NNNN PSG.edf`` with "EEG F4-<ref>", "EEG C4-<ref>" and "EOG Left Horiz" at 256 Hz,
and ``01-0S-NNNN Base.edf``, an annotation-only EDF+ with one annotation per scored epoch
(20 or 30 s, as the subset is scored). As in MASS, the first scored epoch starts some
seconds after the PSG's first sample, the EEG electrodes are named with their reference
("CLE" for odd subjects, "LER" for even ones, so a cohort has both), and the last scored
epoch runs past the end of the signal. The EEG comes from :mod:`tinysleepnet.data.simulate.eeg`
(the Fpz-Cz model stands in for F4, the Pz-Oz one for C4, sharing the same brain sources).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from ...errors import TinySleepNetError
from ...io.edf_writer import EdfChannel, write_annotations_edf, write_edf
from ...stages import (
    EPOCH_SEC,
    N3,
    RK_STAGE_4,
    STAGE_TO_RK,
    UNSCORED,
    UNSCORED_TEXTS,
    stages_from_annotations,
)
from ..datasets import dataset
from ..naming import MassName
from .eeg import EEG_RANGE_UV, simulate_derivations
from .hypnogram import SeedLike, simulate_hypnogram

#: Recordings start in the evening (MASS's dates are anonymised).
DEFAULT_START = dt.datetime(2000, 1, 1, 22, 30)

#: Simulated source of each MASS channel (a channel of the Sleep-EDF-shaped simulation).
_SOURCES = {"EEG F4": "EEG Fpz-Cz", "EEG C4": "EEG Pz-Oz", "EOG Left Horiz": "EOG horizontal"}
_AASM_SUBSETS = (1, 3)  # scored per AASM: no R&K stage 4
_DEFAULT_EPOCHS_30S = 960  # 8 h from lights off to lights on


@dataclass(frozen=True)
class SimulatedMassNight:
    """The files of one simulated MASS night.

    Attributes
    ----------
    psg, base : Path
        ``01-0S-NNNN PSG.edf`` and ``01-0S-NNNN Base.edf``.
    n_epochs : int
        Scored epochs in the Base file (the last one runs past the signal).
    epoch_sec : float
        Epoch length in seconds.
    offset_sec : float
        Onset of the first scored epoch after the PSG's first sample.
    eeg_channel : str
        Name of the F4 EEG in the PSG (``"EEG F4-CLE"`` or ``"EEG F4-LER"``).
    """

    psg: Path
    base: Path
    n_epochs: int
    epoch_sec: float
    offset_sec: float
    eeg_channel: str


def simulate_mass_night(
    out_dir: str | Path,
    subset: int = 3,
    subject: int = 1,
    *,
    n_epochs: int | None = None,
    offset_sec: float | None = None,
    eeg_reference: str | None = None,
    sfreq: float = 256.0,
    start: dt.datetime = DEFAULT_START,
    seed: SeedLike = None,
    difficulty: float = 1.0,
) -> SimulatedMassNight:
    """Write one simulated MASS night: its PSG and Base files.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write to (created if needed).
    subset : int
        MASS subset 1..5; sets the epoch length (20 s for SS4 and SS5, else 30 s) and the
        stage texts (no "Sleep stage 4" in the AASM subsets SS1 and SS3).
    subject : int
        Subject number, 1..9999.
    n_epochs : int or None
        Scored epochs; default 8 h of them.
    offset_sec : float or None
        Onset of the first scored epoch, in seconds after the PSG's first sample; default a
        random 0.1-s step below one epoch.
    eeg_reference : {"CLE", "LER"} or None
        Reference in the EEG channel names; default "CLE" for odd subjects, "LER" for even.
    sfreq : float
        Sampling rate of the signals in Hz.
    start : datetime
        Start of the recording.
    seed : int, sequence of int, Generator or None
        Seed of the simulation.
    difficulty : float
        See :func:`~tinysleepnet.data.simulate.simulate_eeg`.

    Returns
    -------
    SimulatedMassNight
        Paths and layout of what was written.
    """
    if not 1 <= subset <= 5 or not 1 <= subject <= 9999:
        raise TinySleepNetError(f"subset {subset} subject {subject}: expected 1-5 and 1-9999")
    epoch_sec = dataset(f"mass-ss{subset}").epoch_sec
    rng = np.random.default_rng(seed)
    n_epochs = n_epochs or round(_DEFAULT_EPOCHS_30S * EPOCH_SEC / epoch_sec)
    if offset_sec is None:
        offset_sec = math.floor(rng.uniform(0.0, epoch_sec) * 10) / 10
    reference = eeg_reference or ("CLE" if subject % 2 else "LER")
    # the signal ends half-way through the last scored epoch
    seconds = math.ceil(offset_sec + (n_epochs - 0.5) * epoch_sec)
    scoring = simulate_hypnogram(max(40, math.ceil(seconds / EPOCH_SEC)), rng=rng)
    scoring = np.where(np.isin(scoring, UNSCORED_TEXTS), STAGE_TO_RK[UNSCORED], scoring)
    if subset in _AASM_SUBSETS:
        scoring = np.where(scoring == RK_STAGE_4, STAGE_TO_RK[N3], scoring)
    stages = stages_from_annotations(scoring)
    signals, _ = simulate_derivations(stages, sfreq, rng, difficulty, list(_SOURCES.values()))
    channels = [
        EdfChannel(
            f"{label}-{reference}" if label.startswith("EEG") else label,
            np.clip(signals[source][: round(seconds * sfreq)], *EEG_RANGE_UV),
            sfreq,
            "uV",
            EEG_RANGE_UV,
        )
        for label, source in _SOURCES.items()
    ]
    onsets = offset_sec + epoch_sec * np.arange(n_epochs)
    # each epoch is scored as the 30-s simulated stage at its middle
    texts = scoring[((onsets + epoch_sec / 2) // EPOCH_SEC).astype(int)]
    out_dir = Path(out_dir)
    name = MassName(subset, subject)
    psg = out_dir / name.psg_file
    base = out_dir / name.base_file
    write_edf(psg, channels, start, record_sec=1.0)
    annotations = [
        (round(float(onset), 6), epoch_sec, str(text))
        for onset, text in zip(onsets, texts, strict=True)
    ]
    write_annotations_edf(base, annotations, start)
    return SimulatedMassNight(psg, base, n_epochs, epoch_sec, offset_sec, channels[0].label)


def simulate_mass_cohort(
    out_dir: str | Path,
    subset: int = 3,
    subjects: Iterable[int] = (1, 2),
    *,
    n_epochs: int | None = None,
    seed: int = 0,
    difficulty: float = 1.0,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Write a cohort of simulated MASS nights of one subset (one night per subject).

    Parameters
    ----------
    out_dir : str or Path
        Folder to write to.
    subset : int
        MASS subset 1..5.
    subjects : iterable of int
        Subject numbers, 1..9999; odd ones get "CLE" EEG names, even ones "LER".
    n_epochs : int or None
        Scored epochs per night (default 8 h of them; e.g. 120 for fast tests).
    seed : int
        Seed of the cohort; each night depends only on it and the subject.
    difficulty : float
        See :func:`~tinysleepnet.data.simulate.simulate_eeg`.
    n_jobs : int
        Nights simulated in parallel (joblib; -1 for all cores).

    Returns
    -------
    pandas.DataFrame
        One row per night: ``name``, ``subject``, ``psg``, ``base``, ``n_epochs``,
        ``epoch_sec``, ``offset_sec`` and ``eeg_channel``.
    """
    subjects = list(subjects)
    written = Parallel(n_jobs=n_jobs)(
        delayed(simulate_mass_night)(
            out_dir,
            subset,
            subject,
            n_epochs=n_epochs,
            start=DEFAULT_START + dt.timedelta(days=subject),
            seed=[seed, subset, subject],
            difficulty=difficulty,
        )
        for subject in subjects
    )
    return pd.DataFrame(
        {
            "name": [MassName.parse(w.psg).night_name for w in written],
            "subject": [f"{subject:04d}" for subject in subjects],
            "psg": [w.psg for w in written],
            "base": [w.base for w in written],
            "n_epochs": [w.n_epochs for w in written],
            "epoch_sec": [w.epoch_sec for w in written],
            "offset_sec": [w.offset_sec for w in written],
            "eeg_channel": [w.eeg_channel for w in written],
        }
    )
