"""Sleep stages: names, class ids, annotation texts, and hypnograms as runs of epochs.

The one home of the stage vocabulary (names and ids both ways; the Rechtschaffen & Kales
texts of Sleep-EDF and the AASM texts this package writes, both ways) and of the two
conversions between a hypnogram stored as annotations, one per run of equal epochs, and one
label per epoch (:func:`epoch_grid`, :func:`run_annotations`). It imports only NumPy, so
that every layer may use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: The five AASM stages in class-id order (0..4), as the model predicts them.
STAGES: tuple[str, ...] = ("W", "N1", "N2", "N3", "REM")
N_STAGES = len(STAGES)

#: Class id of each stage name (the inverse of :data:`STAGES`).
STAGE_IDS: dict[str, int] = {name: i for i, name in enumerate(STAGES)}

#: Class id of each stage, for code that looks for one (in the order of :data:`STAGES`).
WAKE, N1, N2, N3, REM = range(N_STAGES)

#: Label of an epoch that cannot be staged ("Sleep stage ?", "Movement time", unknown text).
UNSCORED = -1

#: Epoch length used throughout, in seconds (AASM and R&K).
EPOCH_SEC = 30.0

#: R&K annotation text Sleep-EDF writes for each class id and for :data:`UNSCORED`
#: (N3 as R&K stage 3; stage 4, also N3, is :data:`RK_STAGE_4`).
STAGE_TO_RK: dict[int, str] = {
    WAKE: "Sleep stage W",
    N1: "Sleep stage 1",
    N2: "Sleep stage 2",
    N3: "Sleep stage 3",
    REM: "Sleep stage R",
    UNSCORED: "Sleep stage ?",
}
RK_STAGE_4 = "Sleep stage 4"
MOVEMENT_TEXT = "Movement time"

#: Sleep-EDF annotation text -> class id. Stages 3 and 4 of R&K are both AASM N3.
RK_TO_STAGE: dict[str, int] = {
    **{text: stage for stage, text in STAGE_TO_RK.items() if stage != UNSCORED},
    RK_STAGE_4: N3,
}

#: Annotation texts that mark epochs to drop (kept until the wake trim is placed).
UNSCORED_TEXTS: tuple[str, ...] = (STAGE_TO_RK[UNSCORED], MOVEMENT_TEXT)

#: Texts written for each class id when this package produces annotations, in the same
#: "Sleep stage X" vocabulary as Sleep-EDF so its own reader and other tools understand them.
STAGE_TO_ANNOTATION: dict[int, str] = {
    WAKE: "Sleep stage W",
    N1: "Sleep stage N1",
    N2: "Sleep stage N2",
    N3: "Sleep stage N3",
    REM: "Sleep stage R",
}

_AASM_TEXTS = {text: stage for stage, text in STAGE_TO_ANNOTATION.items()}


def stage_from_annotation(text: str) -> int:
    """Class id of one annotation text, :data:`UNSCORED` for anything not a stage.

    Accepts the R&K texts of Sleep-EDF and the AASM texts this package writes.
    """
    text = text.strip()
    if text in RK_TO_STAGE:
        return RK_TO_STAGE[text]
    return _AASM_TEXTS.get(text, UNSCORED)


def stages_from_annotations(texts: Sequence[str] | np.ndarray) -> np.ndarray:
    """Class ids (int64) of annotation texts, one by one (:func:`stage_from_annotation`)."""
    return np.array([stage_from_annotation(str(text)) for text in texts], dtype=np.int64)


def is_stage_annotation(text: str) -> bool:
    """Whether an annotation scores its epochs: a stage, ``Sleep stage ?`` or Movement time.

    Other annotations of a hypnogram file (arousals, lights off, ...) score nothing.
    """
    return stage_from_annotation(text) != UNSCORED or text.strip() in UNSCORED_TEXTS


def stage_names(stages: np.ndarray) -> list[str]:
    """Stage names for an array of class ids (``"?"`` for :data:`UNSCORED`)."""
    return [STAGES[s] if 0 <= s < N_STAGES else "?" for s in np.asarray(stages).tolist()]


def stage_runs(labels: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of consecutive equal labels (class ids, annotation texts, flags...).

    Parameters
    ----------
    labels : array, shape (n_epochs,)
        One label per epoch, e.g. class ids with :data:`UNSCORED` allowed.

    Returns
    -------
    first : ndarray of int
        Index of the first epoch of each run.
    length : ndarray of int
        Epochs in each run.
    label : ndarray
        Label of each run, of the dtype of ``labels``.
    """
    labels = np.asarray(labels)
    if labels.size == 0:
        empty = np.zeros(0, dtype=int)
        return empty, empty.copy(), labels[:0]
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    first = np.r_[0, change]
    stop = np.r_[change, labels.size]
    return first, stop - first, labels[first]


def run_annotations(
    labels: Sequence[Any] | np.ndarray, epoch_sec: float = EPOCH_SEC
) -> list[tuple[float, float, Any]]:
    """One ``(onset_s, duration_s, label)`` per run of equal labels, as hypnograms store them.

    Parameters
    ----------
    labels : array, shape (n_epochs,)
        One label per epoch (class id or annotation text).
    epoch_sec : float
        Epoch length in seconds.

    Returns
    -------
    list of (float, float, label)
        Onsets in seconds from the first epoch; labels as Python scalars (int, str).

    Examples
    --------
    >>> run_annotations(["Sleep stage W", "Sleep stage W", "Sleep stage 1"])
    [(0.0, 60.0, 'Sleep stage W'), (60.0, 30.0, 'Sleep stage 1')]
    """
    first, length, label = stage_runs(labels)
    return [
        (float(f * epoch_sec), float(n * epoch_sec), value)
        for f, n, value in zip(first.tolist(), length.tolist(), label.tolist(), strict=True)
    ]


def epoch_grid(
    onsets_s: Sequence[float] | np.ndarray,
    durations_s: Sequence[float] | np.ndarray,
    labels: Sequence[Any] | np.ndarray,
    fill: Any,
    n_epochs: int | None = None,
    epoch_sec: float = EPOCH_SEC,
) -> np.ndarray:
    """One label per epoch, from annotations that each cover a run of whole epochs.

    The inverse of :func:`run_annotations`: an annotation starting at epoch ``round(onset /
    epoch_sec)`` and lasting ``round(duration / epoch_sec)`` epochs gives its label to
    them; a later annotation overwrites an earlier one where they overlap.

    Parameters
    ----------
    onsets_s, durations_s : array of float, shape (n_annotations,)
        Onset and duration of each annotation, in seconds from the first epoch.
    labels : array, shape (n_annotations,)
        Label of each annotation (class id or annotation text).
    fill : int or str
        Label of the epochs no annotation covers (:data:`UNSCORED`, ``"Sleep stage ?"``).
    n_epochs : int or None
        Length of the result: epochs past it are cut off, missing ones filled, epochs
        before the first (negative onsets) cut off too. None: up to the end of the
        annotation that ends last.
    epoch_sec : float
        Epoch length in seconds.

    Returns
    -------
    ndarray, shape (n_epochs,)
        Of the dtype of ``labels`` and ``fill`` together.

    Examples
    --------
    >>> epoch_grid([0.0, 60.0], [60.0, 30.0], [0, 2], fill=UNSCORED, n_epochs=4)
    array([ 0,  0,  2, -1])
    >>> epoch_grid([-30.0, 30.0], [60.0, 1e12], [1, 3], fill=UNSCORED, n_epochs=3)
    array([1, 3, 3])
    """
    labels = np.asarray(labels)
    size = epochs_covered(onsets_s, durations_s, epoch_sec) if n_epochs is None else n_epochs
    grid = np.full(size, fill, dtype=np.result_type(labels, np.asarray(fill)))
    for onset, duration, label in zip(onsets_s, durations_s, labels, strict=True):
        first = round(float(onset) / epoch_sec)
        last = first + round(float(duration) / epoch_sec)
        # Only the part within the epochs: an annotation starting before the first epoch
        # labels the epochs it reaches, one lasting past the last is cut there (the grid is
        # never larger than asked, however long an annotation claims to last).
        grid[min(max(first, 0), size) : min(max(last, 0), size)] = label
    return grid


def annotation_stages(
    onsets_s: Sequence[float] | np.ndarray,
    durations_s: Sequence[float] | np.ndarray,
    texts: Sequence[str] | np.ndarray,
    n_epochs: int | None = None,
    epoch_sec: float = EPOCH_SEC,
) -> np.ndarray:
    """One class id per epoch from a hypnogram's annotations (:func:`epoch_grid` of their
    stages).

    Annotations that score no epoch (arousals, lights off: :func:`is_stage_annotation`) are
    ignored; ``Sleep stage ?``, Movement time and epochs no annotation covers are
    :data:`UNSCORED`.

    Parameters
    ----------
    onsets_s, durations_s : array of float, shape (n_annotations,)
        Onset and duration of each annotation, in seconds from the first epoch.
    texts : array of str, shape (n_annotations,)
        Their texts.
    n_epochs : int or None
        Length of the result (see :func:`epoch_grid`); None: up to the end of the stage
        annotation that ends last.
    epoch_sec : float
        Epoch length in seconds.

    Returns
    -------
    ndarray of int64, shape (n_epochs,)

    Examples
    --------
    >>> annotation_stages([0.0, 30.0, 45.0], [30.0, 60.0, 0.0],
    ...                   ["Sleep stage W", "Sleep stage 2", "Arousal"])
    array([0, 2, 2])
    """
    scoring = np.array([is_stage_annotation(str(text)) for text in texts], dtype=bool)
    stages = stages_from_annotations(np.asarray(texts, dtype=object)[scoring])
    onsets = np.asarray(onsets_s, dtype=np.float64)[scoring]
    durations = np.asarray(durations_s, dtype=np.float64)[scoring]
    return epoch_grid(onsets, durations, stages, UNSCORED, n_epochs, epoch_sec)


def epochs_covered(
    onsets_s: Sequence[float] | np.ndarray,
    durations_s: Sequence[float] | np.ndarray,
    epoch_sec: float = EPOCH_SEC,
) -> int:
    """Epochs from the first to the end of the annotation that ends last (0 for none)."""
    end_s = np.max(np.add(onsets_s, durations_s, dtype=np.float64), initial=0.0)
    return round(float(end_s) / epoch_sec)
