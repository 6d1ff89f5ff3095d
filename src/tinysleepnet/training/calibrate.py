"""Calibrating a trained checkpoint: its temperature fitted on its validation nights.

The maths (temperature scaling, calibration error) is in :mod:`tinysleepnet.scoring.calibration`;
this module runs a checkpoint over nights and stores the temperature in the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ..data.nights import Night
from ..nn.checkpoint import calibration, load_checkpoint, load_model, save_checkpoint
from ..nn.inference import predict_proba
from ..scoring.calibration import fit_temperature


def checkpoint_temperature(path: str | Path) -> float:
    """The temperature stored in a checkpoint; 1.0 for one never calibrated.

    Raises
    ------
    PathError
        As :func:`~tinysleepnet.nn.checkpoint.calibration`, naming the file.
    """
    return calibration(path, load_checkpoint(path).get("temperature", 1.0))[0]


def calibrate_checkpoint(
    path: str | Path,
    valid_nights: Sequence[Night],
    device: str | torch.device = "cpu",
    *,
    progress: bool = False,
) -> float:
    """Fit the temperature of a checkpoint on validation nights and store it in the file.

    The file is rewritten (atomically) with the same weights, settings and state plus
    ``temperature``; :func:`~tinysleepnet.nn.checkpoint.load_model` then gives a
    network whose staging (:func:`~tinysleepnet.prediction.stage.stage`) is calibrated.
    This is the step a cross-validation fold or a release runs after training.

    Parameters
    ----------
    path : str or Path
        Checkpoint, e.g. a fold's ``best.pt``.
    valid_nights : sequence of Night
        The nights that chose the checkpoint (never test nights).
    device : str or torch.device
        Device that stages them.
    progress : bool
        Show a progress bar while they are staged (on a terminal).

    Returns
    -------
    float
        The temperature.
    """
    model = load_model(path, device)
    signals = [night.signal_uv for night in valid_nights]
    label = "calibration" if progress else None
    proba = np.concatenate(predict_proba(model, signals, progress=label))
    temperature = fit_temperature(proba, np.concatenate([night.stages for night in valid_nights]))
    payload = load_checkpoint(path)
    state = {k: v for k, v in payload.items() if k not in ("model", "config")}
    save_checkpoint(path, model, model.config, **{**state, "temperature": temperature})
    return temperature
