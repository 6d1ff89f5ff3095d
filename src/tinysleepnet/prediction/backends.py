"""The network that stages: a loaded model, a checkpoint, an ONNX graph, a released or
installed model, run with PyTorch or ONNX Runtime."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TypeAlias

from ..config import BACKENDS
from ..core.checkpoint import load_model
from ..errors import TinySleepNetError
from ..export import export_onnx
from ..model import TinySleepNet
from ..release.store import resolve_model
from .onnx_backend import OnnxModel

#: What staging accepts as the model: a loaded network, a checkpoint or ONNX file, a
#: released model's folder or an installed model's name.
ModelLike: TypeAlias = TinySleepNet | OnnxModel | str | Path


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
        network = load_model(path)  # refused in one line if unusable
    if backend == "onnx" and isinstance(network, TinySleepNet):
        with tempfile.TemporaryDirectory() as folder:
            return OnnxModel(export_onnx(network, Path(folder) / "model.onnx"))
    return network
