"""Staging a user's recording: one call from a file (or ``Raw``, or array) to a hypnogram.

:func:`stage` reads the EEG channel, checks that it is in microvolts, resamples it to the
model's rate, checks the quality of every epoch (:mod:`tinysleepnet.io.quality`) and runs the
network over the scorable epochs of the whole night with the LSTM state carried from one to
the next (unscorable epochs are skipped, so a NaN or a flat stretch never reaches the state).
The :class:`StagingResult` it returns holds the stage probabilities, the quality of each
epoch and what produced it, and writes every output (CSV, EDF+, PNG, statistics, agreement
with an expert).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .. import __version__
from .._docs import fill_doc
from ..errors import PathError
from ..io.channels import ChannelSpec
from ..io.filtering import SignalFilter
from ..io.hypnogram import lights_times
from ..io.quality import (
    FLAT,
    NONFINITE,
    OK,
    QualitySettings,
    check_microvolts,
    compare_amplitude,
    epoch_quality,
    live_epochs,
    median_amplitude_uv,
)
from ..io.recordings import Recording
from ..models.trained import TrainedModel
from ..nn.checkpoint import file_checksum
from ..nn.inference import predict_proba
from ..scoring.calibration import apply_temperature
from ..scoring.in_bed import (
    ANNOTATIONS,
    InBedWindow,
    LightsTime,
    auto_window,
    given_times,
    window_from_times,
)
from ..stages import N_STAGES
from .backends import ModelLike, as_model
from .result import StagingResult
from .review import ReviewRule
from .sources import Source, read_recording

logger = logging.getLogger("tinysleepnet")


@fill_doc
def stage(
    source: Source,
    model: ModelLike | None = None,
    *,
    channel: str | None = None,
    start: dt.datetime | None = None,
    backend: str = "torch",
    precision: Literal["float32", "bfloat16"] = "float32",
    quality: QualitySettings | None = None,
    model_file: str | Path | None = None,
    allow_truncated: bool = False,
    review: str | float | ReviewRule | None = None,
    lights_off: str | float | LightsTime | None = None,
    lights_on: str | float | LightsTime | None = None,
    auto_in_bed: bool = False,
) -> StagingResult:
    """Stage a whole night of sleep from one EEG channel.

    Parameters
    ----------
    source : path, Recording, mne.io.Raw or (ndarray, float)
        The recording: a file in any format MNE reads (EDF, EDF+, BDF, FIF, ...), a ``Raw``,
        or a 1-D signal in microvolts with its sampling rate in Hz. Signals sampled above the
        model's rate are resampled; below it they are refused.
    model : TrainedModel, TinySleepNet, OnnxModel, path, name or None
        A trained model (:class:`~tinysleepnet.models.trained.TrainedModel`, loaded once
        for many recordings), a loaded network, a checkpoint file, an exported ONNX graph,
        a released model's folder, an installed model's name, or None: the default
        installed model.
    %(channel_or_model)s
    start : datetime or None
        Clock time of the recording's start; None takes the file's (if any).
    backend : {"torch", "onnx"}
        Run a checkpoint with PyTorch or ONNX Runtime (see :func:`as_model`).
    precision : {"float32", "bfloat16"}
        Arithmetic of the CNN with PyTorch (see
        :func:`~tinysleepnet.nn.inference.predict_proba`).
    quality : QualitySettings or None
        Thresholds of the signal checks; None takes the defaults.
    model_file : str or Path or None
        The file ``model`` was loaded from, recorded with its checksum in the provenance;
        None takes the file the trained model was loaded from (none for a network built
        in memory).
    %(allow_truncated)s
    review : str, float or None
        Flag epochs for a human scorer: ``"10%"`` (the least confident 10 %) or a
        probability threshold such as ``0.6`` (:class:`.review.ReviewRule`).
    lights_off, lights_on : str, float, LightsTime or None
        The in-bed window the statistics, agreement and plot cover: a clock time
        (``"23:10"``), an offset from the start (``"+90min"``, or seconds as a number);
        see :class:`~tinysleepnet.scoring.in_bed.LightsTime`, which reads them before the
        recording is. Where neither is given, the recording's own "Lights off"/"Lights on"
        annotations are used when it has them.
    auto_in_bed : bool
        Without lights off/on given or annotated, choose the window from the staged
        hypnogram (:func:`~tinysleepnet.scoring.in_bed.auto_window`: the main sleep period
        with 30 min of wake on each side). Otherwise the whole recording counts as in bed.

    Returns
    -------
    StagingResult
        One stage per whole epoch of the model's length (``config.epoch_sec``: 30 s, or
        20 s for a model of MASS-SS4/SS5); a trailing partial epoch is not staged. The
        probabilities are calibrated by the model's temperature (1.0 when it has none).
        Epochs that
        fail the quality checks get no stage (:attr:`StagingResult.quality` says why), and
        the network runs over the others with the LSTM state carried across the gaps.
        A recording whose amplitude is more than ``amplitude_warn_factor`` away from the
        model's training nights gets a warning (logged and in
        :attr:`StagingResult.warnings`).

    Raises
    ------
    TinySleepNetError
        Before the recording is read: if ``lights_off`` or ``lights_on`` is malformed.
    PathError
        If the file cannot be read, is truncated (unless ``allow_truncated``), lacks the
        channel, is sampled too slowly, is shorter than one epoch, is not in microvolts, has
        no scorable epoch, or differs from the training nights' amplitude by more than
        ``amplitude_refuse_factor``.

    Examples
    --------
    >>> result = stage("SC4001E0-PSG.edf", model="best.pt")  # doctest: +SKIP
    >>> result.statistics()["tst_min"]  # doctest: +SKIP
    """
    lights = given_times(lights_off, lights_on)  # a malformed time refused before any reading
    trained = as_model(model, backend)  # loaded once, whatever names it
    recording = read_recording(source, channel, trained, allow_truncated=allow_truncated)
    warnings = _channel_warnings(recording.channel, trained.config.channel)
    raw = recording.epochs(trained.epoch_samples)
    # the band of the training nights: offsets, drift and mains removed before any check
    band = SignalFilter(recording.sfreq, trained.config.highpass_hz)
    epochs = band(raw.ravel()).reshape(raw.shape)
    live = live_epochs(raw)
    check_microvolts(
        epochs if live.all() else epochs[live], recording.path, raw if live.all() else raw[live]
    )
    epoch_ok = epoch_quality(epochs, quality, raw=raw, sfreq=recording.sfreq)
    warnings += _amplitude_warnings(
        trained.reference_amplitude_uv, epochs, epoch_ok, recording.path, quality
    )
    scorable = epoch_ok == OK
    if not scorable.any():
        reasons = ", ".join(f"{n} {r}" for r, n in Counter(epoch_ok.tolist()).most_common())
        raise PathError(recording.path, f"no scorable epoch ({reasons})")
    proba = np.full((len(epochs), N_STAGES), np.nan, dtype=np.float32)
    # Only scorable epochs reach the network: the LSTM state goes from one to the next.
    staged = epochs if scorable.all() else epochs[scorable]  # no copy of a clean night
    (proba[scorable],) = predict_proba(trained.network, [staged], precision=precision)
    proba = apply_temperature(proba, trained.temperature)
    result = StagingResult(
        proba,
        start or recording.start,
        trained.config.epoch_sec,
        quality=epoch_ok,
        warnings=warnings,
        provenance=provenance(recording, trained, model_file),
        review_rule=None if review is None else ReviewRule.parse(review),
        name=None if (file := _file_of(recording)) is None else file.stem,
    )
    result.window = in_bed_window(result, recording, *lights, auto_in_bed)
    return result


def in_bed_window(
    result: StagingResult,
    recording: Recording,
    lights_off: LightsTime | None = None,
    lights_on: LightsTime | None = None,
    auto: bool = False,
) -> InBedWindow | None:
    """The in-bed window of a staging: given times, else the recording's own Lights
    off/on annotations, else (with ``auto``) :func:`~tinysleepnet.scoring.in_bed.auto_window`,
    else None (the whole recording). The choice is logged in one line."""

    def seconds(value: LightsTime | None) -> float | None:
        return None if value is None else value.seconds(result.start)

    window = None
    if lights_off is not None or lights_on is not None:
        window = window_from_times(
            seconds(lights_off), seconds(lights_on), result.n_epochs, result.epoch_sec
        )
    elif recording.annotations is not None:
        off, on = lights_times(recording.annotations)
        if off is not None or on is not None:
            window = window_from_times(off, on, result.n_epochs, result.epoch_sec, ANNOTATIONS)
    if window is None and auto:
        window = auto_window(result.stages, result.epoch_sec)
    if window is not None:
        logger.info("%s: %s", recording.path, window.describe(result.epoch_sec, result.start))
    return window


def _file_of(recording: Recording) -> Path | None:
    """The file a recording was read from; None for arrays and in-memory ``Raw``."""
    path = recording.path
    return Path(path) if path is not None and Path(path).is_file() else None


def _channel_warnings(channel: str, model_channel: str) -> list[str]:
    """A warning when the staged channel is not one the model was trained on."""
    spec = ChannelSpec.parse(model_channel)
    staged = ChannelSpec.parse(channel)
    if set(staged.names) & set(spec.names) and staged.reference == spec.reference:
        return []
    message = (
        f"staging channel {staged.text!r} with a model trained on {spec.text!r}: "
        "stages may be unreliable"
    )
    logger.warning(message)
    return [message]


def provenance(
    recording: Recording, model: TrainedModel, model_file: str | Path | None = None
) -> dict[str, Any]:
    """What produced a staging: tool and version, model file and its SHA-256 (``model_file``
    when given, else the file ``model`` was loaded from), input file, channel and time of
    run (UTC, ISO 8601)."""
    produced_by = model.provenance()
    if model_file is not None:
        produced_by = {"model": str(model_file), "model_sha256": file_checksum(model_file)}
    return {
        "tool": f"tinysleepnet {__version__}",
        **produced_by,
        "input": str(recording.path),
        "channel": recording.channel,
        "staged_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _amplitude_warnings(
    reference: float,
    epochs: np.ndarray,
    epoch_ok: np.ndarray,
    path: Path,
    quality: QualitySettings | None,
) -> list[str]:
    """Warnings about the recording's amplitude against ``reference``, the model's training
    nights' median |x| in uV (none when it is NaN: the model does not know it); logged as
    well.

    The median is taken over every epoch that holds a signal (not non-finite, not flat),
    not only the scorable ones: with a gain error of 50 every epoch fails the amplitude
    check, and the gain is the problem to report.
    """
    if np.isnan(reference):
        return []
    # clipped or loud epochs still carry the signal's scale; NaN and flat ones do not
    median = median_amplitude_uv(epochs, ~np.isin(epoch_ok, (NONFINITE, FLAT)))
    warning = compare_amplitude(median, reference, path, quality)
    if warning is None:
        return []
    logger.warning(warning)
    return [warning]
