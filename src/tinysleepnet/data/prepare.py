"""Preparing a dataset: PSG + hypnogram pairs -> scored epochs of one EEG channel.

This follows the preprocessing behind the published TinySleepNet numbers (see the recipe):
the signal is kept in microvolts as the file gives it, labels come from the hypnogram's
onset/duration runs cut to the signal, long wake periods before and after sleep are trimmed,
and epochs scored ``?`` or ``Movement time`` are dropped. Each dataset's adapter
(:data:`~tinysleepnet.data.datasets.DATASETS`) finds its nights, cuts them into scored epochs
and sets the defaults of channel, rate, epoch length and wake trim; the folder written is a
:class:`~tinysleepnet.data.nights.PreparedData`.
"""

from __future__ import annotations

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
from ..config import Config
from ..errors import PathError, TinySleepNetError, check_number
from ..io.channels import ChannelSpec, read_channel
from ..io.filtering import HIGHPASS_SHARE, SignalFilter
from ..io.quality import NONFINITE, OK, check_microvolts, epoch_quality, live_epochs
from ..stages import EPOCH_SEC, N_STAGES, STAGES, UNSCORED, WAKE
from .adapters import TRIM_RULES, Dataset
from .datasets import dataset as dataset_named
from .nights import Night, PreparedData, load_night, save_night

#: Largest share of a night's scored epochs that may fail the signal checks
#: (:func:`~tinysleepnet.io.quality.epoch_quality`) before the night is refused.
MOST_UNSCORABLE = 0.5

#: A night whose part below the training band (a DC offset, slow drift: median |x|, uV)
#: exceeds this share of its EEG's median |x| in the band is named in a warning.
SLOW_SHARE = 1.0

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
    dataset: str | Dataset = "sleep-edf",
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
    dataset : str or Dataset
        The dataset (a key of :data:`~tinysleepnet.data.datasets.DATASETS`, or its adapter)
        whose way of cutting epochs the night takes
        (:meth:`~tinysleepnet.data.adapters.Dataset.scored_epochs`): Sleep-EDF's epochs at
        multiples of ``epoch_sec`` from the first sample, labelled by the hypnogram's runs
        (shifted by whole epochs when the hypnogram starts after or before the recording),
        or MASS's one epoch per scored annotation, cut at its own onset.
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

    Notes
    -----
    The amplitude checks measure the signal as staging does, filtered to the training
    band (:mod:`tinysleepnet.io.filtering`): a night with an amplifier's DC offset or slow
    drift is prepared, not refused as a unit or gain error. The signal saved is the one
    recorded, never filtered: the authors trained on Sleep-EDF's EEG as stored (high-passed
    by its amplifier already), and a prepared night equals its file sample for sample. An
    offset or drift larger than the EEG is named in a warning, as training sees it.
    """
    recording = read_channel(psg, channel, sfreq, allow_truncated=allow_truncated)
    samples_per_epoch = epoch_sec * recording.sfreq
    if not samples_per_epoch.is_integer():
        raise PathError(
            psg, f"{recording.sfreq:g} Hz does not give a whole number of samples per epoch"
        )
    layout = dataset_named(dataset) if isinstance(dataset, str) else dataset
    epochs, labels = layout.scored_epochs(recording, hypnogram, epoch_sec)
    kept = trim_wake(labels, round(wake_edge_min * 60 / epoch_sec), trim)
    kept = _checked_quality(epochs, kept, name, psg, recording.sfreq)
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
    layout = dataset_named(dataset, pairs_csv)
    trim = trim or layout.trim
    _check_rule(trim)  # before any file is read
    if sfreq is not None:
        check_number("sfreq", sfreq, low=2)
    if epoch_sec is not None:
        check_number("epoch_sec", epoch_sec, low=0, low_open=True)
    check_number("wake_edge_min", wake_edge_min, low=0)
    pairs = layout.find_pairs(src)
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
    prepared = PreparedData(out)
    prepared.claim(settings)
    # Threads rather than processes: reading and resampling run in NumPy/SciPy code that
    # releases the GIL, and threads skip starting workers that each import MNE (faster here).
    # MNE's log level is process-wide: set once here, not raced over by every thread's reads.
    jobs = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")(
        delayed(_prepare_or_skip)(pair, prepared, layout, settings, allow_truncated)
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
    prepared.write_manifest(manifest)
    return manifest


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
    epochs: np.ndarray, kept: np.ndarray, name: str, psg: str | Path, sfreq: float
) -> np.ndarray:
    """``kept`` without the epochs holding a NaN or Inf sample, after the checks staging
    makes (:mod:`tinysleepnet.io.quality`), on the signal as staging measures it.

    A signal not in microvolts is refused, as is a night where more than
    :data:`MOST_UNSCORABLE` of the kept epochs fail the per-epoch checks (flat, beyond EEG
    amplitudes, clipped: a gain error or a dead electrode, not a night to learn from). Fewer
    failing epochs are kept, as the authors kept them, with a warning naming how many and
    why; non-finite ones are dropped (training on them would make every loss NaN).

    The amplitude checks measure the signal in the training band, filtered as staging
    filters a recording (:class:`~tinysleepnet.io.filtering.SignalFilter` at the default
    ``Config.highpass_hz``), so a DC offset or slow drift an amplifier adds is not taken
    for a unit or gain error; the flat, clipped and non-finite checks see the samples as
    recorded. The night itself is saved as recorded, unfiltered, as the authors prepared
    theirs (Sleep-EDF's EEG is high-passed by its amplifier already); a night whose offset
    or drift is larger than its EEG (:data:`SLOW_SHARE`) is named in a warning, since
    training then sees it.
    """
    if kept.size == 0:
        return kept
    band = SignalFilter(sfreq, Config.highpass_hz)(epochs.ravel()).reshape(epochs.shape)
    signal, filtered = epochs[kept], band[kept]
    live = live_epochs(signal)
    check_microvolts(
        filtered if live.all() else filtered[live], psg, signal if live.all() else signal[live]
    )
    _warn_slow(signal[live], filtered[live], name, psg)
    quality = epoch_quality(filtered, raw=signal)
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


def _warn_slow(recorded: np.ndarray, filtered: np.ndarray, name: str, psg: str | Path) -> None:
    """Warn, naming the file, when the recorded signal's offset or slow drift (its part
    below the training band) is larger than :data:`SLOW_SHARE` of its EEG."""
    if recorded.size == 0:
        return
    eeg = float(np.median(np.abs(filtered)))
    slow = float(np.median(np.abs(recorded - filtered)))
    if slow > SLOW_SHARE * eeg:
        logger.warning(
            "%s: night %s: a DC offset or slow drift of median |x| %.3g uV, larger than its "
            "EEG (%.3g uV above %g Hz); checked in the training band, but prepared as "
            "recorded, so training sees it",
            psg,
            name,
            slow,
            eeg,
            HIGHPASS_SHARE * Config.highpass_hz,
        )


def _counts(reasons: Counter[str]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in reasons.most_common())


def _prepare_or_skip(
    pair: dict[str, Any],
    prepared: PreparedData,
    layout: Dataset,
    settings: dict[str, Any],
    allow_truncated: bool = False,
) -> dict[str, Any]:
    """Prepare one night unless a valid file of it exists; return its manifest row."""
    file = prepared.night_path(pair["name"])
    try:
        night = load_night(file)
    except PathError:  # not written yet, or unreadable: (re)write it
        night = prepare_night(
            pair["psg"],
            pair["hypnogram"],
            name=pair["name"],
            subject=pair["subject"],
            night=pair["night"],
            channel=settings["channel"],
            sfreq=settings["sfreq"],
            wake_edge_min=settings["wake_edge_min"],
            trim=settings["trim"],
            epoch_sec=settings["epoch_sec"],
            dataset=layout,
            allow_truncated=allow_truncated,
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
