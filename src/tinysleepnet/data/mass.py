"""MASS (Montreal Archive of Sleep Studies): file naming, pairing, and epochs cut where scored.

MASS ships each night as two EDF files side by side (named as
:class:`~tinysleepnet.data.naming.MassName` parses them): ``CC-SS-NNNN PSG.edf`` (the signals)
and ``CC-SS-NNNN Base.edf`` (EDF+ holding only annotations, one per scored epoch:
"Sleep stage W", "1", "2", "3", "4", "R" or "?"). In ``01-03-0012``, ``03`` is the subset
(SS3) and ``0012`` the subject; every subject has one night. Subsets SS1 and SS3 are scored
in 30-s epochs per AASM, SS2, SS4 and SS5 per R&K, SS4 and SS5 in 20-s epochs.

A scored epoch starts where its annotation says, which need not be a multiple of the epoch
length from the PSG's first sample (a first epoch at 7.3 s gives epochs at 7.3 s, 37.3 s,
...), so the signal is cut at the annotations' own onsets (:func:`annotated_epochs`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import mne
import numpy as np
import pandas as pd

from ..errors import PathError
from ..io.hypnogram import read_hypnogram, scoring_annotations
from ..io.recordings import Recording, edf_start
from ..stages import stage_from_annotation
from .naming import PAIR_COLUMNS, MassName, pair_row

logger = logging.getLogger("tinysleepnet")

#: Where MASS comes from, for messages about missing files.
MASS_SOURCE = "http://ceams-carsm.ca/mass/ (credentialed access; CEAMS, Montreal)"


def find_mass_pairs(folder: str | Path, subset: int) -> pd.DataFrame:
    """Pair every MASS PSG of one subset under ``folder`` (searched recursively) with its Base.

    Parameters
    ----------
    folder : str or Path
        Folder holding ``CC-SS-NNNN PSG.edf`` and ``CC-SS-NNNN Base.edf`` files.
    subset : int
        1..5: only files whose second name field is this subset are taken.

    Returns
    -------
    pandas.DataFrame
        One row per night, sorted by name, with columns ``name`` (``"01-03-0001"``),
        ``subject`` (``"0001"``), ``night`` (1), ``psg`` and ``hypnogram`` (the Base file).

    Raises
    ------
    PathError
        If a PSG has no Base file beside it (naming both).
    """
    rows = []
    for psg in sorted(Path(folder).rglob("* PSG.edf")):
        try:
            name = MassName.parse(psg)
        except PathError:
            continue  # not a MASS recording
        if name.subset != subset:
            continue
        base = psg.with_name(name.base_file)
        if not base.is_file():
            raise PathError(
                psg, f"no annotation file {base.name!r} beside it; MASS scores each night there"
            )
        rows.append(pair_row(name, psg, base))
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def annotated_epochs(
    annotations: mne.Annotations,
    n_samples: int,
    sfreq: float,
    epoch_sec: float,
    path: str | Path = "<annotations>",
) -> tuple[np.ndarray, np.ndarray]:
    """First sample and stage of every scored epoch, cut where the annotations say.

    An annotation lasting ``k`` epochs gives ``k`` consecutive epochs from its onset.
    Epochs are kept in time order; an epoch that starts before the previous one ends
    (overlapping scoring) is dropped, as is one starting before the signal or running past
    its end. Gaps between annotations are left out: no epoch is invented there.

    Parameters
    ----------
    annotations : mne.Annotations
        Stage annotations, onsets in seconds from the signal's first sample.
    n_samples : int
        Length of the signal in samples.
    sfreq : float
        Sampling rate of the signal in Hz.
    epoch_sec : float
        Epoch length in seconds (MASS: 30, or 20 for SS4 and SS5).
    path : str or Path
        File named in errors and log messages.

    Returns
    -------
    starts : ndarray of int64, shape (n_epochs,)
        First sample of each epoch.
    stages : ndarray of int64, shape (n_epochs,)
        Class ids 0..4, :data:`~tinysleepnet.stages.UNSCORED` for ``Sleep stage ?``.

    Raises
    ------
    PathError
        If a stage annotation does not last a whole number of ``epoch_sec`` epochs (the
        file is scored in epochs of another length), or no epoch lies inside the signal.
    """
    onsets, stages = _epoch_onsets(annotations, epoch_sec, path, n_samples / sfreq)
    order = np.argsort(onsets, kind="stable")
    starts = np.round(onsets[order] * sfreq).astype(np.int64)
    stages = stages[order]
    epoch_samples = round(epoch_sec * sfreq)
    inside = (starts >= 0) & (starts + epoch_samples <= n_samples)
    keep = np.zeros(len(starts), dtype=bool)
    free_from = 0  # first sample not yet in a kept epoch
    for i in np.flatnonzero(inside):
        if starts[i] >= free_from:
            keep[i] = True
            free_from = starts[i] + epoch_samples
    if n_overlapping := int(np.sum(inside & ~keep)):
        logger.warning("%s: %d overlapping scored epochs dropped", path, n_overlapping)
    if n_outside := int(np.sum(~inside)):
        logger.info("%s: %d scored epochs outside the signal dropped", path, n_outside)
    if not keep.any():
        raise PathError(path, "no scored epoch lies inside the signal")
    return starts[keep], stages[keep]


def read_annotated_epochs(
    recording: Recording, base: str | Path, epoch_sec: float
) -> tuple[np.ndarray, np.ndarray]:
    """The epochs of ``recording`` its Base file scores, and their stages.

    Onsets count from the Base file's start: when it differs from the recording's (both
    read from their EDF headers), the onsets are moved by the difference.

    Returns
    -------
    epochs : ndarray of float32, shape (n_epochs, epoch_sec * sfreq)
        The signal of each scored epoch, in microvolts.
    stages : ndarray of int64, shape (n_epochs,)
        Class ids 0..4, :data:`~tinysleepnet.stages.UNSCORED` for ``?``.
    """
    annotations = read_hypnogram(base)
    base_start = edf_start(base)
    shift_sec = 0.0
    if base_start is not None and recording.start is not None:
        shift_sec = (base_start - recording.start.replace(tzinfo=None)).total_seconds()
    shifted = mne.Annotations(
        annotations.onset + shift_sec, annotations.duration, annotations.description
    )
    starts, stages = annotated_epochs(
        shifted, recording.signal_uv.size, recording.sfreq, epoch_sec, base
    )
    epoch_samples = round(epoch_sec * recording.sfreq)
    epochs = recording.signal_uv[starts[:, None] + np.arange(epoch_samples)]
    return epochs, stages


def _epoch_onsets(
    annotations: mne.Annotations, epoch_sec: float, path: str | Path, signal_sec: float
) -> tuple[np.ndarray, np.ndarray]:
    """Onset (s) and stage of every epoch the stage annotations cover within the signal's
    first ``signal_sec`` seconds, in file order (an annotation claiming to last far past
    the signal gives only the epochs that can lie in it, not an array of its length)."""
    scoring = scoring_annotations(annotations)
    onsets, stages = [], []
    for onset, duration, text in zip(
        scoring.onset, scoring.duration, scoring.description, strict=True
    ):
        stage = stage_from_annotation(text)
        n_epochs = round(duration / epoch_sec)
        if n_epochs < 1 or abs(duration - n_epochs * epoch_sec) > 1e-3:
            raise PathError(
                path,
                f"stage annotation {text!r} at {onset:g} s lasts {duration:g} s, not "
                f"a whole number of {epoch_sec:g}-s epochs; is the night scored in "
                f"{duration:g}-s epochs?",
            )
        # only the epochs that can start inside the signal
        first = max(0, int(np.ceil(-onset / epoch_sec)))
        last = min(n_epochs, max(0, int(np.ceil((signal_sec - onset) / epoch_sec))))
        onsets.extend(onset + epoch_sec * np.arange(first, max(first, last)))
        stages.extend([stage] * max(0, last - first))
    return np.asarray(onsets, dtype=np.float64), np.asarray(stages, dtype=np.int64)
