"""A staging as a BIDS events file: ``*_events.tsv`` and its JSON sidecar.

BIDS stores annotations of a recording as a tab-separated events table with ``onset`` and
``duration`` in seconds (``n/a`` for missing values) and a JSON sidecar that describes
every column; sleep stages go there, one row per scored epoch. The sidecar also names the
model that scored them (BIDS derivatives' ``GeneratedBy``). A recording named the BIDS way
(``sub-01_task-sleep_eeg.edf``) gives ``sub-01_task-sleep_events.tsv`` beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..io.atomic import atomic_path, write_json
from ..stages import STAGES, UNSCORED, stage_names

#: Trailing parts of a BIDS recording name that the events file does not repeat.
_BIDS_SUFFIXES = ("_eeg", "_ieeg", "_meg")


def events_stem(name: str) -> str:
    """``<name>_events`` with a BIDS modality suffix (``_eeg``) dropped from ``name``."""
    for suffix in _BIDS_SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix) + "_events"
    return name + "_events"


def events_paths(out_dir: str | Path, name: str) -> tuple[Path, Path]:
    """``<stem>_events.tsv`` and ``<stem>_events.json`` in ``out_dir`` (:func:`events_stem`)."""
    stem = Path(out_dir) / events_stem(name)
    return stem.with_name(stem.name + ".tsv"), stem.with_name(stem.name + ".json")


def events_frame(
    stages: np.ndarray, proba: np.ndarray, epoch_sec: float, review: np.ndarray | None = None
) -> pd.DataFrame:
    """One row per epoch: ``onset``, ``duration``, ``stage``, ``prob_<stage>`` and, when
    given, ``review`` (1 flagged, 0 not); unscored epochs have ``n/a`` stage and
    probabilities."""
    frame = pd.DataFrame(
        {"onset": np.arange(len(stages)) * float(epoch_sec), "duration": float(epoch_sec)}
    )
    names = np.array(stage_names(stages), dtype=object)
    names[np.asarray(stages) == UNSCORED] = None  # written as n/a
    frame["stage"] = names
    for i, name in enumerate(STAGES):
        frame[f"prob_{name}"] = np.round(np.asarray(proba)[:, i].astype(float), 6)
    if review is not None:
        frame["review"] = np.asarray(review, dtype=int)
    return frame


def events_sidecar(model: dict[str, Any], review_rule: str | None = None) -> dict[str, Any]:
    """The JSON sidecar: a description of every column and the model that scored them.

    Parameters
    ----------
    model : dict
        Description of the model (e.g. ``name``, ``file``, ``sha256``, ``temperature``).
    review_rule : str or None
        The review rule, when epochs were flagged.
    """
    sidecar: dict[str, Any] = {
        "onset": {"Description": "Start of the epoch from the recording's start.", "Units": "s"},
        "duration": {"Description": "Length of the epoch.", "Units": "s"},
        "stage": {
            "LongName": "Sleep stage",
            "Description": "Most probable sleep stage of the epoch (AASM), scored by TinySleepNet.",
            "Levels": {
                "W": "Wake",
                "N1": "NREM stage 1",
                "N2": "NREM stage 2",
                "N3": "NREM stage 3 (slow-wave sleep)",
                "REM": "REM sleep",
            },
        },
        **{
            f"prob_{name}": {
                "Description": f"Probability of stage {name} (calibrated when the model "
                "carries a temperature); the five probabilities sum to 1.",
                "Units": "probability (0-1)",
            }
            for name in STAGES
        },
    }
    if review_rule is not None:
        sidecar["review"] = {
            "Description": f"1 if the epoch is flagged for review by a human scorer "
            f"({review_rule}), else 0.",
            "Levels": {"0": "not flagged", "1": "flagged for review"},
        }
    sidecar["GeneratedBy"] = [
        {
            "Name": "tinysleepnet",
            "Version": __version__,
            "Description": "Automatic sleep staging from one EEG channel (TinySleepNet).",
            "Model": model,
        }
    ]
    return sidecar


def write_events(
    out_dir: str | Path,
    name: str,
    frame: pd.DataFrame,
    sidecar: dict[str, Any],
) -> tuple[Path, Path]:
    """Write ``<stem>_events.tsv`` (``n/a`` for missing values) and ``<stem>_events.json``,
    atomically; returns both paths."""
    tsv, json_path = events_paths(out_dir, name)
    with atomic_path(tsv) as tmp:
        frame.to_csv(tmp, sep="\t", index=False, na_rep="n/a", float_format="%.6g")
    write_json(json_path, sidecar)
    return tsv, json_path
