"""Staging with ONNX Runtime: a graph written by :func:`tinysleepnet.nn.export.export_onnx`.

:class:`OnnxModel` is called like :class:`~tinysleepnet.nn.model.TinySleepNet`
(``model(x, state) -> (logits, state)`` on torch tensors), so
:func:`~tinysleepnet.nn.inference.predict_proba` and online staging accept either.
It needs the optional ``onnxruntime`` package (``pip install tinysleepnet[onnx]``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ..config import Config
from ..errors import PathError, TinySleepNetError
from .checkpoint import calibration
from .export import CONFIG_KEY, REFERENCE_KEY, TEMPERATURE_KEY
from .model import State, zero_state


class OnnxModel:
    """An exported TinySleepNet run by ONNX Runtime on the CPU.

    Parameters
    ----------
    path : str or Path
        ONNX file written by ``tinysleepnet export``.
    threads : int or None
        Threads of ONNX Runtime's operators; None lets ONNX Runtime choose (all cores).

    Attributes
    ----------
    config : Config
        Settings of the exported model (sampling rate, epoch length, channel...).
    epoch_samples : int
        Samples per epoch the graph expects.
    lstm_units : int
        Size of the recurrent state.
    temperature : float
        Calibration temperature that staging applies (1.0 for exports without one).
    reference_amplitude_uv : float
        The training nights' median |x| in uV, which staging compares recordings with
        (NaN for exports without one: staging then skips the check).

    Raises
    ------
    PathError
        If the file is missing, not a tinysleepnet export, or its temperature or reference
        amplitude is not a positive number
        (:func:`~tinysleepnet.nn.checkpoint.calibration`).
    """

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        try:
            import onnxruntime
        except ImportError as err:
            raise TinySleepNetError(
                "the ONNX backend needs onnxruntime: pip install 'tinysleepnet[onnx]'"
            ) from err
        path = Path(path)
        if not path.is_file():
            raise PathError(path, "ONNX model not found")
        options = onnxruntime.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        try:
            self.session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime raises its own exception types
            raise PathError.wrap(path, "not a readable ONNX model", err) from err
        metadata = self.session.get_modelmeta().custom_metadata_map
        if CONFIG_KEY not in metadata:
            raise PathError(path, "not a tinysleepnet ONNX export (no configuration)")
        self.config = Config.from_dict(json.loads(metadata[CONFIG_KEY]))
        self.temperature, self.reference_amplitude_uv = calibration(
            path, metadata.get(TEMPERATURE_KEY, 1.0), metadata.get(REFERENCE_KEY)
        )
        self.epoch_samples = self.config.epoch_samples
        self.lstm_units = self.config.lstm_units

    def initial_state(self, n_nights: int, device: torch.device | str | None = None) -> State:
        """Zero state for the start of ``n_nights`` nights."""
        return zero_state(n_nights, self.lstm_units, device)

    def __call__(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Stage logits for consecutive epochs of several nights (see ``TinySleepNet.forward``)."""
        if state is None:
            state = self.initial_state(x.shape[0])
        feeds = {
            "x": _numpy(x),
            "h0": _numpy(state[0]),
            "c0": _numpy(state[1]),
        }
        logits, h, c = (torch.from_numpy(out) for out in self.session.run(None, feeds))
        return logits, (h, c)


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(tensor.detach().cpu().numpy(), dtype=np.float32)
