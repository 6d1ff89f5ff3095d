"""Writers for a staged night: hypnogram CSV, EDF+ annotations, JSON and text tables.

Every file is written atomically (:mod:`tinysleepnet.io.atomic`): it is either complete on
disk or absent, so an interrupted batch never leaves a half-written hypnogram.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import mne
import numpy as np
import pandas as pd

from ..io.atomic import atomic_path
from ..io.edf_writer import write_annotations_edf
from ..stages import STAGE_TO_ANNOTATION, STAGES, UNSCORED, stage_names
from .statistics import stage_runs

#: Start written in EDF headers when the recording's is unknown: the EDF+ convention for an
#: anonymised start date (1 January 1985).
ANONYMOUS_START = dt.datetime(1985, 1, 1)


def hypnogram_frame(
    stages: np.ndarray, proba: np.ndarray, epoch_sec: float, start: dt.datetime | None
) -> pd.DataFrame:
    """One row per epoch: timing, stage, stage probabilities and confidence.

    Parameters
    ----------
    stages : ndarray of int, shape (n_epochs,)
        Predicted class ids.
    proba : ndarray, shape (n_epochs, 5)
        Stage probabilities, columns in :data:`~tinysleepnet.stages.STAGES` order.
    epoch_sec : float
        Epoch length in seconds.
    start : datetime or None
        Recording start; adds a ``clock_time`` column (ISO 8601) when given.

    Returns
    -------
    DataFrame
        Columns ``onset_sec``, ``duration_sec``, [``clock_time``], ``stage`` (name),
        ``prob_W`` ... ``prob_REM`` and ``confidence`` (the largest probability).
    """
    onset = np.arange(len(stages)) * epoch_sec
    frame = pd.DataFrame({"onset_sec": onset, "duration_sec": epoch_sec})
    if start is not None:
        frame["clock_time"] = [(start + dt.timedelta(seconds=s)).isoformat() for s in onset]
    frame["stage"] = stage_names(stages)
    for i, name in enumerate(STAGES):
        frame[f"prob_{name}"] = proba[:, i]
    frame["confidence"] = proba.max(axis=1)
    return frame


def write_csv(path: str | Path, frame: pd.DataFrame) -> None:
    """Write a table as CSV (no index), atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")


def stage_annotations(stages: np.ndarray, epoch_sec: float) -> list[tuple[float, float, str]]:
    """``(onset_s, duration_s, text)`` of each run of one stage, as Sleep-EDF hypnograms store them.

    Consecutive epochs of the same stage are merged into one annotation (unscored epochs get
    none); texts are ``"Sleep stage W"``, ``"Sleep stage N1"`` ... ``"Sleep stage R"``.
    """
    first, length, stage = stage_runs(stages)
    return [
        (float(f * epoch_sec), float(n * epoch_sec), STAGE_TO_ANNOTATION[int(s)])
        for f, n, s in zip(first, length, stage, strict=True)
        if s != UNSCORED
    ]


def to_annotations(
    stages: np.ndarray, epoch_sec: float, start: dt.datetime | None
) -> mne.Annotations:
    """The hypnogram as :class:`mne.Annotations`, one per run (:func:`stage_annotations`).

    ``orig_time`` is ``start``, so the annotations can be set on the recording's ``Raw``.
    """
    runs = stage_annotations(stages, epoch_sec)
    onset, duration, description = zip(*runs, strict=True) if runs else ((), (), ())
    return mne.Annotations(onset, duration, description, orig_time=start)


def write_hypnogram_edf(
    path: str | Path, stages: np.ndarray, epoch_sec: float, start: dt.datetime | None
) -> None:
    """Write the hypnogram as an annotation-only EDF+ file (EDFbrowser and MNE open it).

    When ``start`` is unknown the header carries :data:`ANONYMOUS_START`.
    """
    write_annotations_edf(path, stage_annotations(stages, epoch_sec), start or ANONYMOUS_START)


def agreement_table(scores: dict[str, Any]) -> str:
    """A plain-text summary of :func:`~tinysleepnet.evaluation.metrics.scores`.

    Accuracy, macro-F1 and kappa, per-stage F1, then the confusion matrix (rows: expert,
    columns: predicted).
    """
    lines = [
        f"Epochs compared   {scores['n_epochs']}",
        f"Accuracy          {scores['acc']:.3f}",
        f"Macro-F1          {scores['mf1']:.3f}",
        f"Cohen's kappa     {scores['kappa']:.3f}",
        "",
        "F1 per stage      "
        + "  ".join(f"{name} {scores['per_stage'][name]['f1']:.3f}" for name in STAGES),
        "",
        "Confusion (rows: expert, columns: predicted)",
        f"{'':>8}" + "".join(f"{name:>8}" for name in STAGES),
    ]
    for name, row in zip(STAGES, scores["confusion"], strict=True):
        lines.append(f"{name:>8}" + "".join(f"{count:>8}" for count in row))
    return "\n".join(lines) + "\n"
