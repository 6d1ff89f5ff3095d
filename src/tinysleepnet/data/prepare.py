"""Preparing a dataset: PSG + hypnogram pairs -> scored epochs of one EEG channel.

This follows the preprocessing behind the published TinySleepNet numbers (see the recipe):
the signal is kept in microvolts as the file gives it, labels come from the hypnogram's
onset/duration runs cut to the signal, long wake periods before and after sleep are trimmed,
and epochs scored ``?`` or ``Movement time`` are dropped. Each dataset
(:data:`~tinysleepnet.data.datasets.DATASETS`) sets its channel, rate, epoch length and wake
trim; MASS epochs are cut at the Base file's own onsets (:mod:`tinysleepnet.data.mass`).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Collection
from pathlib import Path
from typing import Any

import mne
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from .._docs import fill_doc
from ..errors import PathError, TinySleepNetError, check_number
from ..io.atomic import atomic_path, read_json, write_text_atomic
from ..io.channels import ChannelSpec, read_channel
from ..io.hypnogram import read_epoch_labels
from ..io.names import safe_name
from ..io.quality import NONFINITE, OK, check_microvolts, epoch_quality, live_epochs
from ..io.tables import read_text_table
from ..stages import EPOCH_SEC, N_STAGES, STAGES, UNSCORED, WAKE
from .datasets import TRIM_RULES
from .datasets import dataset as dataset_named
from .mass import read_annotated_epochs
from .nights import MANIFEST, Night, load_night, save_night

#: Settings of a prepared folder, kept so that a rerun never mixes nights prepared otherwise.
SETTINGS = "prepare.json"

#: Largest share of a night's scored epochs that may fail the signal checks
#: (:func:`~tinysleepnet.io.quality.epoch_quality`) before the night is refused.
MOST_UNSCORABLE = 0.5

#: What folders recorded before these settings existed were prepared with (Sleep-EDF epochs).
_EARLIER = {"epoch_sec": EPOCH_SEC, "epochs_from": "signal"}

logger = logging.getLogger("tinysleepnet")


def trim_wake(labels: np.ndarray, edge_epochs: int, rule: str = "authors") -> np.ndarray:
    """Indices of the epochs kept around the sleep period, scored epochs only.

    The window runs from ``edge_epochs`` before the first epoch that is not wake to
    ``edge_epochs`` after the last one, clipped to the night.

    Parameters
    ----------
    labels : ndarray of int, shape (n_epochs,)
        Stage per epoch, :data:`~tinysleepnet.stages.UNSCORED` for ``?`` and Movement.
    edge_epochs : int
        Wake epochs kept on each side of the sleep period (60 = 30 min of 30-s epochs).
    rule : {"authors", "deepsleepnet", "none"}
        ``"authors"`` (TinySleepNet's code, used for the published numbers): unscored epochs
        count as not wake while the window is placed and are dropped afterwards.
        ``"deepsleepnet"``: unscored epochs are dropped first and the window is placed on
        what remains, which keeps less wake when ``?`` runs lie far from sleep.
        ``"none"``: no trim, every scored epoch is kept (MASS).

    Returns
    -------
    ndarray of int64
        Increasing indices into ``labels``; empty when no epoch is scored as sleep.
    """
    _check_rule(rule)
    if not np.any((labels != WAKE) & (labels != UNSCORED)):
        return np.array([], dtype=np.int64)
    if rule == "none":
        return np.flatnonzero(labels != UNSCORED)
    if rule == "authors":
        candidates = np.arange(len(labels))
    else:
        candidates = np.flatnonzero(labels != UNSCORED)
    not_wake = np.flatnonzero(labels[candidates] != WAKE)
    window = candidates[max(not_wake[0] - edge_epochs, 0) : not_wake[-1] + edge_epochs + 1]
    return window[labels[window] != UNSCORED]


@fill_doc
def prepare_night(
    psg: str | Path,
    hypnogram: str | Path,
    *,
    name: str,
    subject: str,
    night: int,
    channel: str = "EEG Fpz-Cz",
    sfreq: float = 100.0,
    wake_edge_min: float = 30.0,
    trim: str = "authors",
    epoch_sec: float = EPOCH_SEC,
    epochs_from: str = "signal",
    allow_truncated: bool = False,
) -> Night:
    """Cut one PSG into scored epochs of one EEG channel.

    Parameters
    ----------
    psg, hypnogram : str or Path
        The recording (any format MNE reads) and its expert hypnogram.
    name, subject, night
        Identity of the night, stored with it (see :class:`~tinysleepnet.data.nights.Night`).
    channel : str
        EEG channel to keep: a channel spec such as ``"EEG Fpz-Cz"`` or
        ``"EEG F4-CLE|EEG F4-LER minus EOG Left Horiz"`` (see
        :class:`~tinysleepnet.io.channels.ChannelSpec`).
    sfreq : float
        Sampling rate in Hz the signal is resampled to if the file's differs (only down).
    wake_edge_min : float
        Minutes of wake kept before and after the sleep period.
    trim : {"authors", "deepsleepnet", "none"}
        Wake-trim rule, see :func:`trim_wake`.
    epoch_sec : float
        Epoch length in seconds.
    epochs_from : {"signal", "annotations"}
        ``"signal"``: epochs at multiples of ``epoch_sec`` from the first sample, labelled by
        the hypnogram's runs (Sleep-EDF), shifted by whole epochs when the hypnogram starts
        after or before the recording (its own start time). ``"annotations"``: one epoch per scored
        annotation, cut at its own onset (MASS's Base files).
    %(allow_truncated)s

    Returns
    -------
    Night
        The kept epochs; a trailing partial epoch of the signal is dropped. Its ``channel``
        is the channel spec's text, the same for every subject.

    Raises
    ------
    PathError
        If either file cannot be used, the EDF/BDF is truncated (unless
        ``allow_truncated``), the hypnogram is shorter than the signal or starts off the
        recording's epochs by more than a second, the signal is not in microvolts, more
        than half its scored epochs fail the signal checks, or no epoch is scored as sleep.
        Epochs failing the checks are named in a warning; those with non-finite samples
        (NaN, Inf) are dropped: training on them would make every loss NaN.
    """
    recording = read_channel(psg, channel, sfreq, allow_truncated=allow_truncated)
    samples_per_epoch = epoch_sec * recording.sfreq
    if not samples_per_epoch.is_integer():
        raise PathError(
            psg, f"{recording.sfreq:g} Hz does not give a whole number of samples per epoch"
        )
    if epochs_from == "annotations":
        epochs, labels = read_annotated_epochs(recording, hypnogram, epoch_sec)
    else:
        epochs = recording.epochs(int(samples_per_epoch))
        labels = read_epoch_labels(hypnogram, len(epochs), epoch_sec, recording.start)
    kept = trim_wake(labels, round(wake_edge_min * 60 / epoch_sec), trim)
    kept = _checked_quality(epochs, kept, name, psg)
    if kept.size == 0:
        raise PathError(hypnogram, "no epoch of the signal is scored as sleep")
    return Night(
        signal_uv=epochs[kept],
        stages=labels[kept],
        sfreq=recording.sfreq,
        channel=ChannelSpec.parse(channel).text,
        subject=subject,
        night=night,
        start=recording.start.isoformat() if recording.start else "",
        name=name,
    )


@fill_doc
def prepare(
    src: str | Path,
    out: str | Path,
    channel: str | None = None,
    sfreq: float | None = None,
    wake_edge_min: float = 30.0,
    trim: str | None = None,
    pairs_csv: str | Path | None = None,
    n_jobs: int = 2,
    progress: bool = True,
    *,
    dataset: str = "sleep-edf",
    epoch_sec: float | None = None,
    subjects: Collection[str] | None = None,
    allow_truncated: bool = False,
) -> pd.DataFrame:
    """Prepare every night of a dataset folder for training and evaluation.

    Writes per night ``<name>.npz`` and ``<name>.npy``, its signal, read through a memory
    map (see :func:`~tinysleepnet.data.nights.save_night`), and ``manifest.csv`` to ``out``,
    each atomically. A rerun skips nights already written,
    so an interrupted run resumes; a failing night stops the run without leaving a partial
    file, and no manifest is written until every night is done.

    Parameters
    ----------
    src : str or Path
        Folder with the recordings: files named as ``dataset`` names them (Sleep-EDF's
        ``SC4ssNE0-PSG.edf``, MASS's ``CC-SS-NNNN PSG.edf``), or any dataset listed in
        ``pairs_csv``.
    out : str or Path
        Folder for the prepared nights.
    channel : str or None
        EEG channel spec to keep (see :class:`~tinysleepnet.io.channels.ChannelSpec`);
        None takes the dataset's.
    sfreq : float or None
        Sampling rate in Hz of the prepared signal; files sampled faster are resampled.
        None takes the dataset's (Sleep-EDF 100, MASS 256).
    wake_edge_min : float
        Minutes of wake kept before and after each sleep period.
    trim : {"authors", "deepsleepnet", "none"} or None
        Wake-trim rule, see :func:`trim_wake`; None takes the dataset's (Sleep-EDF
        ``"authors"``, MASS ``"none"``).
    pairs_csv : str or Path or None
        CSV with columns ``psg``, ``hypnogram``, ``subject``, ``night`` (and optionally
        ``name``, default the PSG's file stem); relative paths are taken from ``src``.
    n_jobs : int
        Nights prepared at once.
    %(progress)s
    dataset : str
        Key of :data:`~tinysleepnet.data.datasets.DATASETS`: ``"sleep-edf"`` or
        ``"mass-ss1"`` ... ``"mass-ss5"``. Gives the file naming, the way epochs are cut and
        the defaults of ``channel``, ``sfreq``, ``epoch_sec`` and ``trim``.
    epoch_sec : float or None
        Epoch length in seconds; None takes the dataset's (30; MASS-SS4/SS5 20).
    subjects : collection of str or None
        Prepare only the nights of these subjects (e.g. ``"00"`` ... ``"19"`` for
        Sleep-EDF-20); None prepares every night found.
    %(allow_truncated)s

    Returns
    -------
    pandas.DataFrame
        The manifest: one row per night with ``name``, ``subject``, ``night``, ``file``,
        ``n_epochs``, one count per stage, ``channel``, ``sfreq``, ``psg`` and ``hypnogram``.
    """
    src, out = Path(src), Path(out)
    layout = dataset_named(dataset)
    trim = trim or layout.trim
    _check_rule(trim)  # before any file is read
    if sfreq is not None:
        check_number("sfreq", sfreq, low=2)
    if epoch_sec is not None:
        check_number("epoch_sec", epoch_sec, low=0, low_open=True)
    check_number("wake_edge_min", wake_edge_min, low=0)
    pairs = read_pairs_csv(pairs_csv, src) if pairs_csv is not None else layout.find_pairs(src)
    if subjects is not None:
        pairs = pairs[pairs["subject"].isin(set(subjects))]
    if pairs.empty:
        raise PathError(
            src,
            f"no {dataset} night found ({layout.file_pattern}); list other datasets in a pairs CSV",
        )
    settings = {
        "channel": ChannelSpec.parse(channel or layout.channel).text,
        "sfreq": sfreq or layout.sfreq,
        "wake_edge_min": wake_edge_min,
        "trim": trim,
        "epoch_sec": epoch_sec or layout.epoch_sec,
        "epochs_from": layout.epochs_from,
    }
    _claim_folder(out, settings)
    # Threads rather than processes: reading and resampling run in NumPy/SciPy code that
    # releases the GIL, and threads skip starting workers that each import MNE (faster here).
    # MNE's log level is process-wide: set once here, not raced over by every thread's reads.
    jobs = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")(
        delayed(_prepare_or_skip)(pair, out, settings, allow_truncated)
        for pair in pairs.to_dict("records")
    )
    with mne.utils.use_log_level("error"):
        rows = list(
            tqdm(
                jobs,
                total=len(pairs),
                desc="prepare",
                unit="night",
                disable=None if progress else True,  # None: only on a terminal
            )
        )
    manifest = pd.DataFrame(rows)
    try:
        with atomic_path(out / MANIFEST) as tmp:
            manifest.to_csv(tmp, index=False)
    except OSError as err:
        raise PathError(out / MANIFEST, f"cannot be written ({err.strerror or err})") from err
    return manifest


def read_pairs_csv(pairs_csv: str | Path, src: str | Path) -> pd.DataFrame:
    """Read a CSV pairing recordings with hypnograms (columns psg, hypnogram, subject, night;
    optionally name, else the PSG file's stem).

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``subject``, ``night``, ``psg``, ``hypnogram``, paths resolved
        against ``src``.

    Raises
    ------
    PathError
        If the CSV is missing or unreadable, lacks a column or has an empty cell in one,
        repeats a night name or has one that is not a file name (``../x``, ``/abs``:
        :func:`~tinysleepnet.io.names.safe_name`), or has a night that is not a whole number.
    """
    pairs = read_text_table(pairs_csv, required=("psg", "hypnogram", "subject", "night"))
    for column in ("psg", "hypnogram"):
        pairs[column] = [Path(src) / path for path in pairs[column]]
    names = pairs["name"] if "name" in pairs.columns else [""] * len(pairs)
    pairs["name"] = [
        safe_name(name or psg.stem, pairs_csv, "night name")  # <name>.npz is written in OUT
        for name, psg in zip(names, pairs["psg"], strict=True)
    ]
    if pairs["name"].duplicated().any():
        duplicated = sorted(set(pairs["name"][pairs["name"].duplicated()]))
        raise PathError(pairs_csv, f"night names must be unique; repeated: {duplicated}")
    if not pairs["night"].str.fullmatch(r"\d+").all():
        raise PathError(pairs_csv, "column night must hold whole numbers")
    pairs["night"] = pairs["night"].astype(int)
    return pairs[["name", "subject", "night", "psg", "hypnogram"]]


def class_counts_table(manifest: pd.DataFrame) -> str:
    """Epochs per stage and night, with a total row, as a Markdown table."""
    counts = manifest.set_index("name")[[*STAGES, "n_epochs"]]
    counts.loc[f"all {len(manifest)}"] = counts.sum()
    header = ["night", *STAGES, "total"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, row in counts.iterrows():
        lines.append(f"| {name} | " + " | ".join(f"{count:,}" for count in row) + " |")
    return "\n".join(lines)


def _check_rule(rule: str) -> None:
    if rule not in TRIM_RULES:
        raise TinySleepNetError(f"unknown wake-trim rule {rule!r}; choose from {TRIM_RULES}")


def _checked_quality(
    epochs: np.ndarray, kept: np.ndarray, name: str, psg: str | Path
) -> np.ndarray:
    """``kept`` without the epochs holding a NaN or Inf sample, after the checks staging
    makes (:mod:`tinysleepnet.io.quality`).

    A signal not in microvolts is refused, as is a night where more than
    :data:`MOST_UNSCORABLE` of the kept epochs fail the per-epoch checks (flat, beyond EEG
    amplitudes, clipped: a gain error or a dead electrode, not a night to learn from). Fewer
    failing epochs are kept, as the authors kept them, with a warning naming how many and
    why; non-finite ones are dropped (training on them would make every loss NaN).
    """
    if kept.size == 0:
        return kept
    signal = epochs[kept]
    live = live_epochs(signal)
    check_microvolts(signal if live.all() else signal[live], psg)
    quality = epoch_quality(signal)
    failing = Counter(quality[quality != OK].tolist())
    if sum(failing.values()) > MOST_UNSCORABLE * kept.size:
        raise PathError(
            psg,
            f"{sum(failing.values())} of {kept.size} scored epochs fail the signal checks "
            f"({_counts(failing)}): a gain or unit error, or a dead electrode?",
        )
    if failing:
        logger.warning(
            "%s: night %s: %d of %d epochs fail the signal checks (%s)%s",
            psg,
            name,
            sum(failing.values()),
            kept.size,
            _counts(failing),
            "; the non-finite ones are dropped" if NONFINITE in failing else "",
        )
    return kept[quality != NONFINITE]


def _counts(reasons: Counter[str]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in reasons.most_common())


def _claim_folder(out: Path, settings: dict[str, Any]) -> None:
    """Record the settings of ``out``; refuse a folder prepared with other settings.

    A folder recorded before a setting existed was prepared with its :data:`_EARLIER`
    value, so it is still taken for that value.
    """
    path = out / SETTINGS
    if path.is_file() and {**_EARLIER, **read_json(path, "settings file")} != settings:
        raise PathError(
            out,
            f"prepared with other settings ({path.read_text(encoding='utf-8').strip()}); "
            "choose a new output folder",
        )
    write_text_atomic(path, json.dumps(settings))


def _prepare_or_skip(
    pair: dict[str, Any], out: Path, settings: dict[str, Any], allow_truncated: bool = False
) -> dict[str, Any]:
    """Prepare one night unless a valid file of it exists; return its manifest row."""
    file = out / f"{pair['name']}.npz"
    try:
        night = load_night(file)
    except PathError:  # not written yet, or unreadable: (re)write it
        night = prepare_night(
            pair["psg"],
            pair["hypnogram"],
            name=pair["name"],
            subject=pair["subject"],
            night=pair["night"],
            allow_truncated=allow_truncated,
            **settings,
        )
        try:
            save_night(file, night)
        except OSError as err:  # a full disk: numpy's error names no file
            raise PathError(file, f"cannot be written ({err.strerror or err})") from err
    counts = np.bincount(night.stages, minlength=N_STAGES)
    return {
        "name": night.name,
        "subject": night.subject,
        "night": night.night,
        "file": file.name,
        "n_epochs": night.n_epochs,
        **dict(zip(STAGES, counts.tolist(), strict=True)),
        "channel": night.channel,
        "sfreq": night.sfreq,
        "psg": str(pair["psg"]),
        "hypnogram": str(pair["hypnogram"]),
    }
