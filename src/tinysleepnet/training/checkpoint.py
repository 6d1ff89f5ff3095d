"""Checkpoints: weights plus the configuration that produced them, in one file.

The config is stored inside the checkpoint (so a model file is self-describing) and, by the
training loop, also as ``config.json`` beside it for people to read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..config import Config
from ..errors import RecordingError
from ..io.atomic import atomic_path
from ..model import TinySleepNet


def save_checkpoint(path: str | Path, model: TinySleepNet, config: Config, **state: Any) -> None:
    """Write weights, config and any extra training state (optimizer, pass, scores) atomically."""
    payload = {"model": model.state_dict(), "config": config.to_dict(), **state}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (clear error if it is not one)."""
    path = Path(path)
    if not path.is_file():
        raise RecordingError(path, "checkpoint not found")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as err:  # torch raises several types for a damaged file
        raise RecordingError(path, f"not a readable checkpoint ({type(err).__name__})") from err
    if not isinstance(payload, dict) or "model" not in payload or "config" not in payload:
        raise RecordingError(path, "not a tinysleepnet checkpoint (no model weights and config)")
    return payload


def load_model(path: str | Path, device: str | torch.device = "cpu") -> TinySleepNet:
    """The trained network of a checkpoint, in evaluation mode, with its :class:`Config`.

    The network carries the checkpoint's calibration temperature (1.0 if it has none) as
    the buffer ``temperature``, outside its state dict; staging applies it.
    """
    payload = load_checkpoint(path, map_location=device)
    model = TinySleepNet(Config.from_dict(payload["config"]))
    model.load_state_dict(payload["model"])
    temperature = torch.tensor(float(payload.get("temperature", 1.0)))
    model.register_buffer("temperature", temperature, persistent=False)
    return model.to(device).eval()
