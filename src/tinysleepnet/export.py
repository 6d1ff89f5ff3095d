"""Exporting a trained network to ONNX, with the recurrent state as explicit inputs/outputs.

The exported graph maps ``x`` (nights, epochs, samples), ``h0`` and ``c0`` (1, nights, units)
to ``logits`` (nights, epochs, 5), ``hn`` and ``cn``; nights and epochs are dynamic axes. It
therefore serves whole-night staging and online staging one epoch at a time alike, in any
ONNX runtime (see :class:`~tinysleepnet.prediction.onnx_backend.OnnxModel`).
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import torch
from torch import nn

from .errors import TinySleepNetError
from .io.atomic import atomic_path
from .model import TinySleepNet

#: Names of the graph's inputs and outputs.
INPUT_NAMES = ("x", "h0", "c0")
OUTPUT_NAMES = ("logits", "hn", "cn")
OPSET = 17


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
    if model.config.peepholes:
        raise TinySleepNetError("ONNX export supports the fused LSTM only (peepholes=False)")
    path = Path(path)
    # A copy: exporting moves to the CPU, and restores the training flag of the wrapper.
    graph = _ExplicitState(copy.deepcopy(model).cpu()).eval()
    x = torch.zeros(2, 3, model.epoch_samples)
    h0, c0 = model.initial_state(2, "cpu")
    axes = {"x": {0: "nights", 1: "epochs"}, "logits": {0: "nights", 1: "epochs"}}
    axes.update({name: {1: "nights"} for name in ("h0", "c0", "hn", "cn")})
    with atomic_path(path) as tmp, warnings.catch_warnings():
        # The TorchScript exporter warns that nn.LSTM's batch size is traced: it is not
        # (the nights axis is declared dynamic and tested in tests/test_export.py).
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
    return path
