"""Writers for a staged night: hypnogram CSV, EDF+ annotations, JSON and text tables.

Every file is written atomically (:mod:`tinysleepnet.io.atomic`): it is either complete on
disk or absent, so an interrupted batch never leaves a half-written hypnogram.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import mne
import numpy as np
import pandas as pd

from ..io.atomic import atomic_path, stale_partials
from ..io.edf_writer import write_annotations_edf
from ..io.quality import OK
from ..scoring.hypnogram import Hypnogram
from ..stages import STAGES, run_annotations, stage_names
from .bids import events_paths
from .review import review_annotations

#: Start written in EDF headers when the recording's is unknown: the EDF+ convention for an
#: anonymised start date (1 January 1985).
ANONYMOUS_START = dt.datetime(1985, 1, 1)

#: Files of one staging, ``<name>_<suffix>``, keyed as :meth:`StagingResult.save` returns
#: them; with the BIDS events files (:func:`~.bids.events_paths`) they are every file of a
#: set, so that re-staging can remove stale ones.
OUTPUT_FILES = {
    "csv": "hypnogram.csv",
    "edf": "hypnogram.edf",
    "png": "hypnogram.png",
    "statistics": "statistics.json",
    "statistics_txt": "statistics.txt",
    "agreement": "agreement.json",
    "agreement_txt": "agreement.txt",
}

#: Text of the EDF+ annotation over a run of unscorable epochs, completed by the reason.
UNSCORABLE_TEXT = "Unscorable signal: "


def output_paths(out_dir: str | Path, name: str) -> dict[str, Path]:
    """Every file a staging of ``name`` may write into ``out_dir`` (:data:`OUTPUT_FILES`
    and the BIDS ``events`` and ``events_json``)."""
    paths = {key: Path(out_dir) / f"{name}_{suffix}" for key, suffix in OUTPUT_FILES.items()}
    paths["events"], paths["events_json"] = events_paths(out_dir, name)
    return paths


def colliding_recordings(recordings: Iterable[str | Path]) -> str | None:
    """A message naming the first two recordings whose outputs would overwrite each other
    (outputs are named after the file's stem), or None when every stem differs."""
    seen: dict[str, Path] = {}
    for path in map(Path, recordings):
        if (first := seen.setdefault(path.stem, path)) is not path:
            return f"{first} and {path} share the name {path.stem!r}: their outputs would collide"
    return None


def existing_outputs(out_dir: str | Path, name: str) -> list[Path]:
    """The files of an earlier staging of ``name`` in ``out_dir``, with temporary files
    a killed run left (:func:`~tinysleepnet.io.atomic.stale_partials`)."""
    paths = output_paths(out_dir, name).values()
    return [p for path in paths for p in (path, *stale_partials(path)) if p.is_file()]


def remove_stale_outputs(out_dir: str | Path, name: str, keep: Iterable[Path]) -> list[Path]:
    """Remove the files of an earlier staging of ``name`` that are not in ``keep``.

    Returns
    -------
    list of Path
        The files removed.
    """
    keep = {Path(path) for path in keep}
    stale = [path for path in existing_outputs(out_dir, name) if path not in keep]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def hypnogram_frame(
    stages: np.ndarray,
    proba: np.ndarray,
    epoch_sec: float,
    start: dt.datetime | None,
    quality: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per epoch: timing, stage, stage probabilities, confidence and signal quality.

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
    quality : ndarray of str, shape (n_epochs,) or None
        ``"ok"`` or why the epoch is unscorable; None: every epoch is scorable.

    Returns
    -------
    DataFrame
        Columns ``onset_sec``, ``duration_sec``, [``clock_time``], ``stage`` (name, ``"?"``
        for an unscorable epoch), ``prob_W`` ... ``prob_REM`` and ``confidence`` (the largest
        probability; empty for an unscorable epoch) and ``quality``.
    """
    onset = np.arange(len(stages)) * epoch_sec
    frame = pd.DataFrame({"onset_sec": onset, "duration_sec": epoch_sec})
    if start is not None:
        frame["clock_time"] = [(start + dt.timedelta(seconds=s)).isoformat() for s in onset]
    frame["stage"] = stage_names(stages)
    for i, name in enumerate(STAGES):
        frame[f"prob_{name}"] = proba[:, i]
    frame["confidence"] = proba.max(axis=1)
    frame["quality"] = OK if quality is None else quality
    return frame


def write_csv(path: str | Path, frame: pd.DataFrame) -> None:
    """Write a table as CSV (no index), atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")


def stage_annotations(
    stages: np.ndarray, epoch_sec: float, quality: np.ndarray | None = None
) -> list[tuple[float, float, str]]:
    """``(onset_s, duration_s, text)`` of each run of one stage, as Sleep-EDF hypnograms store them.

    Consecutive epochs of the same stage are merged into one annotation (unscored epochs get
    none); texts are ``"Sleep stage W"``, ``"Sleep stage N1"`` ... ``"Sleep stage R"``. With
    ``quality``, each run of epochs unscorable for one reason gets an annotation
    ``"Unscorable signal: <reason>"`` (e.g. ``"Unscorable signal: flat"``), in time order.
    """
    runs = Hypnogram(stages, epoch_sec).to_annotations()
    if quality is not None:
        reasons, codes = np.unique(quality, return_inverse=True)
        runs += [
            (onset, duration, UNSCORABLE_TEXT + reasons[code])
            for onset, duration, code in run_annotations(codes, epoch_sec)
            if reasons[code] != OK
        ]
    return sorted(runs)


def to_annotations(
    stages: np.ndarray,
    epoch_sec: float,
    start: dt.datetime | None,
    quality: np.ndarray | None = None,
) -> mne.Annotations:
    """The hypnogram as :class:`mne.Annotations`, one per run (:func:`stage_annotations`).

    ``orig_time`` is ``start``, so the annotations can be set on the recording's ``Raw``.
    """
    runs = stage_annotations(stages, epoch_sec, quality)
    onset, duration, description = zip(*runs, strict=True) if runs else ((), (), ())
    return mne.Annotations(onset, duration, description, orig_time=start)


def write_hypnogram_edf(
    path: str | Path,
    stages: np.ndarray,
    epoch_sec: float,
    start: dt.datetime | None,
    quality: np.ndarray | None = None,
    *,
    review: np.ndarray | None = None,
) -> None:
    """Write the hypnogram as an annotation-only EDF+ file (EDFbrowser and MNE open it).

    When ``start`` is unknown the header carries :data:`ANONYMOUS_START`; unscorable
    epochs are annotated with the reason (:func:`stage_annotations`), and each run of
    epochs flagged in ``review`` gets a ``"Review"`` annotation besides its stages.
    """
    annotations = stage_annotations(stages, epoch_sec, quality)
    if review is not None:
        annotations = sorted([*annotations, *review_annotations(review, epoch_sec)])
    write_annotations_edf(path, annotations, start or ANONYMOUS_START)


def agreement_table(scores: dict[str, Any]) -> str:
    """A plain-text summary of :func:`~tinysleepnet.scoring.metrics.scores`.

    The epochs compared (and, for a staging's agreement, those left out: in bed, not
    scored by the expert, unscorable signal), accuracy, macro-F1 with the stages it averages,
    kappa, per-stage F1, then the confusion matrix (rows: expert, columns: predicted).
    """
    lines = [f"Epochs compared   {scores['n_epochs']}"]
    if "in_bed" in scores:
        bed = scores["in_bed"]
        span = f"{bed.get('lights_off', bed['lights_off_sec'])} - "
        span += f"{bed.get('lights_on', bed['lights_on_sec'])}"
        lines.append(f"  in bed          {span} ({bed['source']})")
    for key, text in (("n_unscored", "not scored by the expert"),
                      ("n_unscorable", "unscorable signal")):  # fmt: skip
        if scores.get(key):
            lines.append(f"  left out        {scores[key]} epochs: {text}")
    stages_used = ", ".join(scores.get("mf1_stages", STAGES))
    lines += [
        f"Accuracy          {scores['acc']:.3f}",
        f"Macro-F1          {scores['mf1']:.3f} (over {stages_used})",
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
