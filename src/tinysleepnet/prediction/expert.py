"""An expert's hypnogram set beside a staging: one expert stage per staged epoch.

The hypnogram is read with MNE, shifted when it starts a whole number of epochs after the
recording (its own EDF start time), and laid on the staging's epochs; what could make the
comparison misleading is said in notes (labels the tool does not know, a scoring off the
epoch grid) or refused (a hypnogram of another recording).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import mne
import numpy as np

from ..errors import PathError
from ..io.hypnogram import (
    ALIGN_TOLERANCE_SEC,
    align_to_recording,
    epoch_labels,
    read_hypnogram,
    scoring_annotations,
)
from ..scoring.hypnogram import Hypnogram
from ..stages import UNSCORED, UNSCORED_TEXTS, stage_from_annotation
from .outputs import UNSCORABLE_TEXT
from .result import StagingResult
from .review import REVIEW_ANNOTATION


def expert_labels(
    hypnogram: str | Path, result: StagingResult, recording_start: dt.datetime | None
) -> tuple[np.ndarray, list[str]]:
    """The stages of :func:`expert_hypnogram`, one per staged epoch, and its notes.

    Returns
    -------
    labels : ndarray of int64, shape (n_epochs,)
        Class ids, ``UNSCORED`` where the expert gave none.
    notes : list of str
        See :func:`expert_hypnogram`.
    """
    expert, notes = expert_hypnogram(hypnogram, result, recording_start)
    return expert.stages.copy(), notes


def expert_hypnogram(
    hypnogram: str | Path, result: StagingResult, recording_start: dt.datetime | None
) -> tuple[Hypnogram, list[str]]:
    """An expert's hypnogram on the staged epochs, aligned on the recording's start time.

    What ``predict --hypnogram`` compares with; in Python, compare it with
    :attr:`StagingResult.hypnogram`, or pass it to :meth:`StagingResult.save` to write the
    agreement:

    >>> result = stage("night.edf")  # doctest: +SKIP
    >>> expert, notes = expert_hypnogram("expert.edf", result, result.start)  # doctest: +SKIP
    >>> result.save("out", "night", expert).agreement["kappa"]  # doctest: +SKIP

    Parameters
    ----------
    hypnogram : str or Path
        The expert hypnogram (any file :func:`~tinysleepnet.io.hypnogram.read_hypnogram`
        reads).
    result : StagingResult
        The staging it is compared with.
    recording_start : datetime or None
        The recording file's start; a hypnogram with another start is shifted by the
        difference when it is a whole number of epochs (None: taken as aligned).

    Returns
    -------
    expert : Hypnogram
        One stage per staged epoch (``UNSCORED`` where the expert gave none), with the
        staging's epoch length and start.
    notes : list of str
        The shift applied, labels the tool does not know with their counts (they are left
        out of the agreement), and how far off the staging's epochs the scoring lies when
        more than a second (each expert epoch is then paired with the staged epoch it
        overlaps most).

    Raises
    ------
    PathError
        If the hypnogram cannot be read or aligned, or scores no epoch of the recording.
    """
    hypnogram = Path(hypnogram)
    annotations = read_hypnogram(hypnogram)
    notes = []
    unknown = Counter(
        text.strip()
        for text in annotations.description
        if stage_from_annotation(text) == UNSCORED and not _known_unscored(text.strip())
    )
    if unknown:
        counts = ", ".join(f"{text!r} x{n}" for text, n in unknown.most_common())
        notes.append(f"hypnogram labels not known, left out of the agreement: {counts}")
    annotations, shift = align_to_recording(
        hypnogram, annotations, recording_start, result.epoch_sec
    )
    if shift:
        notes.append(f"hypnogram aligned by its start time ({shift:+g} s from the recording's)")
    if off_grid := _off_grid_sec(annotations, result.epoch_sec):
        notes.append(
            f"hypnogram epochs start up to {off_grid:.1f} s off the staging grid (scored at "
            "their own onsets, as in MASS): each is compared with the staged epoch it "
            "overlaps most, so the agreement is approximate"
        )
    try:
        labels = epoch_labels(annotations, result.n_epochs, result.epoch_sec)
    except ValueError as err:  # a hypnogram of another (shorter) recording
        raise PathError(hypnogram, str(err)) from err
    if np.all(labels == UNSCORED):
        raise PathError(hypnogram, "scores no epoch of the recording")
    return Hypnogram(labels, result.epoch_sec, result.start), notes


def _off_grid_sec(annotations: mne.Annotations, epoch_sec: float) -> float:
    """How far (s) the hypnogram's stage onsets lie from whole epochs of the recording at
    most; 0 when every one is within :data:`ALIGN_TOLERANCE_SEC`."""
    residual = np.asarray(scoring_annotations(annotations).onset) % epoch_sec
    off = float(np.minimum(residual, epoch_sec - residual).max(initial=0.0))
    return off if off > ALIGN_TOLERANCE_SEC else 0.0


def _known_unscored(text: str) -> bool:
    """Whether ``text`` is an annotation that scores no stage on purpose: ``?``, Movement,
    or one this tool writes (unscorable signal, review flags) in its own hypnograms."""
    return text in (*UNSCORED_TEXTS, REVIEW_ANNOTATION) or text.startswith(UNSCORABLE_TEXT)
