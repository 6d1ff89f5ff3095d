"""The float32 roofline of this CPU and how close TinySleepNet's training and staging come to it.

Usage::

    python benchmarks/roofline.py                  # 1 and 2 threads, about 3 min on 2 idle cores
    python benchmarks/roofline.py --threads 1 2 4  # other thread counts
    python benchmarks/roofline.py --quick          # fewer repeats

Prints, for each thread count:

* ``mm``: float32 matrix products ``(n, n) @ (n, n)`` (torch's CPU GEMM, MKL in the PyPI
  wheels) at n = 512, 1024, 2048, in GFLOPS (2 n^3 floating-point operations per product);
* ``onednn mm``: the same products as 1 x 1 convolutions, which torch runs in oneDNN, the
  library of the network's convolutions (on AMD CPUs MKL may not use AVX-512, oneDNN does);
* ``conv``: the network's conv2-4 layer (128 -> 128 channels, kernel 8, 63 positions) over a
  group of 32 epochs, as the network runs it (oneDNN), in GFLOPS;
* ``train`` and ``night``: one optimizer step of the recipe (``run.py``'s) and staging a
  1000-epoch night, each with the fused LSTM (``fast``) and the paper's cell (``paper``),
  with the useful floating-point operations they imply (counted from the layer shapes,
  below) as GFLOPS and as a share of the best of the products above at that thread count (the
  roofline: every layer here is compute-bound), by wall time and by CPU time.

Floating-point operations per 30-s epoch: staging runs the forward pass, ``2 x`` the
multiply-adds of ``run.macs_per_epoch``; training also runs the backward pass, which costs
two products per layer (the gradients of the layer's input and of its weights) except for
conv1, whose input (the EEG) needs no gradient: ``forward + 2 x forward - conv1``. The
elementwise work (ReLU, pooling, dropout, Adam) and conv1's zero-padded taps are not counted,
so the shares are of useful arithmetic. Every figure is the median of the repeats; CPU
time (``time.process_time``, all threads) is printed beside wall time, since on a shared
machine it is the steadier of the two.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from statistics import median

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from run import NIGHT_EPOCHS, cpu_name, macs_per_epoch, measure
from timing import timed
from tinysleepnet.config import Config

#: Matrix sizes of the GEMM measurement.
MM_SIZES = (512, 1024, 2048)
#: The network measured in ``train`` and ``night`` rows: (label, run.py implementation).
NETWORKS = (("fast", "fast"), ("paper", "fast-peephole"))


def flops_per_epoch(config: Config) -> dict[str, float]:
    """Useful floating-point operations per epoch of staging (forward) and training."""
    macs = macs_per_epoch(config)
    forward = 2.0 * sum(macs.values())
    return {"night": forward, "train": 3 * forward - 2.0 * macs["conv1"]}


def _timed(work: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``repeats`` runs after two warm-up runs."""
    runs = timed(lambda: work, repeats)
    return median(runs["times"]), median(runs["cpu_times"])


def mm_gflops(n: int, repeats: int) -> tuple[float, float]:
    """GFLOPS of an (n, n) @ (n, n) float32 product, by wall and by CPU time."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    out = torch.empty(n, n)
    wall, cpu = _timed(lambda: torch.mm(a, b, out=out), repeats)
    return 2 * n**3 / wall / 1e9, 2 * n**3 / cpu / 1e9


def onednn_mm_gflops(n: int, repeats: int) -> tuple[float, float]:
    """GFLOPS of an (n, n) @ (n, n) float32 product run by oneDNN (as a 1 x 1 convolution)."""
    x, weight = torch.randn(1, n, n), torch.randn(n, n, 1)
    with torch.inference_mode():
        wall, cpu = _timed(lambda: F.conv1d(x, weight), repeats)
    return 2 * n**3 / wall / 1e9, 2 * n**3 / cpu / 1e9


def conv_gflops(repeats: int) -> tuple[float, float]:
    """GFLOPS of the network's conv2-4 layer over a group of 32 epochs (forward)."""
    config = Config()
    n, positions, kernel = config.n_filters, 63, 8
    x = torch.randn(32, n, positions + kernel - 1)  # "same"-padded input
    weight, bias = torch.randn(n, n, kernel), torch.randn(n)
    flops = 2 * 32 * positions * n * n * kernel
    with torch.inference_mode():
        wall, cpu = _timed(lambda: F.conv1d(x, weight, bias), repeats * 20)
    return flops / wall / 1e9, flops / cpu / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    config = Config()
    flops = flops_per_epoch(config)
    train_epochs = config.batch_nights * config.seq_len
    print(f"CPU: {cpu_name()}; torch {torch.__version__}")
    print(
        f"useful FLOPs per epoch: staging {flops['night'] / 1e6:.1f} M, "
        f"training {flops['train'] / 1e6:.1f} M"
    )
    print("\nGFLOPS by wall and by CPU time; share: of the best product (mm, conv) there")
    header = ("threads", "measure", "GFLOPS wall", "GFLOPS CPU", "share wall", "share CPU")
    print("{:>7}  {:<22}  {:>11}  {:>10}  {:>10}  {:>9}".format(*header))
    for threads in args.threads:
        torch.set_num_threads(threads)
        rows: list[tuple[str, float, float]] = []
        for n in MM_SIZES:
            rows.append((f"mm {n}", *mm_gflops(n, repeats)))
        for n in MM_SIZES:
            rows.append((f"onednn mm {n}", *onednn_mm_gflops(n, repeats)))
        rows.append(("conv2-4 (32 epochs)", *conv_gflops(repeats)))
        peak_wall, peak_cpu = (max(row[k] for row in rows) for k in (1, 2))
        for label, impl in NETWORKS:
            for task, epochs in (("train", train_epochs), ("night", NIGHT_EPOCHS)):
                result = measure(task, impl, repeats, threads, "cpu")
                wall, cpu = median(result["times"]), median(result["cpu_times"])
                work = epochs * flops[task]
                rows.append((f"{task} {label}", work / wall / 1e9, work / cpu / 1e9))
        torch.set_num_threads(threads)  # measure() set it too
        for label, wall_gflops, cpu_gflops in rows:
            print(
                f"{threads:>7}  {label:<22}  {wall_gflops:>11.1f}  {cpu_gflops:>10.1f}"
                f"  {wall_gflops / peak_wall:>10.0%}  {cpu_gflops / peak_cpu:>9.0%}"
            )


if __name__ == "__main__":
    main()
