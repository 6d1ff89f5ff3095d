"""The benchmarks' timing loop (standard library only, so the TensorFlow environment of
``authors_tf/`` imports it too)."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import Any


def timed(
    build: Callable[[], Callable[[], object]], repeats: int, warmup: int = 2
) -> dict[str, Any]:
    """Wall and CPU seconds of ``repeats`` runs of the work ``build()`` returns, after
    ``warmup`` untimed ones, and the growth of the process's peak resident set from before
    the build (the model, its input and the runs: MiB)."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    work = build()
    for _ in range(warmup):  # graph optimisation, allocator, kernels
        work()
    times, cpu_times = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        work()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    peak_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    return {"times": times, "cpu_times": cpu_times, "peak_mib": peak_mib}
