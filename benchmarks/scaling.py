"""Data-parallel training on one machine: throughput with 1 and 2 ``torchrun`` processes.

Usage::

    python benchmarks/scaling.py                      # 1 and 2 processes, ~10 min on 2 cores
    python benchmarks/scaling.py --processes 1 2 4    # on a bigger machine

A simulated Sleep-EDF-shaped cohort is written and prepared once (``--out`` keeps it), then
``torchrun --standalone --nproc-per-node P -m tinysleepnet train`` trains the paper's
network on it for ``--passes`` passes, for each P, with the machine's cores shared out
between the processes (``OMP_NUM_THREADS = cores / P``) and the same global minibatch. The
table gives the median seconds per pass and the training epochs per second it implies.
Every process stages all validation nights after each pass (they must agree on the kept
pass), so that part does not speed up; on 2 CPU cores there is little to gain at all, and
the figure shows what the processes' communication costs. On GPUs, run it with
``--device cuda`` on a machine with several of them (each process takes the GPU of its
local rank); GPU scaling is not measured here.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from tinysleepnet.data.nights import read_manifest
from tinysleepnet.data.prepare import prepare
from tinysleepnet.data.simulate import simulate_cohort


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--subjects", type=int, default=10, help="simulated subjects (2 nights)")
    parser.add_argument("--n-epochs", type=int, default=240, help="30-s epochs per night")
    parser.add_argument("--passes", type=int, default=3, help="passes per run")
    parser.add_argument("--batch-nights", type=int, default=8, help="global minibatch")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, help="working folder (default: a temporary one)")
    return parser.parse_args()


def train_with(processes: int, data: Path, out: Path, args: argparse.Namespace) -> pd.DataFrame:
    """One ``torchrun`` training run; its ``log.csv``."""
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        "--nproc-per-node", str(processes), "-m", "tinysleepnet", "-q", "train", str(data),
        "--out", str(out), "--epochs", str(args.passes), "--batch-nights",
        str(args.batch_nights), "--device", args.device, "--quiet",
    ]  # fmt: skip
    threads = str(max(1, args.cores // processes))
    subprocess.run(command, check=True, env={**os.environ, "OMP_NUM_THREADS": threads})
    return pd.read_csv(out / "log.csv")


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.out or Path(tmp)
        data = work / "prepared"
        if not (data / "manifest.csv").is_file():
            simulate_cohort(work / "raw", range(args.subjects), n_epochs=args.n_epochs, seed=0)
            prepare(work / "raw", data, progress=False)
        n_epochs = int(read_manifest(data)["n_epochs"].sum())
        rows = []
        for processes in args.processes:
            log = train_with(processes, data, work / f"run_{processes}", args)
            seconds = float(log["seconds"].median())
            rows.append((processes, seconds))
    print(f"\n{n_epochs} epochs in the cohort (about 90 % of them train), {args.passes} passes")
    print("| processes | threads each | seconds per pass | epochs/s (whole pass) | vs 1 |")
    print("|---|---|---|---|---|")
    base = rows[0][1]
    for processes, seconds in rows:
        threads = max(1, args.cores // processes)
        print(
            f"| {processes} | {threads} | {seconds:.1f} | {n_epochs / seconds:,.0f} "
            f"| {base / seconds:.2f}x |"
        )


if __name__ == "__main__":
    main()
