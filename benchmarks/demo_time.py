"""Time ``tinysleepnet demo`` from an empty working folder: wall and CPU seconds per stage.

Usage::

    python benchmarks/demo_time.py [--out DIR] [--keep] [-- DEMO ARGS...]
    python benchmarks/demo_time.py --out /tmp/demo-full -- --full

It runs the command as a user would (``python -m tinysleepnet demo --out DIR ...``, the
set-up of ``scripts/demo.sh`` aside), reads its log lines as they come and prints, per stage
(``[1/5]`` ...), the wall seconds, then the whole run's wall and CPU seconds (user + system,
of the command and the worker processes it waited for), the load average before and after
and the CPU model. On a machine shared with other work the wall time is longer than on an
idle one; CPU seconds are the better measure then: on an idle 2-core machine the wall time
is about CPU seconds / (threads used, at most 2) at best, and at most about CPU seconds.
The demo's printed scores and calibration error follow.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

STAGE = re.compile(r"\[(\d)/5\]")


def cpu_model() -> str:
    """The CPU's model name and whether it has bfloat16 instructions (Linux), else the arch."""
    info = Path("/proc/cpuinfo")
    if not info.is_file():
        return platform.machine()
    text = info.read_text()
    model = re.search(r"model name\s*:\s*(.*)", text)
    bf16 = "avx512_bf16" in text or "amx_bf16" in text
    name = model.group(1) if model else platform.machine()
    return f"{name}, {os.cpu_count()} CPUs, {'with' if bf16 else 'no'} bfloat16 instructions"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("demo-time-run"))
    parser.add_argument("--keep", action="store_true", help="keep an existing --out (resume)")
    parser.add_argument("demo_args", nargs="*", help="arguments of tinysleepnet demo")
    args = parser.parse_args()
    if args.out.exists() and not args.keep:
        shutil.rmtree(args.out)
    command = [sys.executable, "-m", "tinysleepnet", "demo", "--out", str(args.out)]
    command += args.demo_args
    print(f"$ {' '.join(command)}")
    print(f"CPU: {cpu_model()}; load average before {os.getloadavg()[0]:.1f}")
    cpu_before, started = children_cpu(), time.perf_counter()
    stages: list[tuple[str, float]] = []
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    assert process.stdout is not None
    printed = []
    for line in process.stdout:
        now = time.perf_counter() - started
        if match := STAGE.search(line):
            stages.append((match.group(1), now))
        if not printed:
            print(f"first line after {now:.1f} s")
        printed.append(line)
        sys.stdout.write(f"{now:7.1f} s  {line}")
    code = process.wait()
    wall, cpu = time.perf_counter() - started, children_cpu() - cpu_before
    print()
    ends = [t for _, t in stages[1:]] + [wall]
    for (stage, start), end in zip(stages, ends, strict=True):
        print(f"stage {stage}/5: {end - start:6.1f} s wall")
    print(
        f"demo: {wall:.0f} s wall, {cpu:.0f} s CPU (user + system), exit {code}; "
        f"load average after {os.getloadavg()[0]:.1f}"
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
