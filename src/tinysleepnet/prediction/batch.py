"""Staging many recordings: each staged in parallel and its outputs written, one outcome each.

:func:`stage_many` is what ``tinysleepnet predict`` runs, as a Python function: it loads
the model once, shares the machine's torch threads out between the recordings staged at
once, writes every output of each recording (:meth:`StagingResult.save`) and reports each
recording's outcome as it ends: a one-line summary, or why it was skipped. A recording that
cannot be staged does not stop the others. For a shard of a cohort
(:mod:`~tinysleepnet.prediction.cohort`) it also leaves the outcome files that
``tinysleepnet merge`` reads.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from joblib import Parallel, delayed
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from ..errors import TinySleepNetError, check_number
from ..models.trained import TrainedModel
from ..nn.device import torch_threads
from ..scoring.in_bed import LightsTime, given_times
from ..text import counted
from .backends import ModelLike, as_model
from .cohort import Shard, record_outcome
from .expert import expert_labels
from .online import replay
from .outputs import colliding_recordings, existing_outputs
from .result import SavedStaging, StagingResult
from .review import ReviewRule
from .sources import read_recording
from .stage import stage


@dataclass(frozen=True)
class RecordingOutcome:
    """How the staging of one recording by :func:`stage_many` ended.

    Attributes
    ----------
    recording : Path
        The recording.
    report : str
        One line: for a staged recording, its epochs, in-bed window, TST and SE, the
        unscorable minutes and why, the kappa with an expert hypnogram, and the folder of
        its outputs; for a skipped one, why (the file named first).
    error : Exception or None
        What stopped it; None when it was staged.
    saved : SavedStaging or None
        The files, statistics and agreement written; None when it was skipped.
    """

    recording: Path
    report: str
    error: Exception | None = None
    saved: SavedStaging | None = None

    @property
    def ok(self) -> bool:
        """Whether the recording was staged and its outputs written."""
        return self.error is None


@dataclass(frozen=True)
class _Settings:
    """What every recording of a :func:`stage_many` is staged with."""

    out: Path
    start: dt.datetime | None
    precision: Literal["float32", "bfloat16"]
    review: str | float | ReviewRule | None
    lights_off: LightsTime | None
    lights_on: LightsTime | None
    auto_in_bed: bool
    online: bool
    allow_truncated: bool
    keep_going: bool


def stage_many(
    recordings: Sequence[str | Path],
    out: str | Path,
    model: ModelLike | None = None,
    *,
    hypnograms: Sequence[str | Path | None] | None = None,
    channel: str | None = None,
    channels: Sequence[str | None] | None = None,
    start: dt.datetime | None = None,
    backend: str = "torch",
    precision: Literal["float32", "bfloat16"] = "float32",
    review: str | float | ReviewRule | None = None,
    lights_off: str | float | LightsTime | None = None,
    lights_on: str | float | LightsTime | None = None,
    auto_in_bed: bool = False,
    online: bool = False,
    allow_truncated: bool = False,
    jobs: int = 1,
    threads: int = 0,
    shard: Shard | None = None,
    on_outcome: Callable[[RecordingOutcome], None] | None = None,
) -> list[RecordingOutcome]:
    """Stage recordings and write every output of each into one folder.

    Each recording is staged as :func:`~tinysleepnet.prediction.stage.stage` does it, with
    the model loaded once, and its outputs written into ``out`` under its file name's stem
    (:meth:`~tinysleepnet.prediction.result.StagingResult.save`, replacing those of an
    earlier staging of the name). A recording that cannot be staged (unreadable, too short,
    not in microvolts...) is skipped with the reason, and the others go on.

    Parameters
    ----------
    recordings : sequence of str or Path
        The recording files (any format MNE reads). Their stems must differ: they name
        the outputs.
    out : str or Path
        Folder the outputs are written into (made if missing).
    model : TrainedModel, TinySleepNet, OnnxModel, path, name or None
        As for :func:`~tinysleepnet.prediction.stage.stage`: loaded once for all.
    hypnograms : sequence of (str, Path or None), or None
        An expert hypnogram per recording, in the same order (None for none): its agreement
        is written. None: no agreement.
    channel : str or None
        EEG channel of every recording (``"A|B"``: whichever the file has); None takes the
        model's.
    channels : sequence of (str or None), or None
        A channel per recording, in the same order, overriding ``channel`` where not None.
    start : datetime or None
        Clock time of every recording's start; None takes each file's.
    backend : {"torch", "onnx"}
        As for :func:`~tinysleepnet.prediction.stage.stage`.
    precision : {"float32", "bfloat16"}
        As for :func:`~tinysleepnet.prediction.stage.stage`.
    review : str, float, ReviewRule or None
        As for :func:`~tinysleepnet.prediction.stage.stage`.
    lights_off, lights_on : str, float, LightsTime or None
        As for :func:`~tinysleepnet.prediction.stage.stage`, for every recording (read
        once, before any recording is).
    auto_in_bed : bool
        As for :func:`~tinysleepnet.prediction.stage.stage`.
    online : bool
        Stage through the online :class:`~tinysleepnet.prediction.online.Stager` in 1-s
        blocks, and report the largest difference from whole-night staging.
    allow_truncated : bool
        Stage the part present of an EDF/BDF file shorter than its header declares
        (refused otherwise), with a warning.
    jobs : int
        Recordings staged at once (in threads).
    threads : int
        Torch threads shared out between the ``jobs`` (each gets ``threads // jobs``, at
        least one) while the recordings are staged, then restored; 0 shares out those
        torch has now.
    shard : Shard or None
        The shard of a cohort these recordings are: each outcome is recorded for
        ``tinysleepnet merge`` (:func:`~tinysleepnet.prediction.cohort.record_outcome`),
        and a recording that breaks a reader unexpectedly is skipped as well, so the shard
        finishes. None: such an error propagates.
    on_outcome : callable or None
        Called with each :class:`RecordingOutcome` as it ends (in the order they end),
        e.g. to print its report.

    Returns
    -------
    list of RecordingOutcome
        One per recording, in the order given.

    Raises
    ------
    TinySleepNetError
        Before anything is staged: if ``hypnograms`` or ``channels`` is not one per
        recording, two recordings share a stem, ``lights_off`` or ``lights_on`` is
        malformed, or the model cannot be loaded.

    Examples
    --------
    Stage a folder of EDF files (not Sleep-EDF's ``*-Hypnogram.edf``, which hold
    annotations only):

    >>> from pathlib import Path
    >>> nights = sorted(Path("nights").glob("*-PSG.edf"))  # doctest: +SKIP
    >>> outcomes = stage_many(nights, "staged", model="best.pt", jobs=2)  # doctest: +SKIP
    >>> [o.saved.statistics["tst_min"] for o in outcomes if o.ok]  # doctest: +SKIP
    """
    check_number("jobs", jobs, low=1, whole=True)
    check_number("threads", threads, low=0, whole=True)
    paths = [Path(path) for path in recordings]
    expert = _one_each(hypnograms, paths, "hypnogram")
    overrides = _one_each(channels, paths, "channel")
    if collision := colliding_recordings(paths):
        raise TinySleepNetError(collision)
    lights_off, lights_on = given_times(lights_off, lights_on)
    trained = as_model(model, backend)
    settings = _Settings(
        out=Path(out),
        start=start,
        precision=precision,
        review=review,
        lights_off=lights_off,
        lights_on=lights_on,
        auto_in_bed=auto_in_bed,
        online=online,
        allow_truncated=allow_truncated,
        keep_going=shard is not None,
    )
    jobs = max(1, min(jobs, len(paths)))
    # The threads are shared out: one core per recording beats several fighting over each.
    shared = max(1, (threads or torch.get_num_threads()) // jobs)
    outcomes: dict[Path, RecordingOutcome] = {}
    # Warnings logged while the bar runs (a recording's amplitude, a truncated file) go
    # through tqdm, so they print whole above the bar instead of under its redraws.
    with torch_threads(shared), logging_redirect_tqdm([logging.getLogger("tinysleepnet")]):
        ended = Parallel(n_jobs=jobs, prefer="threads", return_as="generator_unordered")(
            delayed(_stage_member)(path, hypnogram, override or channel, trained, settings)
            for path, hypnogram, override in zip(paths, expert, overrides, strict=True)
        )
        for outcome in tqdm(ended, total=len(paths), unit="recording", disable=None):
            outcomes[outcome.recording] = outcome
            if shard is not None:  # for `tinysleepnet merge`
                error = None if outcome.ok else outcome.report
                path = outcome.recording
                record_outcome(settings.out, path.stem, path, shard, error)
            if on_outcome is not None:
                on_outcome(outcome)
    return [outcomes[path] for path in paths]


def _one_each(values: Sequence[Any] | None, recordings: list[Path], what: str) -> list[Any]:
    """``values`` as one per recording (all None when not given); refused when their
    counts differ."""
    if values is None:
        return [None] * len(recordings)
    if len(values) != len(recordings):
        raise TinySleepNetError(
            f"{counted(len(values), what)} for {counted(len(recordings), 'recording')}; "
            "give one per recording, in the same order"
        )
    return list(values)


def _stage_member(
    path: Path,
    hypnogram: str | Path | None,
    channel: str | None,
    trained: TrainedModel,
    settings: _Settings,
) -> RecordingOutcome:
    """:func:`_stage_one`; with ``keep_going``, an unexpected error is an outcome too."""
    try:
        return _stage_one(path, hypnogram, channel, trained, settings)
    except Exception as err:
        if not settings.keep_going:
            raise
        # A shard of a cohort goes on past a file that breaks a reader unexpectedly.
        return RecordingOutcome(path, f"{path}: {type(err).__name__}: {err}", err)


def _stage_one(
    path: Path,
    hypnogram: str | Path | None,
    channel: str | None,
    trained: TrainedModel,
    settings: _Settings,
) -> RecordingOutcome:
    """Stage one recording and write its outputs."""
    try:
        earlier = existing_outputs(settings.out, path.stem)
        recording = read_recording(path, channel, trained, allow_truncated=settings.allow_truncated)
        result = stage(
            recording,
            model=trained,
            start=settings.start,
            precision=settings.precision,
            review=settings.review,
            lights_off=settings.lights_off,
            lights_on=settings.lights_on,
            auto_in_bed=settings.auto_in_bed,
        )
        report = f"{path}: {counted(result.n_epochs, 'epoch')}"
        if result.window is not None:
            report += f", {result.window.describe(result.epoch_sec, result.start)}"
        if settings.online:
            online = replay(recording, trained, start=settings.start)
            difference = float(np.nanmax(np.abs(online.proba - result.proba)))
            report += f", online max |difference| {difference:.1e}"
            online.review_rule, online.provenance = result.review_rule, result.provenance
            online.window, online.name = result.window, result.name
            result = online
        expert_stages, notes = (
            expert_labels(hypnogram, result, recording.start) if hypnogram else (None, [])
        )
        saved = result.save(settings.out, path.stem, expert_stages)
    except TinySleepNetError as err:
        return RecordingOutcome(path, str(err), err)
    except OSError as err:  # a read-only or full disk, a folder where a file should go
        return RecordingOutcome(path, f"{path}: {err.filename or path}: {err.strerror or err}", err)
    report += _quality_report(result, saved.statistics)
    if saved.agreement is not None:
        report += f", kappa {saved.agreement['kappa']:.3f}"
    report += "".join(f"; {note}" for note in notes)
    removed = [p.name for p in earlier if not p.exists()]
    if earlier:
        report += f"; replaced {len(earlier)} earlier outputs"
        report += f" (removed {', '.join(removed)})" if removed else ""
    return RecordingOutcome(path, f"{report} -> {saved.paths['csv'].parent}", saved=saved)


def _quality_report(result: StagingResult, stats: dict[str, Any]) -> str:
    """TST and SE, and how much of the night was unscorable and why."""
    se = "-" if stats["se_pct"] is None else f"{stats['se_pct']:.1f}%"
    report = f", TST {stats['tst_min']:.1f} min, SE {se}"
    if stats["excluded_epochs"]:
        reasons = Counter(np.asarray(result.quality)[~result.scorable].tolist())
        report += (
            f", {stats['excluded_min']:.1f} min unscorable ("
            + ", ".join(f"{counted(n, 'epoch')} {reason}" for reason, n in reasons.most_common())
            + ") excluded"
        )
    return report
