"""Prepared nights on disk: a ``.npz`` and a ``.npy`` per night, and a ``manifest.csv``.

A folder :func:`~tinysleepnet.data.prepare.prepare` writes is a :class:`PreparedData`: its
nights, the manifest listing them and the settings they were prepared with
(``prepare.json``), which a rerun must match to resume the folder.

``<name>.npz`` holds a night's stages and identity, ``<name>.npy`` its signal, which is read
through a read-only memory map: the operating system reads a night's pages when a minibatch
needs them, and :func:`~tinysleepnet.io.mapped.release_pages` drops them from the
process's resident memory once the
minibatch is built, so a process can train on a cohort larger than its memory. Nights
prepared before the signal had its own file (signal inside the ``.npz``) are converted the
first time they are read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PathError, TinySleepNetError
from ..io.atomic import atomic_path, read_json, write_text_atomic
from ..io.mapped import release_pages
from ..stages import EPOCH_SEC

#: Name of the table that lists the nights of a prepared folder.
MANIFEST = "manifest.csv"

#: Settings of a prepared folder, kept so that a rerun never mixes nights prepared otherwise.
SETTINGS = "prepare.json"

#: What folders recorded before these settings existed were prepared with (Sleep-EDF epochs).
_EARLIER = {"epoch_sec": EPOCH_SEC, "epochs_from": "signal"}

#: Open files kept free besides the memory maps (the interpreter, torch, logs, sockets).
_SPARE_FILES = 256

logger = logging.getLogger("tinysleepnet")


@dataclass
class Night:
    """One night of one EEG channel cut into scored 30-s epochs.

    Attributes
    ----------
    signal_uv : ndarray of float32, shape (n_epochs, n_samples)
        The signal in microvolts, one row per epoch (3000 samples at 100 Hz); a read-only
        :class:`numpy.memmap` when read by :func:`load_night`.
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


def signal_path(path: str | Path) -> Path:
    """The signal file of the night whose ``.npz`` is ``path``: ``<name>.npy`` beside it."""
    return Path(path).with_suffix(".npy")


def save_night(path: str | Path, night: Night) -> None:
    """Write a night: its signal to ``<name>.npy``, the rest to ``path`` (``.npz``).

    Each file is written atomically, the signal first, so a ``.npz`` on disk always has its
    signal beside it.
    """
    with atomic_path(signal_path(path)) as tmp:
        np.save(tmp, np.asarray(night.signal_uv, dtype=np.float32))
    with atomic_path(path) as tmp:
        np.savez(
            tmp,
            stages=night.stages.astype(np.int64),
            sfreq=night.sfreq,
            channel=night.channel,
            subject=night.subject,
            night=night.night,
            start=night.start,
            name=night.name,
        )


def load_night(path: str | Path) -> Night:
    """Read a night written by :func:`save_night`, its signal as a read-only memory map.

    A night of the earlier layout (signal inside the ``.npz``) is converted first: its
    ``.npy`` is written and the ``.npz`` rewritten without the signal. If the folder cannot
    be written, the signal is read into memory instead, with a warning.

    Raises
    ------
    PathError
        If the file or its signal file is missing, or is not a complete prepared night.
    """
    path = Path(path)
    if not path.is_file():
        raise PathError(path, "file not found")
    try:
        with np.load(path, allow_pickle=False) as npz:
            fields = {key: npz[key] for key in npz.files}
        night = Night(
            signal_uv=fields.get("signal_uv", np.empty((0, 0), dtype=np.float32)),
            stages=fields["stages"],
            sfreq=float(fields["sfreq"]),
            channel=str(fields["channel"]),
            subject=str(fields["subject"]),
            night=int(fields["night"]),
            start=str(fields["start"]),
            name=str(fields["name"]),
        )
    except Exception as err:  # a zip, key or value error all mean the same to the user
        raise PathError.wrap(path, "not a prepared night", err) from err
    if "signal_uv" in fields and not _move_signal_out(path, night):
        return night
    night.signal_uv = _map_signal(signal_path(path), night.n_epochs)
    return night


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
    return PreparedData(prepared_dir).nights()


#: The key of the nights' :func:`content_hash` in a record of them (``folds.json``,
#: ``start.json``, a training checkpoint's ``nights``).
CONTENT = "content_sha256"


def other_contents(sha256: str, earlier_sha256: str) -> str:
    """The phrase of an error message for the same nights with other contents: their
    :func:`content_hash` now and in the run's record."""
    return (
        f"the same nights with other signals or stages (content SHA-256 {sha256[:12]}..., "
        f"run has {earlier_sha256[:12]}...)"
    )


def content_hash(nights: Sequence[Night]) -> str:
    """SHA-256 of the nights' names, stages and signals, in name order.

    Two folders with this hash hold the same nights, wherever they are mounted: a model
    card's ``content_sha256``, and what a cross-validation run (``folds.json``) or a
    fine-tuning (``start.json``) checks a rerun's nights against. Every signal is read
    once (each memory-mapped night's pages then dropped from this process's resident
    memory, :func:`~tinysleepnet.io.mapped.release_pages`).

    Parameters
    ----------
    nights : sequence of Night
        The nights, in any order.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    digest = hashlib.sha256()
    for night in sorted(nights, key=lambda n: n.name):
        digest.update(night.name.encode() + b"\0")
        digest.update(np.ascontiguousarray(night.stages, dtype=np.int64).tobytes())
        digest.update(np.ascontiguousarray(night.signal_uv, dtype=np.float32).data)
        release_pages(night.signal_uv)
    return digest.hexdigest()


@dataclass(frozen=True)
class PreparedData:
    """A prepared folder: one ``<name>.npz`` (and ``<name>.npy``) per night, the manifest
    listing them (:data:`MANIFEST`) and the settings they were prepared with
    (:data:`SETTINGS`).

    Attributes
    ----------
    path : Path
        The folder.

    Examples
    --------
    >>> data = PreparedData("prepared")  # doctest: +SKIP
    >>> data.settings["channel"], len(data.nights())  # doctest: +SKIP
    ('EEG Fpz-Cz', 16)
    """

    path: Path

    def __init__(self, path: str | Path) -> None:
        object.__setattr__(self, "path", Path(path))

    @property
    def manifest_path(self) -> Path:
        """``manifest.csv``: written last, once every night is."""
        return self.path / MANIFEST

    @property
    def settings_path(self) -> Path:
        """``prepare.json``: the settings of :meth:`claim`."""
        return self.path / SETTINGS

    def night_path(self, name: str) -> Path:
        """The ``.npz`` of the night called ``name`` (its signal is :func:`signal_path`)."""
        return self.path / f"{name}.npz"

    @property
    def manifest(self) -> pd.DataFrame:
        """The manifest (see :func:`read_manifest`, whose errors it raises)."""
        return read_manifest(self.path)

    @property
    def settings(self) -> dict[str, Any] | None:
        """The settings the nights were prepared with (channel, sfreq, wake_edge_min,
        trim, epoch_sec, epochs_from), None for a folder that records none; a folder
        recorded before ``epoch_sec`` and ``epochs_from`` were settings has their earlier
        values (30-s epochs from the signal)."""
        if not self.settings_path.is_file():
            return None
        return {**_EARLIER, **read_json(self.settings_path, "settings file")}

    def nights(self) -> list[Night]:
        """Every night, in the manifest's order, signals memory-mapped (:func:`load_night`)."""
        files = self.manifest["file"]
        _allow_open_files(len(files))
        return [load_night(self.path / file) for file in files]

    def claim(self, settings: dict[str, Any]) -> None:
        """Record ``settings`` as the folder's; refuse a folder prepared with other ones.

        The resume-or-refuse rule: a rerun with the same settings resumes the folder (its
        nights already written are kept), one with other settings would mix nights
        prepared two ways, so it is refused.

        Raises
        ------
        PathError
            If the folder records other settings (naming them and the way out).
        """
        recorded = self.settings
        if recorded is not None and recorded != settings:
            raise PathError(
                self.path,
                f"prepared with other settings "
                f"({self.settings_path.read_text(encoding='utf-8').strip()}); "
                "choose a new output folder",
            )
        write_text_atomic(self.settings_path, json.dumps(settings))

    def write_manifest(self, manifest: pd.DataFrame) -> None:
        """Write the manifest, atomically.

        Raises
        ------
        PathError
            If it cannot be written (a full disk, a read-only folder).
        """
        try:
            with atomic_path(self.manifest_path) as tmp:
                manifest.to_csv(tmp, index=False)
        except OSError as err:
            raise PathError(
                self.manifest_path, f"cannot be written ({err.strerror or err})"
            ) from err


def read_manifest(prepared_dir: str | Path) -> pd.DataFrame:
    """The manifest of a prepared folder: one row per night (name, subject, night, file, ...).

    Raises
    ------
    PathError
        If the folder does not exist, holds no ``manifest.csv``, or one that is damaged,
        lacks the ``name`` or ``file`` column, or lists a night (name or file) twice.
    """
    prepared_dir = Path(prepared_dir)
    path = prepared_dir / MANIFEST
    if not prepared_dir.exists():
        raise PathError(prepared_dir, "does not exist")
    if not prepared_dir.is_dir():
        raise PathError(prepared_dir, "a file, not a prepared dataset (a folder)")
    if not path.is_file():
        raise PathError(
            prepared_dir, f"not a prepared dataset (no {MANIFEST}); run `tinysleepnet prepare`"
        )
    try:
        manifest = pd.read_csv(path, dtype={"subject": str, "name": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise PathError.wrap(path, "not a readable manifest", err) from err
    if missing := [column for column in ("name", "file") if column not in manifest]:
        raise PathError(path, f"not a manifest of nights: no {', '.join(missing)} column")
    for column in ("name", "file"):  # a night listed twice would count twice in training
        if manifest[column].duplicated().any():
            repeated = sorted(set(manifest[column][manifest[column].duplicated()].astype(str)))
            raise PathError(
                path, f"lists a night twice ({column} {', '.join(repeated)}); prepare again"
            )
    return manifest


def _move_signal_out(path: Path, night: Night) -> bool:
    """Rewrite a night of the earlier layout with its signal in ``<name>.npy``.

    Several processes may convert the same night at once (jobs of a cluster starting on one
    folder): each file is written under a temporary name of the writer's own and renamed
    (:func:`~tinysleepnet.io.atomic.atomic_path`), the signal first, so whichever rename
    lands, the file in place is complete. Returns False, keeping the signal in memory, if
    the folder cannot be written.
    """
    try:
        save_night(path, night)
    except OSError as err:
        logger.warning(
            "%s: signal kept in memory, cannot write %s (%s)", path, signal_path(path).name, err
        )
        return False
    logger.info("%s: signal moved to %s (read through a memory map)", path, signal_path(path).name)
    return True


def _map_signal(path: Path, n_epochs: int) -> np.ndarray:
    """The signal in ``path`` as a read-only memory map, checked against the night's stages."""
    if not path.is_file():
        raise PathError(path, "signal file not found; prepare the night again")
    try:
        signal = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as err:
        raise PathError(path, f"not a prepared signal ({err})") from err
    if signal.ndim != 2 or signal.dtype != np.float32 or len(signal) != n_epochs:
        raise PathError(
            path,
            f"holds {signal.dtype} of shape {signal.shape}, expected float32 with one row for "
            f"each of the night's {n_epochs} epochs; prepare the night again",
        )
    return signal


def _allow_open_files(n_maps: int) -> None:
    """Raise this process's soft limit of open files so that ``n_maps`` memory maps fit.

    Python keeps each memory-mapped file open, so a cohort of thousands of nights would
    pass the usual soft limit of 1,024 open files; the hard limit is the ceiling.
    """
    if sys.platform == "win32":  # no such per-process limit on mapped files
        return
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = n_maps + _SPARE_FILES
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    if hard != resource.RLIM_INFINITY and hard < wanted:
        raise TinySleepNetError(
            f"{n_maps} memory-mapped nights need {wanted} open files, but this process may "
            f"open at most {hard} (ulimit -Hn); ask for a higher limit"
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
