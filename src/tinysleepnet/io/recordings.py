"""Reading one EEG channel from a recording file with MNE-Python.

Any format :func:`mne.io.read_raw` opens works (EDF, EDF+, BDF, GDF, FIF, BrainVision, ...).
Only the chosen channel is loaded, so an 8-hour multi-channel night reads in a fraction of a
second, and the signal comes back in microvolts exactly as the file's physical units give it:
no filtering, no rescaling (the network was trained on raw microvolts).
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import edfio
import mne
import numpy as np

from .._docs import fill_doc
from ..errors import PathError

#: Formats whose MNE reader accepts ``include=``. MNE brings every signal of an EDF to the
#: highest rate in the file; reading only the chosen one keeps that channel's own rate.
INCLUDE_SUFFIXES = frozenset({".edf", ".bdf", ".gdf", ".rec"})

logger = logging.getLogger("tinysleepnet")

#: Times the signal's largest (smallest) value must occur to be taken as a rail it was
#: clipped at, and kept through resampling; a continuous signal peaks once.
_RAIL_REPEATS = 3

#: First byte of a BDF header (then ``"BIOSEMI"``; an EDF's is ``"0"``).
_BDF_FIRST_BYTE = b"\xff"

#: Labels of the signal that holds an EDF+ (BDF+) file's annotations.
ANNOTATION_LABELS = ("EDF Annotations", "BDF Annotations")


@dataclass
class Recording:
    """One EEG channel of a recording.

    Attributes
    ----------
    signal_uv : ndarray of float32, shape (n_samples,)
        The signal in microvolts.
    sfreq : float
        Sampling rate of ``signal_uv`` in Hz.
    channel : str
        Name of the channel in the file.
    start : datetime or None
        Start of the recording as MNE reports it (``meas_date``, UTC-labelled; for EDF the
        header's clock time, including the EDF+ sub-second part); None when the file has none.
    path : Path
        The file read.
    annotations : mne.Annotations or None
        The recording's own annotations (EDF+/BDF+ events, FIF annotations), onsets in
        seconds from its first sample; None when not read from a file or ``Raw``.
    """

    signal_uv: np.ndarray
    sfreq: float
    channel: str
    start: dt.datetime | None
    path: Path
    annotations: mne.Annotations | None = None

    def epochs(self, epoch_samples: int) -> np.ndarray:
        """The signal cut into whole epochs, shape ``(n_epochs, epoch_samples)``.

        A trailing partial epoch is dropped; a signal shorter than one epoch is an error
        (:class:`~tinysleepnet.errors.PathError`, "empty recording").
        """
        n_epochs = self.signal_uv.size // epoch_samples
        if n_epochs == 0:
            raise PathError(
                self.path,
                f"empty recording: {self.signal_uv.size / self.sfreq:g} s of signal, "
                f"less than one {epoch_samples / self.sfreq:g}-s epoch",
            )
        return self.signal_uv[: n_epochs * epoch_samples].reshape(n_epochs, epoch_samples)


@fill_doc
def read_eeg(
    path: str | Path,
    channel: str = "EEG Fpz-Cz",
    sfreq: float | None = None,
    *,
    allow_truncated: bool = False,
) -> Recording:
    """Read one EEG channel in microvolts, resampled to ``sfreq`` if asked.

    Parameters
    ----------
    path : str or Path
        Recording in any format MNE reads.
    channel : str
        Channel to read, e.g. ``"EEG Fpz-Cz"`` (Sleep-EDF).
    sfreq : float or None
        Sampling rate wanted in Hz. None keeps the file's rate. A lower rate than the file's is
        reached with MNE's resampling; a higher one is refused, since upsampling would invent
        signal the network never saw.
    %(allow_truncated)s

    Returns
    -------
    Recording
        The signal as float32 microvolts with its rate, channel name and start time.

    Raises
    ------
    PathError
        If the file is missing or unreadable, is a truncated EDF/BDF (unless
        ``allow_truncated``), lacks the channel, is sampled below ``sfreq`` or holds no
        samples.
    """
    path = Path(path)
    check_complete(path, allow_truncated)
    return recording_from_raw(_open_channel(path, channel), channel, sfreq)


def recording_from_raw(
    raw: mne.io.BaseRaw,
    channel: str = "EEG Fpz-Cz",
    sfreq: float | None = None,
    path: str | Path | None = None,
) -> Recording:
    """One EEG channel of an MNE ``Raw``, as :func:`read_eeg` gives it from a file.

    Only that channel's data are read (``raw`` need not be preloaded) and ``raw`` itself is
    left unchanged.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The recording, EEG in volts as MNE holds it.
    channel : str
        Channel to take.
    sfreq : float or None
        Sampling rate wanted in Hz, reached by resampling down; None keeps the recording's.
    path : str or Path or None
        Name used in error messages and kept in the result; None takes the file ``raw``
        was read from, or ``"<Raw>"``.

    Returns
    -------
    Recording
        The signal as float32 microvolts with its rate, channel name and start time.

    Raises
    ------
    PathError
        If ``raw`` lacks the channel, is sampled below ``sfreq`` or holds no samples.
    """
    if path is None:
        path = raw.filenames[0] if raw.filenames and raw.filenames[0] else "<Raw>"
    path = Path(path)
    if channel not in raw.ch_names:
        raise PathError(path, f"channel {channel!r} not found; {channels_present(raw)}")
    file_sfreq = float(raw.info["sfreq"])
    if raw.n_times == 0:  # shorter than one epoch: refused by Recording.epochs
        raise PathError(path, "empty recording: no samples")
    if sfreq is not None and file_sfreq < sfreq:
        raise upsampling_refused(path, channel, file_sfreq, sfreq)
    signal = raw.get_data(picks=[channel], units="uV", verbose="error")[0]
    if sfreq is not None and sfreq != file_sfreq:
        signal = _resample(signal, sfreq, file_sfreq)
    annotations = raw.annotations
    return Recording(
        signal_uv=signal.astype(np.float32),
        sfreq=float(sfreq or file_sfreq),
        channel=channel,
        start=_start_time(path, raw),
        path=path,
        annotations=mne.Annotations(  # from the first sample, as the signal's epochs count
            annotations.onset - (raw.first_time if annotations.orig_time is not None else 0.0),
            annotations.duration,
            annotations.description,
        ),
    )


def upsampling_refused(path: Path, channel: str, rate: float, required: float) -> PathError:
    """The error for a channel sampled below the rate asked for."""
    return PathError(
        path,
        f"channel {channel!r} is sampled at {rate:g} Hz, below the {required:g} Hz "
        "required; upsampling would invent signal, so it is refused",
    )


def _resample(signal: np.ndarray, sfreq: float, file_sfreq: float) -> np.ndarray:
    """``signal`` from ``file_sfreq`` to ``sfreq`` Hz, with what the quality checks look for
    kept in place.

    FFT resampling spreads one NaN over the whole signal and turns a clipped plateau into
    ringing, so non-finite samples are zeroed for it and set back to NaN at their new
    positions, and samples at the signal's extremes, when these repeat (a rail the
    amplifier or the file's range clipped at), are set back to that value.
    """
    finite = np.isfinite(signal)
    clean = signal if finite.all() else np.where(finite, signal, 0.0)
    # the defaults of Raw.resample, applied to this one channel only
    resampled = mne.filter.resample(clean, up=sfreq, down=file_sfreq, npad="auto")

    def moved(samples: np.ndarray) -> np.ndarray:
        return np.minimum((samples * sfreq / file_sfreq).astype(int), resampled.size - 1)

    if finite.any():
        for rail in (clean[finite].max(), clean[finite].min()):
            at_rail = np.flatnonzero(clean == rail)
            if at_rail.size >= _RAIL_REPEATS:
                resampled[moved(at_rail)] = rail
    resampled[moved(np.flatnonzero(~finite))] = np.nan
    return resampled


def check_complete(path: Path, allow_truncated: bool = False) -> None:
    """Refuse an EDF/BDF file shorter than its header says, or a discontinuous one with gaps
    (other formats pass).

    A file cut short (an interrupted copy, ``head -c``) still opens: MNE reads the data
    records present as a shorter night. Staged or prepared, it would pass for a whole night.

    Parameters
    ----------
    path : Path
        The recording.
    allow_truncated : bool
        Log a warning instead of refusing.

    Raises
    ------
    PathError
        Naming the data records declared and present, unless ``allow_truncated``; or for
        an EDF+D/BDF+D file with gaps between its data records, whatever ``allow_truncated``.
    """
    _check_continuous(path)
    records = _edf_records(path)
    if records is None or records[1] >= records[0]:
        return
    declared, present = records
    problem = f"truncated: the header declares {declared} data records, the file holds {present}"
    if not allow_truncated:
        raise PathError(path, f"{problem} (--allow-truncated reads the part present)")
    logger.warning("%s: %s; reading the part present", path, problem)


def native_rates(path: str | Path) -> dict[str, float]:
    """Each signal's own sampling rate in Hz (by label) in an EDF/BDF header; empty for
    other files. MNE brings every signal it reads together to the highest rate."""
    header = _edf_header(Path(path))
    return {} if header is None else header["rates"]


def _check_continuous(path: Path) -> None:
    """Refuse an EDF+D/BDF+D file whose data records leave gaps: MNE reads the records back
    to back, so every epoch after a gap would be given a clock time too early by it."""
    if path.suffix.lower() not in (".edf", ".bdf") or not path.is_file():
        return
    with open(path, "rb") as file:
        file.seek(192)
        if file.read(5) not in (b"EDF+D", b"BDF+D"):
            return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            continuous = edfio.read_edf(path, lazy_load_data=True).is_continuous
    except Exception as err:  # its timekeeping cannot be read, so gaps cannot be ruled out
        problem = "discontinuous EDF+ (EDF+D) whose gaps cannot be read"
        raise PathError.wrap(path, problem, err) from err
    if not continuous:
        raise PathError(
            path,
            "discontinuous EDF+ (EDF+D): its data records leave gaps, which would be closed "
            "up and shift the clock times after them; export it as continuous EDF+ or stage "
            "each part on its own",
        )


def is_annotation_only(path: str | Path) -> bool:
    """Whether ``path`` is an EDF+/BDF+ file holding annotations and no signal, such as a
    Sleep-EDF ``*-Hypnogram.edf`` lying beside its recording."""
    header = _edf_header(Path(path))
    return header is not None and all(label in ANNOTATION_LABELS for label in header["labels"])


def _edf_records(path: Path) -> tuple[int, int] | None:
    """(data records declared, whole data records on disk) of an EDF/BDF file, or None
    when ``path`` is not one or declares no count (-1: still being recorded)."""
    header = _edf_header(path)
    if header is None or header["declared"] < 0 or header["record_bytes"] == 0:
        return None
    present = (path.stat().st_size - header["header_bytes"]) // header["record_bytes"]
    return header["declared"], present


def _edf_header(path: Path) -> dict[str, Any] | None:
    """The fields of an EDF/BDF header this module needs, or None when ``path`` is not one.

    ``header_bytes``, ``declared`` (data records, -1 if unknown), ``labels`` (one per
    signal), ``record_bytes`` (bytes of one data record) and ``rates`` (each signal's own
    sampling rate in Hz, by label).
    """
    if path.suffix.lower() not in (".edf", ".bdf") or not path.is_file():
        return None
    with open(path, "rb") as file:
        fixed = file.read(256)
        try:
            header_bytes, declared, n_signals = (
                int(fixed[a:b]) for a, b in ((184, 192), (236, 244), (252, 256))
            )
            labels = [file.read(16).decode("latin-1").strip() for _ in range(n_signals)]
            # after the labels, eight more fields per signal; samples per record is the
            # eighth, after 200 bytes of the others per signal
            file.seek(256 + 216 * n_signals)
            samples = [int(file.read(8)) for _ in range(n_signals)]
            record_sec = float(fixed[244:252])
        except ValueError:  # not an EDF header: MNE's reader gives the error
            return None
    sample_bytes = 3 if fixed[:1] == _BDF_FIRST_BYTE else 2  # BDF: 24-bit samples
    return {
        "header_bytes": header_bytes,
        "declared": declared,
        "labels": labels,
        "record_bytes": sum(samples) * sample_bytes,
        "rates": {
            label: n / record_sec
            for label, n in zip(labels, samples, strict=True)
            if record_sec > 0
        },
    }


def edf_start(path: str | Path) -> dt.datetime | None:
    """Start date and time in an EDF/BDF header, with the EDF+ sub-second part.

    MNE's :func:`mne.read_annotations` gives no start for annotation-only EDF+ files
    (hypnograms); this reads it without loading any signal.

    Returns
    -------
    datetime or None
        Naive (EDF keeps local clock time); None when ``path`` is not an EDF/BDF file or
        its start is anonymised or unreadable.
    """
    if Path(path).suffix.lower() not in (".edf", ".bdf"):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            edf = edfio.read_edf(path, lazy_load_data=True)
            return dt.datetime.combine(edf.startdate, edf.starttime)
    except Exception:  # edfio refuses anonymised dates and malformed headers alike
        return None


def _open_channel(path: Path, channel: str) -> mne.io.BaseRaw:
    """Open ``path`` without loading its data, with only ``channel`` where the reader can.

    Opening an EDF+ file scans its annotations, so the file is opened once more, with every
    channel, only when ``channel`` is missing: the error message lists what is there.
    """
    if path.suffix.lower() in INCLUDE_SUFFIXES:
        raw = read_raw(path, include=[channel])
        if channel in raw.ch_names:
            return raw
    return read_raw(path)


def check_recording_path(path: Path) -> None:
    """Refuse, in words, a path that cannot be a recording: missing, a folder, or a file
    whose name is of no format MNE reads as a recording (a ``.txt``, a ``.csv``...).

    Raises
    ------
    PathError
        ``"file not found"``, ``"a folder, not a recording (...)"`` or
        ``"not a recording format (...)"``.
    """
    if path.is_dir():
        raise PathError(path, "a folder, not a recording; give the files in it, e.g. DIR/*.edf")
    if not path.exists():
        raise PathError(path, "file not found")
    name = path.name.lower()
    if not any(name.endswith(suffix) for suffix in _recording_suffixes()):
        raise PathError(
            path,
            f"not a recording format ({''.join(path.suffixes[-1:]) or 'no extension'}); "
            "recordings are EDF/EDF+, BDF, FIF or another format MNE reads "
            "(.vhdr, .set, .cnt, .gdf, ...)",
        )


def _recording_suffixes() -> set[str]:
    """File-name endings of the recording formats MNE reads, less ``.txt`` (BOXY optical
    imaging, never EEG: a ``.txt`` given as a recording is a table or a note)."""
    from mne.io._read_raw import _get_supported  # MNE's own table of readers

    return set(_get_supported()) - {".txt"}


def read_raw(path: Path, **kwargs: object) -> mne.io.BaseRaw:
    """Open a recording without loading its data (:func:`mne.io.read_raw`), its many
    failure modes turned into one PathError naming ``path``.

    ``kwargs`` go to MNE's reader (``include=[...]`` for :data:`INCLUDE_SUFFIXES`)."""
    check_recording_path(path)
    _check_edf_kind(path)
    try:
        return mne.io.read_raw(path, preload=False, verbose="error", **kwargs)
    except Exception as err:  # MNE readers raise anything from ValueError to AssertionError
        raise PathError.wrap(path, "not a readable recording", err) from err


def _check_edf_kind(path: Path) -> None:
    """Refuse a BDF file named ``.edf`` or an EDF file named ``.bdf``.

    MNE picks its reader by the name: a BDF read as EDF gives 16-bit samples from 24-bit
    ones, a night half as long again of nonsense signal (and the reverse).
    """
    suffix = path.suffix.lower()
    if suffix not in (".edf", ".bdf"):
        return
    with open(path, "rb") as file:
        kind = ".bdf" if file.read(1) == _BDF_FIRST_BYTE else ".edf"
    if kind != suffix:
        found, named = ("BDF (24-bit)", "EDF") if kind == ".bdf" else ("EDF (16-bit)", "BDF")
        raise PathError(
            path,
            f"the header is {found}'s but the file is named as {named}; rename it to "
            f"{path.with_suffix(kind).name}",
        )


def channels_present(raw: mne.io.BaseRaw) -> str:
    """The channels named like EEG (EDF+ labels read ``"EEG Fpz-Cz"``), or all if none is."""
    eeg = [name for name in raw.ch_names if "EEG" in name.upper()]
    kind = "EEG channels" if eeg else "channels"
    return f"{kind} present: {', '.join(repr(name) for name in eeg or raw.ch_names)}"


def _start_time(path: Path, raw: mne.io.BaseRaw) -> dt.datetime | None:
    """Recording start from ``meas_date``, with the EDF+ sub-second part MNE drops."""
    start: dt.datetime | None = raw.info["meas_date"]
    if start is None or path.suffix.lower() != ".edf":
        return start
    try:
        # edfio reads the sub-second offset from the first EDF+ timekeeping annotation
        # without loading the signals; its warnings about truncated files repeat MNE's.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            microsecond = edfio.read_edf(path, lazy_load_data=True).starttime.microsecond
    except Exception:  # edfio is stricter than MNE about headers; MNE's time then stands
        return start
    return start.replace(microsecond=microsecond)
