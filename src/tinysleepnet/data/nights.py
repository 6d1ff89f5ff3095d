"""Prepared nights on disk: one ``.npz`` per night and a ``manifest.csv`` listing them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import RecordingError
from ..io.atomic import atomic_path

#: Name of the table that lists the nights of a prepared folder.
MANIFEST = "manifest.csv"


@dataclass
class Night:
    """One night of one EEG channel cut into scored 30-s epochs.

    Attributes
    ----------
    signal_uv : ndarray of float32, shape (n_epochs, n_samples)
        The signal in microvolts, one row per epoch (3000 samples at 100 Hz).
    stages : ndarray of int64, shape (n_epochs,)
        Expert stage per epoch, class ids 0..4 (W, N1, N2, N3, REM).
    sfreq : float
        Sampling rate in Hz.
    channel : str
        EEG channel, e.g. ``"EEG Fpz-Cz"``.
    subject : str
        Subject id, e.g. ``"00"``; both nights of a subject share it.
    night : int
        Night number of the subject (1, 2).
    start : str
        Start of the recording (ISO 8601), ``""`` when unknown.
    name : str
        Name of the night, e.g. ``"SC4001E0"``; unique within a prepared folder.
    """

    signal_uv: np.ndarray
    stages: np.ndarray
    sfreq: float
    channel: str
    subject: str
    night: int
    start: str
    name: str

    @property
    def n_epochs(self) -> int:
        """Number of epochs."""
        return len(self.stages)


def save_night(path: str | Path, night: Night) -> None:
    """Write a night to ``path`` (``.npz``) atomically."""
    with atomic_path(path) as tmp:
        np.savez(
            tmp,
            signal_uv=night.signal_uv.astype(np.float32),
            stages=night.stages.astype(np.int64),
            sfreq=night.sfreq,
            channel=night.channel,
            subject=night.subject,
            night=night.night,
            start=night.start,
            name=night.name,
        )


def load_night(path: str | Path) -> Night:
    """Read a night written by :func:`save_night`.

    Raises
    ------
    RecordingError
        If the file is missing or is not a complete prepared night.
    """
    path = Path(path)
    if not path.is_file():
        raise RecordingError(path, "file not found")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return Night(
                signal_uv=npz["signal_uv"],
                stages=npz["stages"],
                sfreq=float(npz["sfreq"]),
                channel=str(npz["channel"]),
                subject=str(npz["subject"]),
                night=int(npz["night"]),
                start=str(npz["start"]),
                name=str(npz["name"]),
            )
    except Exception as err:  # a zip, key or value error all mean the same to the user
        raise RecordingError(path, f"not a prepared night ({err})") from err


def load_nights(prepared_dir: str | Path) -> list[Night]:
    """Read every night of a folder written by :func:`~tinysleepnet.data.prepare.prepare`.

    Parameters
    ----------
    prepared_dir : str or Path
        Folder holding ``manifest.csv`` and one ``.npz`` per night.

    Returns
    -------
    list of Night
        In the manifest's order.
    """
    return [load_night(Path(prepared_dir) / file) for file in read_manifest(prepared_dir)["file"]]


def read_manifest(prepared_dir: str | Path) -> pd.DataFrame:
    """The manifest of a prepared folder: one row per night (name, subject, night, file, ...).

    Raises
    ------
    RecordingError
        If the folder holds no ``manifest.csv``.
    """
    prepared_dir = Path(prepared_dir)
    if not (prepared_dir / MANIFEST).is_file():
        raise RecordingError(
            prepared_dir, f"not a prepared dataset (no {MANIFEST}); run `tinysleepnet prepare`"
        )
    return pd.read_csv(prepared_dir / MANIFEST, dtype={"subject": str, "name": str})
