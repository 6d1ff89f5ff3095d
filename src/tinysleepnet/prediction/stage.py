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
import math
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias

import mne
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import __version__
from ..config import BACKENDS
from ..core.checkpoint import file_checksum, load_model
from ..core.inference import predict_proba
from ..core.metrics import scores
from ..core.statistics import sleep_statistics, statistics_table
from ..errors import PathError, TinySleepNetError
from ..evaluation.calibration import apply_temperature
from ..export import export_onnx
from ..io.atomic import write_figure, write_json, write_text_atomic
from ..io.channels import ChannelSpec, read_channel, recording_from_spec
from ..io.quality import (
    OK,
    QualitySettings,
    compare_amplitude,
    epoch_quality,
    live_epochs,
    median_amplitude_uv,
)
from ..io.recordings import Recording, recording_from_raw
from ..model import TinySleepNet
from ..release.card import CARD_FILE, read_card
from ..release.store import resolve_model
from ..stages import EPOCH_SEC, N_STAGES, UNSCORED, stage_names
from . import outputs
from .bids import events_frame, events_sidecar, write_events
from .onnx_backend import OnnxModel
from .plots import plot_hypnogram
from .review import (
    ReviewRule,
    review_agreement,
    review_agreement_table,
    review_statistics,
    review_table,
)

#: What :func:`stage` accepts as the model: a loaded network or a checkpoint file.
ModelLike: TypeAlias = TinySleepNet | OnnxModel | str | Path

#: What :func:`stage` accepts as the recording.
Source: TypeAlias = str | Path | Recording | mne.io.BaseRaw | tuple[np.ndarray, float]

#: Median absolute amplitude (uV) outside which a signal cannot be scalp EEG in microvolts,
#: and the scale it most likely is in. Sleep EEG has a median |x| of a few to ~50 uV.
_VOLTS_BELOW_UV = 1e-3
_MILLIVOLTS_BELOW_UV = 0.5
_COUNTS_ABOVE_UV = 5e3

logger = logging.getLogger("tinysleepnet")


@dataclass
class StagingResult:
    """The staging of one night.

    Attributes
    ----------
    proba : ndarray of float32, shape (n_epochs, 5)
        Stage probabilities per epoch, columns in :data:`~tinysleepnet.stages.STAGES` order.
    start : datetime or None
        Start of the first epoch (the recording's start), None if unknown.
    epoch_sec : float
        Epoch length in seconds.
    quality : ndarray of str, shape (n_epochs,) or None
        ``"ok"`` or why the epoch is unscorable (:func:`~tinysleepnet.io.quality.epoch_quality`);
        None: every epoch is scorable.
    warnings : list of str
        One-line warnings about the whole recording (e.g. its amplitude).
    provenance : dict
        What produced the staging (tool version, model file and checksum, input file,
        channel, time of run), written into the statistics; empty when unknown.
    review_rule : ReviewRule or None
        Which epochs to flag for a human scorer (:mod:`.review`); None flags none.
    stages : ndarray of int64, shape (n_epochs,)
        The most probable stage of each epoch (class ids 0..4), derived from ``proba``;
        :data:`~tinysleepnet.stages.UNSCORED` for unscorable epochs (their ``proba`` is NaN).
    """

    proba: np.ndarray
    start: dt.datetime | None = None
    epoch_sec: float = EPOCH_SEC
    quality: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    review_rule: ReviewRule | None = None
    stages: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.proba = np.asarray(self.proba, dtype=np.float32)
        if self.quality is None:
            self.quality = np.full(len(self.proba), OK)
        self.quality = np.asarray(self.quality, dtype=str)
        self.stages = self.proba.argmax(axis=1).astype(np.int64)
        self.stages[~self.scorable] = UNSCORED

    @property
    def n_epochs(self) -> int:
        return len(self.stages)

    @property
    def scorable(self) -> np.ndarray:
        """Mask of the epochs whose signal passed the quality checks."""
        return np.asarray(self.quality) == OK

    @property
    def review(self) -> np.ndarray | None:
        """Mask of the epochs flagged for review by :attr:`review_rule` (None: no rule)."""
        return None if self.review_rule is None else self.review_rule.flag(self.proba)

    @property
    def stage_names(self) -> list[str]:
        """Name of each epoch's stage (``"W"``, ``"N1"``, ... ``"REM"``)."""
        return stage_names(self.stages)

    def statistics(self, **kwargs: Any) -> dict[str, Any]:
        """Sleep statistics of the predicted hypnogram; see :func:`.sleep_statistics`.

        Unscorable epochs are excluded (``excluded_min`` says how long they last), and the
        :attr:`provenance` is included when known.
        """
        stats = sleep_statistics(self.stages, self.epoch_sec, excluded=~self.scorable, **kwargs)
        if self.provenance:
            stats["provenance"] = self.provenance
        if self.review is not None:
            stats.update(review_statistics(self.stages, self.review, self.epoch_sec))
        return stats

    def plot(self) -> Figure:
        """Hypnogram above hypnodensity; see :func:`.plot_hypnogram`."""
        return plot_hypnogram(
            self.stages, self.proba, self.epoch_sec, self.start, self.quality, review=self.review
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per epoch; see :func:`.outputs.hypnogram_frame`."""
        frame = outputs.hypnogram_frame(
            self.stages, self.proba, self.epoch_sec, self.start, self.quality
        )
        if self.review is not None:
            frame["review"] = self.review.astype(int)
        return frame

    def to_csv(self, path: str | Path) -> None:
        """Write :meth:`to_frame` as CSV, atomically."""
        outputs.write_csv(path, self.to_frame())

    def to_annotations(self) -> mne.Annotations:
        """The hypnogram as :class:`mne.Annotations` with ``orig_time`` = :attr:`start`."""
        return outputs.to_annotations(self.stages, self.epoch_sec, self.start, self.quality)

    def to_edf(self, path: str | Path) -> None:
        """Write the hypnogram as an annotation-only EDF+ file, atomically."""
        outputs.write_hypnogram_edf(
            path, self.stages, self.epoch_sec, self.start, self.quality, review=self.review
        )

    def agreement(self, expert_stages: np.ndarray) -> dict[str, Any]:
        """Scores against an expert hypnogram, on the epochs the expert staged.

        Parameters
        ----------
        expert_stages : ndarray of int, shape (n_epochs,)
            Expert class ids, :data:`~tinysleepnet.stages.UNSCORED` for epochs left out
            (e.g. from :func:`~tinysleepnet.io.hypnogram.epoch_labels`).

        Returns
        -------
        dict
            :func:`~tinysleepnet.core.metrics.scores` plus ``n_unscored`` and, with a
            :attr:`review_rule`, ``review`` (:func:`.review.review_agreement`: accuracy on
            the unflagged epochs and once the flagged ones are corrected).

        Raises
        ------
        ValueError
            If ``expert_stages`` has another length or scores no epoch.
        """
        expert_stages = np.asarray(expert_stages)
        if expert_stages.shape != self.stages.shape:
            raise ValueError(
                f"expert hypnogram has {expert_stages.size} epochs, staging has {self.n_epochs}"
            )
        scored = expert_stages != UNSCORED
        if not scored.any():
            raise ValueError("the expert hypnogram scores no epoch of the staged signal")
        agreement = {
            **scores(expert_stages[scored], self.stages[scored]),
            "n_unscored": int(np.sum(~scored)),
        }
        if self.review is not None:
            agreement["review"] = review_agreement(expert_stages, self.stages, self.review)
        return agreement

    def save(
        self, out_dir: str | Path, name: str, expert_stages: np.ndarray | None = None
    ) -> dict[str, Path]:
        """Write every output of the ``predict`` command into ``out_dir``.

        Files are ``<name>_hypnogram.csv``, ``<name>_hypnogram.edf``, ``<name>_hypnogram.png``,
        ``<name>_statistics.json`` and ``.txt``, and with ``expert_stages`` also
        ``<name>_agreement.json`` and ``.txt``, and the BIDS events table
        ``<name>_events.tsv`` with its sidecar ``.json`` (:mod:`.bids`; a trailing ``_eeg``
        of ``name`` is dropped); each is written atomically. They replace the
        whole set of an earlier staging of ``name``: its files this staging does not write
        (an agreement with another expert hypnogram, say) are removed. The statistics JSON,
        which records the provenance, is removed first and written last, so a save that is
        interrupted never leaves what looks like a complete set.

        Returns
        -------
        dict of str to Path
            The files written, keyed ``csv``, ``edf``, ``png``, ``statistics``,
            ``statistics_txt``, ``agreement``, ``agreement_txt``, ``events``, ``events_json``.
        """
        paths = outputs.output_paths(out_dir, name)
        if expert_stages is None:
            del paths["agreement"], paths["agreement_txt"]
        paths["statistics"].unlink(missing_ok=True)
        self.to_csv(paths["csv"])
        self.to_edf(paths["edf"])
        provenance = {key: str(value) for key, value in self.provenance.items()}
        write_figure(paths["png"], self.plot(), metadata={"Software": "tinysleepnet", **provenance})
        stats = self.statistics()
        table = statistics_table(stats)
        if self.review is not None:
            table += review_table(stats)
        write_text_atomic(paths["statistics_txt"], table)
        paths["events"], paths["events_json"] = self.to_bids(out_dir, name)
        if expert_stages is not None:
            agreement = self.agreement(expert_stages)
            write_json(paths["agreement"], agreement)
            text = outputs.agreement_table(agreement)
            if "review" in agreement:
                text += review_agreement_table(agreement["review"])
            write_text_atomic(paths["agreement_txt"], text)
        outputs.remove_stale_outputs(out_dir, name, keep=paths.values())
        write_json(paths["statistics"], stats)
        return paths

    def to_bids(self, out_dir: str | Path, name: str) -> tuple[Path, Path]:
        """Write the BIDS events table and its sidecar (:func:`.bids.write_events`).

        The sidecar names the model from :attr:`provenance` and, for a released model,
        its card (name, weights' checksum, temperature, parent).
        """
        frame = events_frame(self.stages, self.proba, self.epoch_sec, self.review)
        model = {**self.provenance, **model_card_summary(self.provenance.get("model"))}
        rule = None if self.review_rule is None else str(self.review_rule)
        return write_events(out_dir, name, frame, events_sidecar(model, rule))


def model_card_summary(model_file: str | Path | None) -> dict[str, Any]:
    """Name, weights' checksum, temperature and parent from the card beside a released
    model's weights; empty for a bare checkpoint."""
    if model_file is None or not (Path(model_file).parent / CARD_FILE).is_file():
        return {}
    card = read_card(Path(model_file).parent)
    return {
        "name": card["name"],
        "weights_sha256": card["weights"]["sha256"],
        "temperature": card["temperature"],
        "parent": (card.get("parent") or {}).get("name"),
    }


def as_model(model: ModelLike | None, backend: str = "torch") -> TinySleepNet | OnnxModel:
    """The network to stage with: ``model`` itself, or loaded from a file.

    Parameters
    ----------
    model : TinySleepNet, OnnxModel, path, name or None
        A loaded network, a checkpoint (``.pt``), an exported graph (``.onnx``, always
        run by ONNX Runtime), a released model's folder, the name of an installed model,
        or None for the default installed model (:func:`.release.store.resolve_model`).
    backend : {"torch", "onnx"}
        ``"onnx"`` runs a checkpoint through ONNX Runtime (exported on the fly to a
        temporary file); needs the optional ``onnxruntime`` package.
    """
    if backend not in BACKENDS:
        raise TinySleepNetError(f"unknown backend {backend!r}; choose from {BACKENDS}")
    if isinstance(model, TinySleepNet | OnnxModel):
        network = model
    elif (path := resolve_model(model)).suffix == ".onnx":
        return OnnxModel(path)
    else:
        network = load_model(path)
    if backend == "onnx" and isinstance(network, TinySleepNet):
        with tempfile.TemporaryDirectory() as folder:
            return OnnxModel(export_onnx(network, Path(folder) / "model.onnx"))
    return network


def check_microvolts(signal_uv: np.ndarray, path: str | Path) -> None:
    """Refuse a signal whose amplitude makes no sense for EEG in microvolts.

    The network was trained on raw microvolts; a recording stored in volts (or raw ADC
    counts) would be staged confidently and wrongly, so it is refused instead. Pass the
    live part of the signal (:func:`~tinysleepnet.io.quality.live_epochs`): flat or
    non-finite stretches say nothing about its scale.

    Raises
    ------
    PathError
        Naming the scale the median absolute amplitude points to, or "flat" when the signal
        is empty or constant.
    """
    signal_uv = np.asarray(signal_uv)
    if signal_uv.size == 0 or np.ptp(signal_uv) == 0:
        raise PathError(path, "signal is flat (no epoch varies)")
    median = float(np.median(np.abs(signal_uv)))
    found = f"median |x| {median:.2g} uV"
    if median == 0:
        raise PathError(path, f"signal is flat ({found})")
    if median < _VOLTS_BELOW_UV:
        scale = "volts"
    elif median < _MILLIVOLTS_BELOW_UV:
        scale = "millivolts"
    elif median > _COUNTS_ABOVE_UV:
        scale = "nanovolts or raw ADC counts"
    else:
        return
    raise PathError(path, f"signal looks like it is in {scale} ({found}), expected microvolts")


def read_recording(
    source: Source,
    channel: str | None,
    model: TinySleepNet | OnnxModel,
    *,
    allow_truncated: bool = False,
) -> Recording:
    """The EEG channel of ``source`` in microvolts at the model's rate, units checked.

    Parameters
    ----------
    source : path, Recording, mne.io.Raw or (ndarray, float)
        A recording file (any format MNE reads), a :class:`~tinysleepnet.io.recordings.Recording`,
        a ``Raw`` or a 1-D signal in microvolts with its sampling rate in Hz.
    channel : str or None
        Channel to use; None takes the model's (``config.channel``). Ignored for arrays.
    model : TinySleepNet
        Gives the sampling rate and the default channel.
    allow_truncated : bool
        Stage the part present of an EDF/BDF file cut short, with a warning (see
        :func:`~tinysleepnet.io.recordings.check_complete`).
    """
    config = model.config
    channel = channel or config.channel
    if isinstance(source, str | Path):
        recording = read_channel(source, channel, config.sfreq, allow_truncated=allow_truncated)
    elif isinstance(source, Recording):
        recording = source
    elif isinstance(source, mne.io.BaseRaw):
        recording = recording_from_spec(source, ChannelSpec.parse(channel), config.sfreq)
    else:
        signal, sfreq = source
        info = mne.create_info([channel], float(sfreq), "eeg")
        volts = np.asarray(signal, dtype=np.float64)[None] * 1e-6  # MNE holds EEG in volts
        raw = mne.io.RawArray(volts, info, verbose="error")
        recording = recording_from_raw(raw, channel, config.sfreq, "<array>")
    if recording.sfreq != config.sfreq:
        raise PathError(
            recording.path,
            f"sampled at {recording.sfreq:g} Hz, the model needs {config.sfreq:g} Hz",
        )
    epochs = recording.epochs(model.epoch_samples)
    live = live_epochs(epochs)
    check_microvolts(epochs if live.all() else epochs[live], recording.path)
    return recording


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
) -> StagingResult:
    """Stage a whole night of sleep from one EEG channel.

    Parameters
    ----------
    source : path, Recording, mne.io.Raw or (ndarray, float)
        The recording: a file in any format MNE reads (EDF, EDF+, BDF, FIF, ...), a ``Raw``,
        or a 1-D signal in microvolts with its sampling rate in Hz. Signals sampled above the
        model's rate are resampled; below it they are refused.
    model : TinySleepNet, OnnxModel, path, name or None
        A loaded network, a checkpoint file, an exported ONNX graph, a released model's
        folder, an installed model's name, or None: the default installed model.
    channel : str or None
        EEG channel to stage; None takes the one the model was trained on.
    start : datetime or None
        Clock time of the recording's start; None takes the file's (if any).
    backend : {"torch", "onnx"}
        Run a checkpoint with PyTorch or ONNX Runtime (see :func:`as_model`).
    precision : {"float32", "bfloat16"}
        Arithmetic of the CNN with PyTorch (see
        :func:`~tinysleepnet.core.inference.predict_proba`).
    quality : QualitySettings or None
        Thresholds of the signal checks; None takes the defaults.
    model_file : str or Path or None
        The file ``model`` was loaded from, recorded with its checksum in the provenance;
        None takes ``model`` itself when it is a path.
    allow_truncated : bool
        Stage the part present of an EDF/BDF file cut short, with a warning.
    review : str, float or None
        Flag epochs for a human scorer: ``"10%"`` (the least confident 10 %) or a
        probability threshold such as ``0.6`` (:class:`.review.ReviewRule`).

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
    if not isinstance(model, TinySleepNet | OnnxModel):
        model = resolve_model(model)  # a folder, an installed name or None: the file
    network = as_model(model, backend)
    if model_file is None and isinstance(model, str | Path):
        model_file = model
    recording = read_recording(source, channel, network, allow_truncated=allow_truncated)
    epochs = recording.epochs(network.epoch_samples)
    epoch_ok = epoch_quality(epochs, quality)
    warnings = _amplitude_warnings(network, epochs, epoch_ok, recording.path, quality)
    scorable = epoch_ok == OK
    if not scorable.any():
        reasons = ", ".join(f"{n} {r}" for r, n in Counter(epoch_ok.tolist()).most_common())
        raise PathError(recording.path, f"no scorable epoch ({reasons})")
    proba = np.full((len(epochs), N_STAGES), np.nan, dtype=np.float32)
    # Only scorable epochs reach the network: the LSTM state goes from one to the next.
    staged = epochs if scorable.all() else epochs[scorable]  # no copy of a clean night
    (proba[scorable],) = predict_proba(network, [staged], precision=precision)
    proba = apply_temperature(proba, float(getattr(network, "temperature", 1.0)))
    return StagingResult(
        proba,
        start or recording.start,
        network.config.epoch_sec,
        quality=epoch_ok,
        warnings=warnings,
        provenance=provenance(recording, model_file),
        review_rule=None if review is None else ReviewRule.parse(review),
    )


def provenance(recording: Recording, model_file: str | Path | None) -> dict[str, Any]:
    """What produced a staging: tool and version, model file and its SHA-256, input file,
    channel and time of run (UTC, ISO 8601)."""
    return {
        "tool": f"tinysleepnet {__version__}",
        "model": str(model_file) if model_file is not None else None,
        "model_sha256": file_checksum(model_file) if model_file is not None else None,
        "input": str(recording.path),
        "channel": recording.channel,
        "staged_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _amplitude_warnings(
    network: TinySleepNet | OnnxModel,
    epochs: np.ndarray,
    epoch_ok: np.ndarray,
    path: Path,
    quality: QualitySettings | None,
) -> list[str]:
    """Warnings about the recording's amplitude against the model's training nights
    (none when the checkpoint does not store theirs); logged as well.

    The median is taken over every epoch that holds a signal (not non-finite, not flat),
    not only the scorable ones: with a gain error of 50 every epoch fails the amplitude
    check, and the gain is the problem to report.
    """
    reference = float(getattr(network, "reference_amplitude_uv", math.nan))
    if math.isnan(reference):
        return []
    median = median_amplitude_uv(epochs, ~np.isin(epoch_ok, ("nonfinite", "flat")))
    warning = compare_amplitude(median, reference, path, quality)
    if warning is None:
        return []
    logger.warning(warning)
    return [warning]
