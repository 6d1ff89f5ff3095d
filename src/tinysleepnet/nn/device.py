"""Where and in what arithmetic the network runs: the device, precision and CPU thread settings."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import platform
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import torch

from ..config import PRECISIONS
from ..errors import TinySleepNetError

logger = logging.getLogger("tinysleepnet")

#: Whether this process has said that its CPU lacks bfloat16 (said once, not per fold).
_told_no_bfloat16 = False

#: Most torch threads :func:`default_threads` gives (see its rule).
MAX_DEFAULT_THREADS = 4


def default_threads(*, cores: int | None = None, load: float | None = None) -> int:
    """Torch threads for a CPU process: the physical cores other work leaves idle, 1 to 4.

    The rule: ``$OMP_NUM_THREADS`` when it is set to a positive integer (the user's choice);
    otherwise the physical cores this process may run on, less the 1-minute load average
    (rounded to the nearest whole core), at least 1 and at most
    :data:`MAX_DEFAULT_THREADS`. On a machine whose cores other processes keep busy, a
    second torch thread makes every parallel operation wait for a descheduled thread, so a
    training pass or a night's staging there runs slower with 2 threads than with 1
    (``benchmarks/README.md``, "Threads"); on idle cores 2 threads are faster. The cap of 4
    is a guess, not measured (the machines measured had 2 cores): beyond a few threads the
    network's small operations gain little.

    Parameters
    ----------
    cores : int, optional
        Physical cores available; by default those of the CPUs in this process's affinity
        mask (Linux), else :func:`os.cpu_count`.
    load : float, optional
        Runnable processes on the machine (the load average); by default
        :func:`os.getloadavg`'s 1-minute figure, 0 where there is none (Windows). Read before
        this process starts its own work, it counts the other work.

    Returns
    -------
    int
        Threads for ``torch.set_num_threads``.
    """
    requested = os.environ.get("OMP_NUM_THREADS", "").strip()
    if requested.isdigit() and int(requested) > 0:
        return int(requested)
    if cores is None:
        cores = _physical_cores()
    if load is None:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    idle = math.floor(cores - load + 0.5)
    return max(1, min(MAX_DEFAULT_THREADS, cores, idle))


def _physical_cores() -> int:
    """Physical cores among the CPUs this process may run on (hyperthreads counted once)."""
    if not hasattr(os, "sched_getaffinity"):
        return os.cpu_count() or 1
    cpus = os.sched_getaffinity(0)
    siblings = set()
    for cpu in cpus:
        path = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list")
        try:
            siblings.add(path.read_text().strip())
        except OSError:
            return len(cpus)
    return len(siblings) or len(cpus)


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
        The ``precision`` of :func:`~tinysleepnet.nn.inference.predict_proba`.
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
