"""Exporting a trained network to ONNX, with the recurrent state as explicit inputs/outputs.

The exported graph maps ``x`` (nights, epochs, samples), ``h0`` and ``c0`` (1, nights, units)
to ``logits`` (nights, epochs, 5), ``hn`` and ``cn``; nights and epochs are dynamic axes. It
therefore serves whole-night staging and online staging one epoch at a time alike, in any
ONNX runtime (see :class:`~tinysleepnet.nn.onnx_backend.OnnxModel`). The model's
:class:`~tinysleepnet.config.Config` travels in the graph's metadata (key :data:`CONFIG_KEY`,
JSON), so the file alone says which sampling rate and channel it expects, and so do its
calibration temperature (key :data:`TEMPERATURE_KEY`), which staging applies, and the
training nights' median amplitude (key :data:`REFERENCE_KEY`, uV), which staging compares
recordings with, as for a checkpoint.
"""

from __future__ import annotations

import copy
import json
import math
import warnings
from pathlib import Path

import torch
from torch import nn

from ..errors import TinySleepNetError
from ..io.atomic import atomic_path
from .model import TinySleepNet

#: Names of the graph's inputs and outputs.
INPUT_NAMES = ("x", "h0", "c0")
OUTPUT_NAMES = ("logits", "hn", "cn")
OPSET = 17
#: Metadata key of the model's configuration (JSON) in the exported graph.
CONFIG_KEY = "tinysleepnet_config"
#: Metadata key of the calibration temperature (see :mod:`tinysleepnet.scoring.calibration`).
TEMPERATURE_KEY = "tinysleepnet_temperature"
#: Metadata key of the training nights' median |x| in uV (``nan`` when the model lacks it).
REFERENCE_KEY = "tinysleepnet_reference_amplitude_uv"


class _ExplicitState(nn.Module):
    """``forward(x, h0, c0)``: the state as separate tensors, which ONNX graphs need."""

    def __init__(self, model: TinySleepNet) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        logits, (hn, cn) = self.model(x, (h0, c0))
        return logits, hn, cn


def carried_calibration(model: TinySleepNet) -> tuple[float, float]:
    """The calibration temperature and the training nights' median |x| (uV) a network
    carries: the buffers :func:`~tinysleepnet.nn.checkpoint.load_model` gives it, else
    1.0 and NaN (a network that never went through a checkpoint)."""
    temperature = float(getattr(model, "temperature", 1.0))
    reference = float(getattr(model, "reference_amplitude_uv", math.nan))
    return temperature, reference


def export_onnx(model: TinySleepNet, path: str | Path) -> Path:
    """Write ``model`` as an ONNX graph with explicit recurrent state (atomically).

    Parameters
    ----------
    model : TinySleepNet
        Trained network; exported in evaluation mode, on the CPU, in float32.
    path : str or Path
        Output file, conventionally ``*.onnx``.

    Returns
    -------
    Path
        The written file.
    """
    try:
        import onnx
    except ImportError as err:
        raise TinySleepNetError("ONNX export needs onnx: pip install 'tinysleepnet[onnx]'") from err
    path = Path(path)
    # A copy: exporting moves to the CPU, and restores the training flag of the wrapper.
    graph = _ExplicitState(copy.deepcopy(model).cpu()).eval()
    x = torch.zeros(2, 3, model.epoch_samples)
    h0, c0 = model.initial_state(2, "cpu")
    axes = {"x": {0: "nights", 1: "epochs"}, "logits": {0: "nights", 1: "epochs"}}
    axes.update({name: {1: "nights"} for name in ("h0", "c0", "hn", "cn")})
    with atomic_path(path) as tmp, warnings.catch_warnings():
        # The TorchScript exporter (the dynamo one needs onnxscript) warns that it is
        # deprecated, that shapes read in Python become constants (the samples axis is fixed;
        # the one-epoch branch of the forward is not taken, nn.LSTM serves any count) and
        # about nn.LSTM's batch size (declared dynamic). tests/test_export.py checks the graph
        # on other numbers of nights and epochs.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph,
            (x, h0, c0),
            str(tmp),
            input_names=list(INPUT_NAMES),
            output_names=list(OUTPUT_NAMES),
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
        graph_proto = onnx.load(tmp)
        temperature, reference = carried_calibration(model)
        onnx.helper.set_model_props(
            graph_proto,
            {
                CONFIG_KEY: json.dumps(model.config.to_dict()),
                TEMPERATURE_KEY: repr(temperature),
                REFERENCE_KEY: repr(reference),
            },
        )
        onnx.save(graph_proto, tmp)
    return path
