"""Staging a user's recording: one call from a file (or ``Raw``, or array) to a hypnogram.

:func:`stage` reads the EEG channel, checks that it is in microvolts, resamples it to the
model's rate and runs the network over the whole night with the LSTM state carried from
epoch to epoch. The :class:`StagingResult` it returns holds the stage probabilities and
writes every output (CSV, EDF+, PNG, statistics, agreement with an expert).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias

import mne
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..errors import RecordingError, TinySleepNetError
from ..evaluation.metrics import scores
from ..export import export_onnx
from ..io.atomic import write_figure, write_json, write_text_atomic
from ..io.recordings import Recording, read_eeg, recording_from_raw
from ..model import TinySleepNet
from ..stages import EPOCH_SEC, UNSCORED, stage_names
from ..training.checkpoint import load_model
from . import outputs
from .inference import predict_proba
from .onnx_backend import OnnxModel
from .plots import plot_hypnogram
from .statistics import sleep_statistics, statistics_table

#: What :func:`stage` accepts as the model: a loaded network or a checkpoint file.
#: Engines that can run the network.
BACKENDS = ("torch", "onnx")

ModelLike: TypeAlias = TinySleepNet | OnnxModel | str | Path

#: What :func:`stage` accepts as the recording.
Source: TypeAlias = str | Path | Recording | mne.io.BaseRaw | tuple[np.ndarray, float]

#: Median absolute amplitude (uV) outside which a signal cannot be scalp EEG in microvolts,
#: and the scale it most likely is in. Sleep EEG has a median |x| of a few to ~50 uV.
_VOLTS_BELOW_UV = 1e-3
_MILLIVOLTS_BELOW_UV = 0.5
_COUNTS_ABOVE_UV = 5e3


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
    stages : ndarray of int64, shape (n_epochs,)
        The most probable stage of each epoch (class ids 0..4), derived from ``proba``.
    """

    proba: np.ndarray
    start: dt.datetime | None = None
    epoch_sec: float = EPOCH_SEC
    stages: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.proba = np.asarray(self.proba, dtype=np.float32)
        self.stages = self.proba.argmax(axis=1).astype(np.int64)

    @property
    def n_epochs(self) -> int:
        return len(self.stages)

    @property
    def stage_names(self) -> list[str]:
        """Name of each epoch's stage (``"W"``, ``"N1"``, ... ``"REM"``)."""
        return stage_names(self.stages)

    def statistics(self, **kwargs: Any) -> dict[str, Any]:
        """Sleep statistics of the predicted hypnogram; see :func:`.sleep_statistics`."""
        return sleep_statistics(self.stages, self.epoch_sec, **kwargs)

    def plot(self) -> Figure:
        """Hypnogram above hypnodensity; see :func:`.plot_hypnogram`."""
        return plot_hypnogram(self.stages, self.proba, self.epoch_sec, self.start)

    def to_frame(self) -> pd.DataFrame:
        """One row per epoch; see :func:`.outputs.hypnogram_frame`."""
        return outputs.hypnogram_frame(self.stages, self.proba, self.epoch_sec, self.start)

    def to_csv(self, path: str | Path) -> None:
        """Write :meth:`to_frame` as CSV, atomically."""
        outputs.write_csv(path, self.to_frame())

    def to_annotations(self) -> mne.Annotations:
        """The hypnogram as :class:`mne.Annotations` with ``orig_time`` = :attr:`start`."""
        return outputs.to_annotations(self.stages, self.epoch_sec, self.start)

    def to_edf(self, path: str | Path) -> None:
        """Write the hypnogram as an annotation-only EDF+ file, atomically."""
        outputs.write_hypnogram_edf(path, self.stages, self.epoch_sec, self.start)

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
            :func:`~tinysleepnet.evaluation.metrics.scores` plus ``n_unscored``.

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
        return {
            **scores(expert_stages[scored], self.stages[scored]),
            "n_unscored": int(np.sum(~scored)),
        }

    def save(
        self, out_dir: str | Path, name: str, expert_stages: np.ndarray | None = None
    ) -> dict[str, Path]:
        """Write every output of the ``predict`` command into ``out_dir``.

        Files are ``<name>_hypnogram.csv``, ``<name>_hypnogram.edf``, ``<name>_hypnogram.png``,
        ``<name>_statistics.json`` and ``.txt``, and with ``expert_stages`` also
        ``<name>_agreement.json`` and ``.txt``; each is written atomically.

        Returns
        -------
        dict of str to Path
            The files written, keyed ``csv``, ``edf``, ``png``, ``statistics``,
            ``statistics_txt``, ``agreement``, ``agreement_txt``.
        """
        out_dir = Path(out_dir)
        paths = {
            "csv": out_dir / f"{name}_hypnogram.csv",
            "edf": out_dir / f"{name}_hypnogram.edf",
            "png": out_dir / f"{name}_hypnogram.png",
            "statistics": out_dir / f"{name}_statistics.json",
            "statistics_txt": out_dir / f"{name}_statistics.txt",
        }
        self.to_csv(paths["csv"])
        self.to_edf(paths["edf"])
        write_figure(paths["png"], self.plot())
        stats = self.statistics()
        write_json(paths["statistics"], stats)
        write_text_atomic(paths["statistics_txt"], statistics_table(stats))
        if expert_stages is not None:
            paths["agreement"] = out_dir / f"{name}_agreement.json"
            paths["agreement_txt"] = out_dir / f"{name}_agreement.txt"
            agreement = self.agreement(expert_stages)
            write_json(paths["agreement"], agreement)
            write_text_atomic(paths["agreement_txt"], outputs.agreement_table(agreement))
        return paths


def as_model(model: ModelLike | None, backend: str = "torch") -> TinySleepNet | OnnxModel:
    """The network to stage with: ``model`` itself, or loaded from a file.

    Parameters
    ----------
    model : TinySleepNet, OnnxModel, or path
        A loaded network, a checkpoint (``.pt``) or an exported graph (``.onnx``, always
        run by ONNX Runtime).
    backend : {"torch", "onnx"}
        ``"onnx"`` runs a checkpoint through ONNX Runtime (exported on the fly to a
        temporary file); needs the optional ``onnxruntime`` package.
    """
    if model is None:
        raise TinySleepNetError("no model given: pass a checkpoint file (--model CKPT)")
    if backend not in BACKENDS:
        raise TinySleepNetError(f"unknown backend {backend!r}; choose from {BACKENDS}")
    if isinstance(model, TinySleepNet | OnnxModel):
        network = model
    elif Path(model).suffix == ".onnx":
        return OnnxModel(model)
    else:
        network = load_model(model)
    if backend == "onnx" and isinstance(network, TinySleepNet):
        with tempfile.TemporaryDirectory() as folder:
            return OnnxModel(export_onnx(network, Path(folder) / "model.onnx"))
    return network


def check_microvolts(signal_uv: np.ndarray, path: str | Path) -> None:
    """Refuse a signal whose amplitude makes no sense for EEG in microvolts.

    The network was trained on raw microvolts; a recording stored in volts (or raw ADC
    counts) would be staged confidently and wrongly, so it is refused instead.

    Raises
    ------
    RecordingError
        Naming the scale the median absolute amplitude points to.
    """
    median = float(np.median(np.abs(signal_uv)))
    found = f"median |x| {median:.2g} uV"
    if median == 0:
        raise RecordingError(path, f"signal is flat ({found})")
    if median < _VOLTS_BELOW_UV:
        scale = "volts"
    elif median < _MILLIVOLTS_BELOW_UV:
        scale = "millivolts"
    elif median > _COUNTS_ABOVE_UV:
        scale = "nanovolts or raw ADC counts"
    else:
        return
    raise RecordingError(path, f"signal looks like it is in {scale} ({found}), expected microvolts")


def read_recording(
    source: Source, channel: str | None, model: TinySleepNet | OnnxModel
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
    """
    config = model.config
    channel = channel or config.channel
    if isinstance(source, str | Path):
        recording = read_eeg(source, channel, sfreq=config.sfreq)
    elif isinstance(source, Recording):
        recording = source
    elif isinstance(source, mne.io.BaseRaw):
        recording = recording_from_raw(source, channel, config.sfreq)
    else:
        signal, sfreq = source
        info = mne.create_info([channel], float(sfreq), "eeg")
        volts = np.asarray(signal, dtype=np.float64)[None] * 1e-6  # MNE holds EEG in volts
        raw = mne.io.RawArray(volts, info, verbose="error")
        recording = recording_from_raw(raw, channel, config.sfreq, "<array>")
    if recording.sfreq != config.sfreq:
        raise RecordingError(
            recording.path,
            f"sampled at {recording.sfreq:g} Hz, the model needs {config.sfreq:g} Hz",
        )
    check_microvolts(recording.signal_uv, recording.path)
    return recording


def stage(
    source: Source,
    channel: str | None = None,
    model: ModelLike | None = None,
    start: dt.datetime | None = None,
    *,
    backend: str = "torch",
    precision: Literal["float32", "bfloat16"] = "float32",
) -> StagingResult:
    """Stage a whole night of sleep from one EEG channel.

    Parameters
    ----------
    source : path, Recording, mne.io.Raw or (ndarray, float)
        The recording: a file in any format MNE reads (EDF, EDF+, BDF, FIF, ...), a ``Raw``,
        or a 1-D signal in microvolts with its sampling rate in Hz. Signals sampled above the
        model's rate are resampled; below it they are refused.
    channel : str or None
        EEG channel to stage; None takes the one the model was trained on.
    model : TinySleepNet, OnnxModel or path
        A loaded network, a checkpoint file or an exported ONNX graph.
    start : datetime or None
        Clock time of the recording's start; None takes the file's (if any).
    backend : {"torch", "onnx"}
        Run a checkpoint with PyTorch or ONNX Runtime (see :func:`as_model`).
    precision : {"float32", "bfloat16"}
        Arithmetic of the CNN with PyTorch (see
        :func:`~tinysleepnet.prediction.inference.predict_proba`).

    Returns
    -------
    StagingResult
        One stage per whole 30-s epoch; a trailing partial epoch is not staged.

    Raises
    ------
    RecordingError
        If the file cannot be read, lacks the channel, is sampled too slowly, is shorter
        than one epoch or is not in microvolts.

    Examples
    --------
    >>> result = stage("SC4001E0-PSG.edf", model="best.pt")  # doctest: +SKIP
    >>> result.statistics()["tst_min"]  # doctest: +SKIP
    """
    network = as_model(model, backend)
    recording = read_recording(source, channel, network)
    epochs = recording.epochs(network.epoch_samples)
    (proba,) = predict_proba(network, [epochs], precision=precision)
    return StagingResult(proba, start or recording.start, network.config.epoch_sec)
