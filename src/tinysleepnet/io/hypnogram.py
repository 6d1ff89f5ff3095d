"""Reading expert hypnograms and turning them into one stage per 30-s epoch.

A hypnogram is a list of annotations (onset and duration in seconds, stage text), as in
Sleep-EDF's ``*-Hypnogram.edf`` files: each annotation covers a run of whole epochs.
"""

from __future__ import annotations

from pathlib import Path

import mne
import numpy as np

from ..errors import PathError
from ..stages import (
    EPOCH_SEC,
    UNSCORED,
    epoch_grid,
    epochs_covered,
    is_stage_annotation,
    stage_from_annotation,
    stages_from_annotations,
)


def read_hypnogram(path: str | Path) -> mne.Annotations:
    """Read the sleep-stage annotations of a hypnogram file.

    Parameters
    ----------
    path : str or Path
        Any annotation file MNE reads: EDF+ (Sleep-EDF ``*-Hypnogram.edf``), FIF, CSV, TXT.

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
    try:
        annotations = mne.read_annotations(path)
    except Exception as err:  # MNE's readers raise many kinds of error on a bad file
        raise PathError.wrap(path, "not a readable hypnogram", err) from err
    if len(annotations) == 0:  # MNE reads a damaged EDF+ as one without annotations
        raise PathError(path, "not a readable hypnogram (no annotations found)")
    if not any(stage_from_annotation(text) != UNSCORED for text in annotations.description):
        raise PathError(path, "no sleep-stage annotations (e.g. 'Sleep stage W')")
    return annotations


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
    stages = stages_from_annotations(scoring.description)
    return epoch_grid(scoring.onset, scoring.duration, stages, UNSCORED, n_epochs, epoch_sec)


def read_epoch_labels(path: str | Path, n_epochs: int, epoch_sec: float = EPOCH_SEC) -> np.ndarray:
    """:func:`epoch_labels` of the hypnogram file ``path``.

    Raises
    ------
    PathError
        If the file cannot be read, or ends more than one epoch before the signal (naming
        ``path``).
    """
    annotations = read_hypnogram(path)  # its errors name the path already
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


def recording_lights(path: str | Path) -> tuple[float | None, float | None]:
    """:func:`lights_times` of a recording file's own annotations (EDF+, BDF+, FIF); a
    file without annotations, or one MNE reads none from, gives ``(None, None)``."""
    try:
        annotations = mne.read_annotations(path)
    except (OSError, ValueError, RuntimeError, TypeError):
        return None, None
    return lights_times(annotations)
