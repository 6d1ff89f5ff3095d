"""Writing EDF+ files: signal recordings and annotation-only hypnograms.

Both the simulator (Sleep-EDF-shaped nights) and the prediction outputs (hypnograms that
EDFbrowser and MNE open) write through here, with edfio doing the encoding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import edfio
import numpy as np

from .atomic import atomic_path


@dataclass
class EdfChannel:
    """One signal of an EDF file.

    Attributes
    ----------
    label : str
        Channel name as stored in the header, e.g. ``"EEG Fpz-Cz"``.
    data : ndarray, shape (n_samples,)
        Samples in ``unit``.
    sfreq : float
        Sampling rate in Hz.
    unit : str
        Physical dimension written in the header (``"uV"`` for EEG).
    physical_range : (float, float) or None
        Range mapped to the int16 digital range; ``None`` takes the data's min and max.
    """

    label: str
    data: np.ndarray
    sfreq: float
    unit: str = "uV"
    physical_range: tuple[float, float] | None = None


def _start(start: dt.datetime) -> dict[str, object]:
    # EDF keeps a date and a time of day, no time zone; whole seconds in the header
    # (edfio stores any sub-second part in the EDF+ timekeeping annotation).
    start = start.replace(tzinfo=None)
    return {"recording": edfio.Recording(startdate=start.date()), "starttime": start.time()}


def write_edf(
    path: str | Path,
    channels: Sequence[EdfChannel],
    start: dt.datetime,
    *,
    record_sec: float = 30.0,
    annotations: Sequence[tuple[float, float, str]] = (),
) -> None:
    """Write an EDF+ recording atomically.

    Parameters
    ----------
    path : str or Path
        Destination file.
    channels : sequence of EdfChannel
        Signals, each lasting a whole number of data records.
    start : datetime
        Start of the recording (local time, as EDF stores it).
    record_sec : float
        Duration of one data record in seconds (Sleep-EDF: 30, SC4362F0: 60).
    annotations : sequence of (onset_s, duration_s, text)
        EDF+ annotations stored with the signals.
    """
    signals = [
        edfio.EdfSignal(
            np.asarray(ch.data, dtype=np.float64),
            sampling_frequency=ch.sfreq,
            label=ch.label,
            physical_dimension=ch.unit,
            physical_range=ch.physical_range,
        )
        for ch in channels
    ]
    _write(path, signals, start, annotations, data_record_duration=record_sec)


def write_annotations_edf(
    path: str | Path,
    annotations: Sequence[tuple[float, float, str]],
    start: dt.datetime,
) -> None:
    """Write an annotation-only EDF+ file, like Sleep-EDF's ``*-Hypnogram.edf``.

    Parameters
    ----------
    path : str or Path
        Destination file.
    annotations : sequence of (onset_s, duration_s, text)
        E.g. ``(0.0, 30.0, "Sleep stage W")``; onsets relative to ``start``.
    start : datetime
        Start of the scored recording.
    """
    _write(path, [], start, annotations)


def _write(
    path: str | Path,
    signals: list[edfio.EdfSignal],
    start: dt.datetime,
    annotations: Sequence[tuple[float, float, str]],
    **options: float,
) -> None:
    """Build the EDF+ file and write it atomically."""
    edf = edfio.Edf(
        signals,
        annotations=[edfio.EdfAnnotation(o, d, t) for o, d, t in annotations],
        **_start(start),  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )
    with atomic_path(path) as tmp:
        edf.write(tmp)
