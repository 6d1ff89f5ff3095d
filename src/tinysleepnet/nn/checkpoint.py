"""Checkpoints: weights plus the configuration that produced them, in one file.

The config is stored inside the checkpoint (so a model file is self-describing) and, by the
training loop, also as ``config.json`` beside it for people to read.

A checkpoint holds tensors and plain values only (dicts, lists, strings, numbers), and is
read with ``torch.load(weights_only=True)``: a file holding any other Python object is
refused before it is unpickled further, so loading a checkpoint never runs code from it.
A checksum of everything that changes what the model stages (:data:`OUTPUT_FIELDS`
besides the weights) is stored with it and verified on every load.
"""

from __future__ import annotations

import hashlib
import json
import math
import pickle
import re
from pathlib import Path
from typing import Any

import torch

from ..config import Config
from ..errors import PathError, TinySleepNetError
from ..io.atomic import atomic_path
from .model import TinySleepNet

#: Key of the SHA-256 of the weights and :data:`OUTPUT_FIELDS` in a checkpoint's payload.
CHECKSUM_KEY = "outputs_sha256"

#: Key of the weights-only SHA-256 of checkpoints written before :data:`CHECKSUM_KEY`
#: existed; still verified when a file has no other.
WEIGHTS_CHECKSUM_KEY = "weights_sha256"

#: The payload's entries besides the weights that change what the model stages: its
#: settings, calibration temperature and the training nights' amplitude. The checksum
#: covers them, so a changed temperature is a damaged file, not another model.
OUTPUT_FIELDS = ("config", "temperature", "reference_amplitude_uv")

#: How ``torch.load(weights_only=True)`` names an object outside its allowlist.
_REFUSED_OBJECT = re.compile(r"GLOBAL (\S+)")


def save_checkpoint(path: str | Path, model: TinySleepNet, config: Config, **state: Any) -> None:
    """Write weights, config and any extra training state (optimizer, pass, scores) atomically.

    ``state`` holds tensors and plain values only (what :func:`load_checkpoint` reads back).
    The payload also holds ``outputs_sha256``, the :func:`outputs_checksum` of the weights
    and :data:`OUTPUT_FIELDS`, which :func:`load_checkpoint` verifies. Training passes
    ``reference_amplitude_uv``, the median absolute amplitude (uV) of its nights, which
    staging compares recordings with; calibration passes ``temperature``.
    """
    state.pop(WEIGHTS_CHECKSUM_KEY, None)  # a rewrite of an older file: no stale checksum
    payload = {"model": model.state_dict(), "config": config.to_dict(), **state}
    payload[CHECKSUM_KEY] = outputs_checksum(payload)  # after ``state``: a rewrite gets a fresh one
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


def outputs_checksum(payload: dict[str, Any]) -> str:
    """SHA-256 of what in a checkpoint's payload changes its stages: the weights
    (:func:`weights_checksum`) and the :data:`OUTPUT_FIELDS` (as JSON; absent ones as null)."""
    fields = {name: payload.get(name) for name in OUTPUT_FIELDS}
    digest = hashlib.sha256(weights_checksum(payload["model"]).encode())
    digest.update(json.dumps(fields, sort_keys=True, default=repr).encode())
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

    Only tensors and plain values are unpickled (``torch.load(weights_only=True)``): a
    file holding other Python objects is refused, and none of its code runs.

    Raises
    ------
    PathError
        If the file is missing, unreadable, holds objects other than tensors and plain
        values, is not a checkpoint, or is damaged (its weights, settings, temperature or
        reference amplitude no longer match the checksum stored with them).
    """
    path = Path(path)
    if not path.is_file():
        raise PathError(path, "checkpoint not found")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:  # torch's own message advises weights_only=False
        if found := _REFUSED_OBJECT.search(str(err)):
            raise PathError(
                path,
                f"refused: it holds the Python object {found.group(1)}, which a tinysleepnet "
                "checkpoint never does (only tensors and plain values; loading it could run "
                "code)",
            ) from err
        raise PathError(path, "not a readable checkpoint (damaged, or not a checkpoint)") from err
    except Exception as err:  # torch raises several types for a damaged file
        raise PathError.wrap(path, "not a readable checkpoint", err) from err
    if not isinstance(payload, dict) or "model" not in payload or "config" not in payload:
        raise PathError(path, "not a tinysleepnet checkpoint (no model weights and config)")
    # Checkpoints written before checksums existed have none and load as they always did.
    if CHECKSUM_KEY in payload:
        intact = outputs_checksum(payload) == payload[CHECKSUM_KEY]
    elif WEIGHTS_CHECKSUM_KEY in payload:  # written before the checksum covered the settings
        intact = weights_checksum(payload["model"]) == payload[WEIGHTS_CHECKSUM_KEY]
    else:
        intact = True
    if not intact:
        raise PathError(
            path,
            "damaged checkpoint: its weights, settings, temperature or reference amplitude "
            "do not match their checksum",
        )
    return payload


def calibration(
    path: str | Path, temperature: Any = 1.0, reference_uv: Any = None
) -> tuple[float, float]:
    """A model's calibration temperature and training amplitude (uV), checked.

    Parameters
    ----------
    path : str or Path
        The model file, named in the error.
    temperature : number
        Temperature that divides the logits; must be a positive finite number.
    reference_uv : number or None
        The training nights' median |x| in uV; a positive finite number, or None or NaN
        when the model does not know it (staging then skips the amplitude check).

    Returns
    -------
    (float, float)
        The temperature and the reference amplitude (NaN when unknown).

    Raises
    ------
    PathError
        If either is not a number, or out of range: a NaN, infinite, zero or negative
        temperature stages every epoch alike or inverts the confidence.
    """
    checked = _positive(path, "calibration temperature", temperature)
    if reference_uv is None or math.isnan(_float(path, "reference amplitude", reference_uv)):
        return checked, math.nan  # unknown: staging skips the amplitude check
    return checked, _positive(path, "reference amplitude", reference_uv)


def _float(path: str | Path, name: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PathError(path, f"{name} {value!r} is not a number") from None


def _positive(path: str | Path, name: str, value: Any) -> float:
    """``value`` as a positive finite float, else a one-line error naming ``name``."""
    number = _float(path, name, value)
    if not (math.isfinite(number) and number > 0):
        raise PathError(path, f"{name} {number!r} must be a positive finite number")
    return number


def checkpoint_config(path: str | Path, payload: dict[str, Any]) -> Config:
    """The settings stored in a checkpoint's payload (:func:`load_checkpoint`), checked.

    Raises
    ------
    PathError
        Naming ``path``, if a setting is out of range or of the wrong type (a checkpoint
        with ``sfreq`` 0 is intact but cannot stage).
    """
    values = payload["config"]
    if not isinstance(values, dict):
        raise PathError(path, "not a usable checkpoint: its settings are not a mapping")
    try:
        return Config.from_dict(values)
    except TinySleepNetError as err:  # Config.validate: the range in the message
        raise PathError(path, f"not a usable checkpoint: {err}") from err
    except (TypeError, ValueError) as err:  # a setting of another type
        raise PathError.wrap(path, "not a usable checkpoint", err) from err


def load_weights(path: str | Path, model: torch.nn.Module, payload: dict[str, Any]) -> None:
    """Put a checkpoint's weights (its payload's ``"model"``) into ``model``, checked.

    Raises
    ------
    PathError
        Naming ``path``, if the weights are of another network (other names or shapes:
        torch's ``load_state_dict`` raises a RuntimeError).
    """
    try:
        model.load_state_dict(payload["model"])
    except (RuntimeError, TypeError, AttributeError) as err:
        raise PathError.wrap(
            path, "not a checkpoint of this network (weights differ)", err
        ) from err


def load_model(path: str | Path, device: str | torch.device = "cpu") -> TinySleepNet:
    """The trained network of a checkpoint, in evaluation mode, with its :class:`Config`.

    The network carries the checkpoint's calibration temperature (1.0 if it has none) as
    the buffer ``temperature``, outside its state dict; staging applies it. Likewise the
    training nights' median |x| in uV, ``reference_amplitude_uv`` (NaN for checkpoints
    written before training stored it: staging then skips the amplitude check).

    Raises
    ------
    PathError
        As :func:`load_checkpoint`; if the temperature or reference amplitude is not a
        positive finite number (:func:`calibration`); if its settings are out of range
        (:func:`checkpoint_config`) or its weights are not those of the network its
        settings describe (:func:`load_weights`).
    """
    payload = load_checkpoint(path, map_location=device)
    temperature, reference = calibration(
        path, payload.get("temperature", 1.0), payload.get("reference_amplitude_uv")
    )
    model = TinySleepNet(checkpoint_config(path, payload))
    load_weights(path, model, payload)
    model.register_buffer("temperature", torch.tensor(temperature), persistent=False)
    model.register_buffer("reference_amplitude_uv", torch.tensor(reference), persistent=False)
    return model.to(device).eval()
