"""The model that stages: a trained model, a loaded network, a checkpoint, an ONNX graph, a
released or installed model, run with PyTorch or ONNX Runtime."""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

from ..models.trained import Network, TrainedModel

#: What staging accepts as the model: a trained model, a loaded network, a checkpoint or
#: ONNX file, a released model's folder or an installed model's name.
ModelLike: TypeAlias = TrainedModel | Network | str | Path


def as_model(model: ModelLike | None, backend: str = "torch") -> TrainedModel:
    """The trained model to stage with: ``model`` itself, wrapped, or loaded once.

    Parameters
    ----------
    model : TrainedModel, TinySleepNet, OnnxModel, path, name or None
        A trained model, a loaded network (with the temperature and reference amplitude
        it carries, :meth:`TrainedModel.of`), a checkpoint (``.pt``), an exported graph
        (``.onnx``, always run by ONNX Runtime), a released model's folder, the name of an
        installed model, or None for the default installed model
        (:meth:`TrainedModel.load`).
    backend : {"torch", "onnx"}
        ``"onnx"`` runs a checkpoint through ONNX Runtime (exported on the fly to a
        temporary file); needs the optional ``onnxruntime`` package.
    """
    if isinstance(model, TrainedModel):
        return model.on_backend(backend)
    if model is None or isinstance(model, str | Path):
        return TrainedModel.load(model, backend=backend)
    return TrainedModel.of(model, backend=backend)
