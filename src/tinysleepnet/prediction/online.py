"""Online staging: epochs staged as the samples arrive, with the LSTM state kept between calls.

The network is causal (a unidirectional LSTM over epochs), so staging a night block by block
gives the stages and probabilities of :func:`~tinysleepnet.prediction.stage.stage` on the
whole night, up to float rounding.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import torch

from ..io.filtering import SignalFilter
from ..io.quality import OK, QualitySettings, epoch_quality
from ..io.recordings import Recording
from ..nn.inference import model_device, proba_step
from ..nn.model import State
from ..scoring.calibration import apply_temperature
from ..stages import N_STAGES, UNSCORED
from .backends import ModelLike, as_model
from .result import StagingResult
from .sources import read_recording


class Stager:
    """Stage sleep in real time from a stream of EEG samples.

    Parameters
    ----------
    model : TrainedModel, TinySleepNet, OnnxModel, path, name or None
        What :func:`~tinysleepnet.prediction.stage.stage` takes: a trained model, a loaded
        network, a checkpoint file, an exported ONNX graph, a released model's folder, an
        installed model's name, or None: the default installed model.
    start : datetime or None
        Clock time of the first sample, kept for :meth:`result`.
    chunk_epochs : int
        Most epochs given to the network at once, bounding memory when a long block arrives.
    backend : {"torch", "onnx"}
        Run a checkpoint with PyTorch or ONNX Runtime (see
        :func:`~tinysleepnet.prediction.backends.as_model`).
    quality : QualitySettings or None
        Thresholds of the signal checks each epoch passes first; None takes the defaults,
        as :func:`~tinysleepnet.prediction.stage.stage` does.

    Attributes
    ----------
    model : TrainedModel
        The model staging the stream, loaded once.

    Examples
    --------
    Blocks are 1-D float arrays in microvolts at the model's rate, e.g. from an amplifier:

    >>> stager = Stager("best.pt")  # doctest: +SKIP
    >>> for block in amplifier_blocks():  # doctest: +SKIP
    ...     for index, stage, proba in stager.push(block):
    ...         print(index, STAGES[stage], proba.max())
    """

    def __init__(
        self,
        model: ModelLike | None,
        start: dt.datetime | None = None,
        chunk_epochs: int = 256,
        backend: str = "torch",
        quality: QualitySettings | None = None,
    ) -> None:
        self.model = as_model(model, backend)
        self.quality = quality
        self._filter = SignalFilter(self.model.config.sfreq, self.model.config.highpass_hz)
        self.start = start
        self.chunk_epochs = chunk_epochs
        self.reset()

    def reset(self) -> None:
        """Forget every sample and epoch: the next push starts a new night."""
        self._pending: list[np.ndarray] = []
        self._filtered: list[np.ndarray] = []
        self._n_pending = 0
        self._filter.reset()
        self._state: State | None = None
        self._proba: list[np.ndarray] = []
        self._quality: list[str] = []

    @property
    def n_epochs(self) -> int:
        """Epochs staged so far."""
        return len(self._proba)

    @property
    def sfreq(self) -> float:
        """Sampling rate the pushed samples must have, in Hz (the model's)."""
        return self.model.config.sfreq

    def push(self, samples: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
        """Add samples; stage every epoch they complete.

        Parameters
        ----------
        samples : array_like of float
            The next samples in time order, in microvolts at :attr:`sfreq`, any number
            (one 30-s epoch, one second, a single sample...).

        Returns
        -------
        list of (int, int, ndarray)
            For each epoch completed by these samples: its index from the start of the
            night, its stage (class id) and its five stage probabilities (calibrated by the
            model's temperature, as by :func:`~.stage.stage`). An epoch that
            fails the quality checks (:func:`~tinysleepnet.io.quality.epoch_quality`) gets
            :data:`~tinysleepnet.stages.UNSCORED` and NaN probabilities, and the LSTM state
            is carried across it untouched.
        """
        samples = np.asarray(samples, dtype=np.float32).ravel()
        self._pending.append(samples)
        self._filtered.append(self._filter(samples))  # as stage() filters: causal, so alike
        self._n_pending += samples.size
        epoch_samples = self.model.epoch_samples
        n_new = self._n_pending // epoch_samples
        if n_new == 0:
            return []
        buffer, filtered = np.concatenate(self._pending), np.concatenate(self._filtered)
        cut = n_new * epoch_samples
        self._pending, self._n_pending = [buffer[cut:]], buffer.size - cut
        self._filtered = [filtered[cut:]]
        raw = buffer[:cut].reshape(n_new, epoch_samples)
        epochs = filtered[:cut].reshape(n_new, epoch_samples)
        first = self.n_epochs
        for chunk in range(0, n_new, self.chunk_epochs):
            block = epochs[chunk : chunk + self.chunk_epochs]
            quality = epoch_quality(
                block, self.quality, raw=raw[chunk : chunk + self.chunk_epochs], sfreq=self.sfreq
            )
            proba = np.full((len(block), N_STAGES), np.nan, dtype=np.float32)
            if (scorable := quality == OK).any():
                proba[scorable] = self._stage_epochs(block[scorable])
            self._proba.extend(apply_temperature(proba, self.model.temperature))
            self._quality.extend(quality.tolist())
        return [
            (i, int(p.argmax()) if q == OK else UNSCORED, p)
            for i, (p, q) in enumerate(
                zip(self._proba[first:], self._quality[first:], strict=True), start=first
            )
        ]

    def result(self) -> StagingResult:
        """The staging of every epoch pushed so far."""
        proba = np.array(self._proba, dtype=np.float32).reshape(-1, N_STAGES)
        return StagingResult(
            proba, self.start, self.model.config.epoch_sec, quality=np.array(self._quality)
        )

    @torch.inference_mode()
    def _stage_epochs(self, epochs: np.ndarray) -> np.ndarray:
        """Probabilities of consecutive epochs, carrying the LSTM state on."""
        network = self.model.network
        x = torch.as_tensor(epochs[None], device=model_device(network))
        proba, self._state = proba_step(network, x, self._state)
        return proba[0].cpu().numpy()


def replay(
    recording: Recording,
    model: ModelLike | None,
    block_sec: float = 1.0,
    start: dt.datetime | None = None,
    quality: QualitySettings | None = None,
) -> StagingResult:
    """Stage a recording through a :class:`Stager`, as if it arrived in real time.

    Parameters
    ----------
    recording : Recording
        At the model's rate (see :func:`~tinysleepnet.prediction.sources.read_recording`).
    model : TrainedModel, TinySleepNet, OnnxModel, path, name or None
        As for :class:`Stager`.
    block_sec : float
        Duration of each block pushed, in seconds.
    start : datetime or None
        Clock time of the start; None takes the recording's.
    quality : QualitySettings or None
        Thresholds of the signal checks; None takes the defaults.

    Returns
    -------
    StagingResult
        Same stages and probabilities as :func:`~tinysleepnet.prediction.stage.stage`.
    """
    stager = Stager(model, start or recording.start, quality=quality)
    recording = read_recording(recording, recording.channel, stager.model)
    block = max(round(block_sec * stager.sfreq), 1)
    for first in range(0, recording.signal_uv.size, block):
        stager.push(recording.signal_uv[first : first + block])
    return stager.result()
