"""A trained model as staging uses it: the network and what goes with its weights.

:class:`TrainedModel` holds the network (PyTorch's :class:`~tinysleepnet.nn.model.TinySleepNet`
or ONNX Runtime's :class:`~.onnx_backend.OnnxModel`), its calibration temperature, the
training nights' amplitude, the card of a released model and the file it came from with
its SHA-256. It is loaded once, from a checkpoint (``.pt``), an exported graph (``.onnx``),
a released model's folder or an installed model's name (:meth:`TrainedModel.load`), and
:func:`~tinysleepnet.prediction.stage.stage`, the online
:class:`~tinysleepnet.prediction.online.Stager` and
:func:`~tinysleepnet.prediction.batch.stage_many` read everything from it.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import torch

from ..config import BACKENDS, Config
from ..errors import TinySleepNetError
from ..nn.checkpoint import file_checksum, load_model
from ..nn.export import carried_calibration, export_onnx
from ..nn.model import TinySleepNet
from ..nn.onnx_backend import OnnxModel
from .store import locate_model

#: The networks that stage: PyTorch's or ONNX Runtime's.
Network: TypeAlias = TinySleepNet | OnnxModel


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """A trained network with its calibration, card and provenance.

    Parameters
    ----------
    network : TinySleepNet or OnnxModel
        The network, in evaluation mode.
    temperature : float
        Calibration temperature that divides the logits before the softmax (1.0: as
        trained).
    reference_amplitude_uv : float
        The training nights' median |x| in uV, which staging compares recordings with; NaN
        when unknown (staging then skips the check).
    card : dict or None
        The model card (``model.json``) of a released or installed model, verified against
        its weights; None for a bare checkpoint or ONNX file.
    path : Path or None
        The file the model was loaded from (a released model's ``model.pt``); None for a
        network built in memory.
    sha256 : str or None
        SHA-256 of that file (hex); None without one.

    Examples
    --------
    >>> model = TrainedModel.load("best.pt")  # doctest: +SKIP
    >>> model.temperature, model.config.channel  # doctest: +SKIP
    (1.21, 'EEG Fpz-Cz')
    """

    network: Network
    temperature: float = 1.0
    reference_amplitude_uv: float = math.nan
    card: dict[str, Any] | None = None
    path: Path | None = None
    sha256: str | None = None

    @classmethod
    def load(
        cls,
        model: str | Path | None = None,
        *,
        backend: str = "torch",
        device: str | torch.device = "cpu",
    ) -> TrainedModel:
        """Load a model once, from whatever names it.

        Parameters
        ----------
        model : str, Path or None
            A checkpoint (``.pt``), an exported graph (``.onnx``, always run by ONNX
            Runtime), a released model's folder, the name of an installed model, or None
            for the default installed model (:func:`~.store.resolve_model`; a released
            model is checked against the SHA-256 on its card).
        backend : {"torch", "onnx"}
            ``"onnx"`` runs a checkpoint through ONNX Runtime (exported on the fly to a
            temporary file); needs the optional ``onnxruntime`` package.
        device : str or torch.device
            Where a PyTorch network is put; ONNX Runtime runs on the CPU.

        Raises
        ------
        TinySleepNetError
            If the backend is unknown, no model is given and none is installed, or the
            model named is missing, damaged, does not match its card or cannot stage
            (:func:`~tinysleepnet.nn.checkpoint.load_model`; one line naming the file).
        """
        _check_backend(backend)
        path, card = locate_model(model)
        network = OnnxModel(path) if path.suffix == ".onnx" else load_model(path, device)
        sha256 = card["weights"]["sha256"] if card is not None else file_checksum(path)
        return cls.of(network, backend=backend, card=card, path=path, sha256=sha256)

    @classmethod
    def of(
        cls,
        network: Network,
        *,
        backend: str = "torch",
        card: dict[str, Any] | None = None,
        path: Path | None = None,
        sha256: str | None = None,
    ) -> TrainedModel:
        """A loaded network with the temperature and reference amplitude it carries (the
        buffers of :func:`~tinysleepnet.nn.checkpoint.load_model`, an ONNX export's
        metadata; 1.0 and NaN for a network that has none), run with ``backend``."""
        _check_backend(backend)
        if isinstance(network, OnnxModel):
            temperature, reference = network.temperature, network.reference_amplitude_uv
        else:
            temperature, reference = carried_calibration(network)
        trained = cls(network, temperature, reference, card, path, sha256)
        return trained.on_backend(backend)

    def on_backend(self, backend: str) -> TrainedModel:
        """This model run with ``backend``: itself, or with its PyTorch network exported to
        ONNX Runtime (through a temporary file) for ``"onnx"``."""
        _check_backend(backend)
        if backend != "onnx" or isinstance(self.network, OnnxModel):
            return self
        with tempfile.TemporaryDirectory() as folder:
            onnx = OnnxModel(export_onnx(self.network, Path(folder) / "model.onnx"))
        return dataclasses.replace(self, network=onnx)

    @property
    def config(self) -> Config:
        """The settings the network was trained with (rate, epoch length, channel...)."""
        return self.network.config

    @property
    def epoch_samples(self) -> int:
        """Samples per epoch the network takes."""
        return self.network.epoch_samples

    def provenance(self) -> dict[str, str | None]:
        """``model`` (the file, as a string) and ``model_sha256``, as a staging records
        them; both None for a network built in memory."""
        return {
            "model": None if self.path is None else str(self.path),
            "model_sha256": self.sha256,
        }


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise TinySleepNetError(f"unknown backend {backend!r}; choose from {BACKENDS}")
