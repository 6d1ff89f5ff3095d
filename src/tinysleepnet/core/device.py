"""Where and in what arithmetic the network runs: the device, precision and thread settings."""

from __future__ import annotations

import contextlib
import logging
import os
import platform
from collections.abc import Iterator
from typing import Literal

import torch

from ..config import PRECISIONS
from ..errors import TinySleepNetError

logger = logging.getLogger("tinysleepnet")

#: Whether this process has said that its CPU lacks bfloat16 (said once, not per fold).
_told_no_bfloat16 = False


def default_threads() -> int:
    """Torch threads for this machine now: its free cores, at least 1.

    The cores this process may run on (its CPU affinity), less the load the rest of the
    machine puts on them (the 1-min load average, rounded): on a 2-core machine already
    running one busy process, one thread is faster than two that fight it for the cores.

    Returns
    -------
    int
        Between 1 and the number of cores this process may use.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = max(1, cores or 1)
    try:
        busy = round(os.getloadavg()[0])
    except OSError:  # no load average on this platform
        busy = 0
    return max(1, min(cores, cores - busy))


def resolve_threads(threads: int) -> int:
    """The torch threads of a :attr:`Config.threads` setting (0: :func:`default_threads`).

    Raises
    ------
    TinySleepNetError
        If ``threads`` is negative.
    """
    if threads < 0:
        raise TinySleepNetError(
            f"threads must be 0 (chosen for the machine) or more; got {threads}"
        )
    return threads or default_threads()


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[int]:
    """Run a block with ``threads`` torch threads (0: as they are), then restore the count.

    The command line sets :func:`default_threads` when no ``--threads`` is given; the
    Python API leaves the caller's ``torch.set_num_threads`` alone unless asked.
    """
    before = torch.get_num_threads()
    if threads < 0:
        resolve_threads(threads)  # the error
    chosen = threads or before
    torch.set_num_threads(chosen)
    try:
        yield chosen
    finally:
        torch.set_num_threads(before)


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
        warning (one log line per process): emulated bfloat16 is slower than float32.

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
        global _told_no_bfloat16
        if not _told_no_bfloat16:
            logger.warning(
                "this CPU has no bfloat16 instructions (AVX512-BF16, AMX or ARM BF16); "
                "running in float32 instead"
            )
            _told_no_bfloat16 = True
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
