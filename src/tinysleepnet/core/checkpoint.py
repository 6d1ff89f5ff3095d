"""Checkpoints: weights plus the configuration that produced them, in one file.

The config is stored inside the checkpoint (so a model file is self-describing) and, by the
training loop, also as ``config.json`` beside it for people to read.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import torch

from ..config import Config
from ..errors import PathError
from ..io.atomic import atomic_path
from ..model import TinySleepNet

#: Key of the weights' SHA-256 in a checkpoint's payload.
CHECKSUM_KEY = "weights_sha256"


def save_checkpoint(path: str | Path, model: TinySleepNet, config: Config, **state: Any) -> None:
    """Write weights, config and any extra training state (optimizer, pass, scores) atomically.

    The payload also holds ``weights_sha256``, the :func:`weights_checksum` of the weights,
    which :func:`load_checkpoint` verifies. Training passes ``reference_amplitude_uv``, the
    median absolute amplitude (uV) of its nights, which staging compares recordings with.
    """
    weights = model.state_dict()
    payload = {
        "model": weights,
        "config": config.to_dict(),
        **state,
        CHECKSUM_KEY: weights_checksum(weights),  # after ``state``: a rewrite gets a fresh one
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def weights_checksum(weights: dict[str, torch.Tensor]) -> str:
    """SHA-256 of a state dict: every tensor's name, dtype, shape and bytes, in order."""
    digest = hashlib.sha256()
    for name, tensor in weights.items():
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def file_checksum(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex), e.g. of a model file for a staging's provenance."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (clear error if it is not one).

    Raises
    ------
    PathError
        If the file is missing, unreadable, not a checkpoint, or damaged (its weights no
        longer match the checksum stored with them).
    """
    path = Path(path)
    if not path.is_file():
        raise PathError(path, "checkpoint not found")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as err:  # torch raises several types for a damaged file
        raise PathError.wrap(path, "not a readable checkpoint", err) from err
    if not isinstance(payload, dict) or "model" not in payload or "config" not in payload:
        raise PathError(path, "not a tinysleepnet checkpoint (no model weights and config)")
    # Checkpoints written before checksums existed have none and load as they always did.
    if CHECKSUM_KEY in payload and weights_checksum(payload["model"]) != payload[CHECKSUM_KEY]:
        raise PathError(path, "damaged checkpoint: its weights do not match their checksum")
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
    # The training nights' median |x| in uV, like the temperature outside the state dict;
    # NaN for checkpoints written before training stored it (staging then skips the check).
    reference = payload.get("reference_amplitude_uv")
    amplitude = torch.tensor(math.nan if reference is None else float(reference))
    model.register_buffer("reference_amplitude_uv", amplitude, persistent=False)
    return model.to(device).eval()
