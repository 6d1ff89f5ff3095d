"""Reading expert hypnograms and turning them into one stage per 30-s epoch.

A hypnogram is a list of annotations (onset and duration in seconds, stage text), as in
Sleep-EDF's ``*-Hypnogram.edf`` files: each annotation covers a run of whole epochs.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import mne
import numpy as np

from ..errors import PathError
from ..stages import (
    EPOCH_SEC,
    UNSCORED,
    annotation_stages,
    epochs_covered,
    is_stage_annotation,
    stage_from_annotation,
)
from .recordings import edf_start
from .tables import read_text_table

logger = logging.getLogger("tinysleepnet")


def read_hypnogram(path: str | Path) -> mne.Annotations:
    """Read the sleep-stage annotations of a hypnogram file.

    Parameters
    ----------
    path : str or Path
        Any annotation file MNE reads: EDF+ (Sleep-EDF ``*-Hypnogram.edf``), FIF, TXT; or a
        CSV with columns ``onset`` and ``duration`` (seconds from the recording's start)
        and ``description`` (the stage text).

    Returns
    -------
    mne.Annotations
        Every annotation of the file; onsets in seconds from the start of the recording.

    Raises
    ------
    PathError
        If the file is missing, unreadable or holds no sleep-stage annotation.
    """
    path = Path(path)
    if not path.is_file():
        raise PathError(path, "file not found")
    if path.suffix.lower() == ".csv":  # MNE would take onsets in seconds for milliseconds
        annotations = _read_csv_hypnogram(path)
    else:
        try:
            annotations = mne.read_annotations(path)
        except Exception as err:  # MNE's readers raise many kinds of error on a bad file
            raise PathError.wrap(path, "not a readable hypnogram", err) from err
    if len(annotations) == 0:  # MNE reads a damaged EDF+ as one without annotations
        raise PathError(path, "not a readable hypnogram (no annotations found)")
    if not any(stage_from_annotation(text) != UNSCORED for text in annotations.description):
        raise PathError(path, "no sleep-stage annotations (e.g. 'Sleep stage W')")
    return annotations


#: Largest gap (s) between a hypnogram's start and a whole number of epochs from the
#: recording's start that is still taken as aligned: EDF headers keep whole seconds.
ALIGN_TOLERANCE_SEC = 1.0


def align_to_recording(
    path: str | Path,
    annotations: mne.Annotations,
    recording_start: dt.datetime | None,
    epoch_sec: float = EPOCH_SEC,
) -> tuple[mne.Annotations, float]:
    """A hypnogram's annotations counted from the recording's start instead of its own.

    Parameters
    ----------
    path : str or Path
        The hypnogram file: its start is its EDF header's (else the annotations'
        ``orig_time``).
    annotations : mne.Annotations
        Its annotations (:func:`read_hypnogram`).
    recording_start : datetime or None
        The recording's start; None (or a hypnogram without a start): taken as aligned.
    epoch_sec : float
        Epoch length in seconds.

    Returns
    -------
    annotations : mne.Annotations
        Onsets counted from the recording's start; the part of annotations before it cut,
        with a warning naming the file and the seconds cut.
    shift : float
        Seconds from the recording's start to the hypnogram's, a whole number of epochs
        (0.0 when they start together).

    Raises
    ------
    PathError
        If the two starts differ by more than :data:`ALIGN_TOLERANCE_SEC` from a whole
        number of epochs: the hypnogram's epochs cannot be laid on the recording's.
    """
    hypnogram_start = edf_start(path) or annotations.orig_time
    shift = 0.0
    if hypnogram_start is not None and recording_start is not None:
        offset = (
            hypnogram_start.replace(tzinfo=None) - recording_start.replace(tzinfo=None)
        ).total_seconds()
        epochs = offset / epoch_sec
        if abs(epochs - round(epochs)) * epoch_sec > ALIGN_TOLERANCE_SEC:
            raise PathError(
                path,
                f"starts {offset:+g} s from the recording, not a whole number of "
                f"{epoch_sec:g}-s epochs: its epochs cannot be aligned with the recording's",
            )
        shift = round(epochs) * epoch_sec
    onset = annotations.onset + shift
    if not shift and (len(onset) == 0 or onset.min() >= 0):
        return annotations, 0.0
    if len(onset) and (before := -float(onset.min())) > 0:
        logger.warning(
            "%s: its annotations begin %g s before the recording starts; that part is cut",
            path,
            before,
        )
    end = onset + annotations.duration
    keep = end > 0
    start = np.maximum(onset[keep], 0.0)
    return mne.Annotations(start, end[keep] - start, annotations.description[keep]), shift


#: Columns of a CSV hypnogram.
CSV_COLUMNS = ("onset", "duration", "description")


def _read_csv_hypnogram(path: Path) -> mne.Annotations:
    """A CSV hypnogram's annotations (:data:`CSV_COLUMNS`, times in seconds)."""
    table = read_text_table(path, required=CSV_COLUMNS)
    try:
        onset, duration = (table[column].astype(float).to_numpy() for column in CSV_COLUMNS[:2])
    except ValueError as err:
        raise PathError.wrap(
            path, "columns onset and duration must hold seconds (e.g. 0, 30, 60)", err
        ) from err
    if not (np.isfinite(onset).all() and np.isfinite(duration).all() and (duration >= 0).all()):
        raise PathError(path, "onset and duration must be finite and durations not negative")
    return mne.Annotations(onset, duration, table["description"].tolist())


def epoch_labels(
    annotations: mne.Annotations, n_epochs: int, epoch_sec: float = EPOCH_SEC
) -> np.ndarray:
    """One stage per epoch of a signal, from the onset/duration runs of a hypnogram.

    Parameters
    ----------
    annotations : mne.Annotations
        Hypnogram whose onsets are counted from the start of the signal.
    n_epochs : int
        Number of whole epochs of the signal; labels past it (hypnograms usually run past the
        end of the signal) are cut off.
    epoch_sec : float
        Epoch length in seconds.

    Returns
    -------
    ndarray of int64, shape (n_epochs,)
        Class ids 0..4; :data:`~tinysleepnet.stages.UNSCORED` for ``Sleep stage ?``,
        ``Movement time`` and epochs no stage annotation covers.

    Raises
    ------
    ValueError
        If the hypnogram ends more than one epoch before the signal: scorers may leave the
        final epoch out, but a longer gap means the hypnogram belongs to another recording.
    """
    scoring = scoring_annotations(annotations)
    scored_epochs = epochs_covered(scoring.onset, scoring.duration, epoch_sec)
    if scored_epochs < n_epochs - 1:
        raise ValueError(
            f"hypnogram covers {scored_epochs} epochs of {epoch_sec:g} s, "
            f"shorter than the signal's {n_epochs}"
        )
    return annotation_stages(
        scoring.onset, scoring.duration, scoring.description, n_epochs, epoch_sec
    )


def read_epoch_labels(
    path: str | Path,
    n_epochs: int,
    epoch_sec: float = EPOCH_SEC,
    recording_start: dt.datetime | None = None,
) -> np.ndarray:
    """:func:`epoch_labels` of the hypnogram file ``path``, aligned on ``recording_start``
    (see :func:`align_to_recording`).

    Raises
    ------
    PathError
        If the file cannot be read or aligned, or ends more than one epoch before the signal
        (naming ``path``).
    """
    annotations = read_hypnogram(path)  # its errors name the path already
    annotations, _ = align_to_recording(path, annotations, recording_start, epoch_sec)
    try:
        return epoch_labels(annotations, n_epochs, epoch_sec)
    except ValueError as err:  # a hypnogram of another (shorter) recording
        raise PathError(path, str(err)) from err


def scoring_annotations(annotations: mne.Annotations) -> mne.Annotations:
    """The annotations that score epochs: stages, ``Sleep stage ?`` and Movement time.

    Others (arousals, lights off, ...) are left out; texts are stripped of spaces.
    """
    keep = np.array([is_stage_annotation(text) for text in annotations.description], dtype=bool)
    return mne.Annotations(
        annotations.onset[keep],
        annotations.duration[keep],
        [text.strip() for text in annotations.description[keep]],
        orig_time=annotations.orig_time,
    )


#: Annotation texts that mark lights off and lights on (compared in lower case, the first
#: of each kept); as written by common PSG systems and in BIDS events.
LIGHTS_OFF_TEXTS = ("lights off", "lights out", "lightsoff", "lights_off")
LIGHTS_ON_TEXTS = ("lights on", "lightson", "lights_on")


def lights_times(annotations: mne.Annotations) -> tuple[float | None, float | None]:
    """Onsets (seconds from the recording's start) of the first "Lights off" and the last
    "Lights on" annotation, None for each the annotations lack.

    Examples
    --------
    >>> marks = mne.Annotations([60.0, 28860.0], [0.0, 0.0], ["Lights off", "Lights on"])
    >>> lights_times(marks)
    (60.0, 28860.0)
    """
    off = [o for o, t in zip(annotations.onset, annotations.description, strict=True)
           if t.strip().lower() in LIGHTS_OFF_TEXTS]  # fmt: skip
    on = [o for o, t in zip(annotations.onset, annotations.description, strict=True)
          if t.strip().lower() in LIGHTS_ON_TEXTS]  # fmt: skip
    return (float(off[0]) if off else None, float(on[-1]) if on else None)
