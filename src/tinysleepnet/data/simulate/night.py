"""The files of one simulated Sleep-EDF night: a PSG and its hypnogram."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ...errors import PathError, TinySleepNetError
from ...io.edf_writer import write_annotations_edf, write_edf
from ...stages import EPOCH_SEC, STAGE_TO_RK, UNSCORED, run_annotations, stages_from_annotations
from ..naming import SleepEdfName
from ..resources import official_n_epochs
from .channels import psg_channels
from .hypnogram import DEFAULT_N_EPOCHS, SeedLike, read_scoring, simulate_hypnogram
from .profile import check_stages

#: Sleep-EDF recordings start in the afternoon (SC4001E0: 1989-04-24 16:13).
DEFAULT_START = dt.datetime(1989, 4, 24, 16, 13)


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
    PathError
        If the hypnogram file cannot be read.
    TinySleepNetError
        If an argument is invalid.
    """
    if hypnogram_extra_epochs < 0:
        raise TinySleepNetError(
            f"hypnogram_extra_epochs must be 0 or more, got {hypnogram_extra_epochs}"
        )
    rng = np.random.default_rng(seed)
    scoring, night = _scoring(hypnogram, name, n_epochs, rng)
    if n_epochs is None:
        n_epochs = _default_n_epochs(hypnogram, scoring)
    n_epochs = _whole_records(n_epochs, record_sec)
    shortfall = n_epochs + hypnogram_extra_epochs - len(scoring)
    scoring = np.concatenate([scoring, np.full(max(shortfall, 0), STAGE_TO_RK[UNSCORED])])
    stages = stages_from_annotations(scoring[:n_epochs])
    out_dir = Path(out_dir)
    psg = out_dir / night.psg_file
    hypnogram_path = out_dir / night.hypnogram_file
    write_edf(psg, psg_channels(stages, sfreq, rng, difficulty), start, record_sec=record_sec)
    write_annotations_edf(hypnogram_path, run_annotations(scoring), start)
    return SimulatedNight(psg, hypnogram_path, n_epochs, len(scoring), record_sec)


def _scoring(
    hypnogram: str | Path | np.ndarray | Sequence[str] | Sequence[int] | None,
    name: str | None,
    n_epochs: int | None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, SleepEdfName]:
    """The night's R&K texts per epoch, and its name with the scorer's letter."""
    scorer = "C"
    if hypnogram is None:
        scoring = simulate_hypnogram(n_epochs or DEFAULT_N_EPOCHS, rng=rng)
    elif isinstance(hypnogram, str | Path):
        scoring = read_scoring(hypnogram)
        if (official := _sleep_edf_hypnogram(hypnogram)) is not None:
            scorer = official.scorer or scorer  # keep its scorer letter, e.g. SC4011EH
            name = name or official.night_name
    else:
        scoring = np.asarray(hypnogram)
        if scoring.dtype.kind in "iu":
            scoring = np.array([STAGE_TO_RK[stage] for stage in check_stages(scoring).tolist()])
    night = SleepEdfName.parse(name or "SC4001E0")
    return scoring.astype(str), replace(night, scorer=scorer)


def _sleep_edf_hypnogram(path: str | Path) -> SleepEdfName | None:
    """The name of a hypnogram file named as in Sleep-EDF, else None."""
    try:
        name = SleepEdfName.parse(path)
    except PathError:
        return None
    return name if name.scorer is not None else None


def _default_n_epochs(hypnogram: object, scoring: np.ndarray) -> int:
    if isinstance(hypnogram, str | Path) and _sleep_edf_hypnogram(hypnogram) is not None:
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
