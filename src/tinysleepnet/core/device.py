"""Where and in what arithmetic the network runs: the device and precision settings."""

from __future__ import annotations

import platform
import warnings
from typing import Literal

import torch

from ..config import PRECISIONS
from ..errors import TinySleepNetError


def resolve_device(name: str) -> torch.device:
    """The torch device of a :attr:`Config.device` setting (``"auto"``: CUDA when present)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def resolve_precision(
    precision: Literal["auto", "float32", "bfloat16"], device: torch.device
) -> Literal["float32", "bfloat16"]:
    """The arithmetic of the CNN for a :attr:`Config.precision` setting on a device.

    Parameters
    ----------
    precision : {"auto", "float32", "bfloat16"}
        ``"auto"``: bfloat16 on CUDA, float32 elsewhere (so the paper's recipe runs in
        float32 on CPUs, as the authors trained it).
    device : torch.device
        Device the model runs on.

    Returns
    -------
    {"float32", "bfloat16"}
        The ``precision`` of :func:`~tinysleepnet.core.inference.predict_proba`.
        ``"bfloat16"`` on a CPU without bfloat16 instructions gives ``"float32"`` with a
        warning: emulated bfloat16 is slower than float32.

    Raises
    ------
    TinySleepNetError
        If ``precision`` is none of the above.
    """
    if precision not in ("auto", *PRECISIONS):
        raise TinySleepNetError(
            f"precision must be one of 'auto', {', '.join(map(repr, PRECISIONS))}; "
            f"got {precision!r}"
        )
    if precision == "auto":
        return "bfloat16" if device.type == "cuda" else "float32"
    if precision == "bfloat16" and device.type == "cpu" and not _cpu_has_native_bfloat16():
        warnings.warn(
            "this CPU has no bfloat16 instructions (AVX512-BF16, AMX or ARM BF16); "
            "training in float32 instead",
            RuntimeWarning,
            stacklevel=3,
        )
        return "float32"
    return precision


def _cpu_has_native_bfloat16() -> bool:
    """Whether the CPU computes in bfloat16 natively rather than by emulation."""
    if not torch.backends.mkldnn.is_available():
        return False
    if platform.machine().lower() in ("x86_64", "amd64"):
        # oneDNN's own check (torch.ops.mkldnn._is_mkldnn_bf16_supported) also accepts
        # plain AVX-512, where bfloat16 is emulated and slower than float32.
        return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())  # ARM: the BF16 extension
