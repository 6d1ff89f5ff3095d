"""Torch threads against time on this machine, under the load it has: 1 thread vs more.

Usage::

    python benchmarks/threads.py                     # the paper's cell: train and night, 1 vs 2
    python benchmarks/threads.py --threads 1,2 --impls fast,fast-peephole --rounds 5

Each round runs every (measure, implementation, thread count) of ``run.py``'s measurements
(one optimizer step at the recipe's shape; staging a 1000-epoch night) in a fresh process,
one after the other, and notes the 1-minute load average before each. The table gives each
row's median wall-clock and CPU time (all threads) over every repeat of every round and
its time over that of the first thread count: the median of the rounds' ratios, so that the
load, which changes from round to round, falls on both sides of each ratio alike. The last
line says what :func:`tinysleepnet.nn.device.default_threads` chooses at the load seen.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from run import QUICK_REPEATS, REPEATS, _run_worker, cpu_name
from tinysleepnet.nn.device import default_threads


def _ratio(parts: list[dict[str, Any]], bases: list[dict[str, Any]], key: str) -> float:
    """Median over rounds of this row's median time over the baseline row's, same round."""
    return median(median(p[key]) / median(b[key]) for p, b in zip(parts, bases, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", default="1,2", help="thread counts, the first the baseline")
    parser.add_argument("--impls", default="fast-peephole", help="run.py implementations")
    parser.add_argument("--only", default="train,night", help="measures: train, night")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--quick", action="store_true", help="run.py's quick repeats")
    args = parser.parse_args()
    counts = [int(n) for n in args.threads.split(",")]
    rows = [(t, i) for t in args.only.split(",") for i in args.impls.split(",")]
    repeats = QUICK_REPEATS if args.quick else REPEATS
    print(f"CPU: {cpu_name()}")
    parts: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    loads = []
    for _ in range(args.rounds):
        for task, impl in rows:
            for threads in counts:
                loads.append(os.getloadavg()[0])
                worker = argparse.Namespace(threads=threads, repeats=repeats, device="cpu")
                result = _run_worker(task, impl, worker)
                if "error" in result:
                    raise SystemExit(f"{task} {impl} {threads} threads: {result['error']}")
                parts.setdefault((task, impl, threads), []).append(result)
    print(f"1-minute load average before each run: {min(loads):.1f}-{max(loads):.1f}")
    header = ["measure", "implementation", "threads", "wall s", "CPU s", "time / 1st (wall, CPU)"]
    print(" | ".join(header))
    for task, impl in rows:
        bases = parts[task, impl, counts[0]]
        for threads in counts:
            mine = parts[task, impl, threads]
            wall = median(t for p in mine for t in p["times"])
            cpu = median(t for p in mine for t in p["cpu_times"])
            ratio = ""
            if threads != counts[0]:
                wall_ratio, cpu_ratio = (_ratio(mine, bases, k) for k in ("times", "cpu_times"))
                ratio = f"{wall_ratio:.2f}, {cpu_ratio:.2f}"
            print(" | ".join([task, impl, str(threads), f"{wall:.3f}", f"{cpu:.3f}", ratio]))
    print(f"default_threads() at load {loads[-1]:.1f}: {default_threads(load=loads[-1])}")


if __name__ == "__main__":
    main()
