"""Peak memory of a training process against cohort size: nights in memory or memory-mapped.

Usage::

    python benchmarks/memory.py                    # 16 and 160 nights of 1000 epochs
    python benchmarks/memory.py --epochs 300       # shorter nights (less disk: 0.55 GiB)
    python benchmarks/memory.py --json out.json    # also save the figures

Writes two prepared folders of simulated nights (random signal, random stages; 1000-epoch
nights take 11.4 MiB each on disk, so 0.18 and 1.8 GiB) into ``--work`` (default a
temporary folder, removed at the end), then measures each (layout, cohort) pair in a fresh
process, the way a training process meets its data:

1. ``load_nights`` (the layouts differ only here, see below);
2. one training pass: the recipe's minibatches (15 nights x 20 epochs, augmented, in the
   pass's seeded order) for every night of the cohort; the first 2 + ``--steps`` of them go
   through a full optimizer step of the network (the step of ``benchmarks/run.py``; the
   first 2 are a warm-up, not timed), the rest are only built, so that every page of every
   night is read once, as in a real pass;
3. staging 4 nights whole (as validation does).

Layouts:

* ``in-memory``: every signal read into memory at load time, as ``load_nights`` did before
  signals moved to memory-mapped ``.npy`` files;
* ``memmap``: signals read through read-only memory maps, pages released after each group
  of nights (what ``load_nights`` and the training pass do now);
* ``memmap-no-release``: memory maps without releasing pages, to show why the release is
  there: the kernel counts every mapped page a pass has read in the process's resident set.

Figures per run: load time, resident memory after loading and at its peak
(``ru_maxrss``: anonymous and file-backed pages together), the data path's throughput
(epochs per second of minibatches built, training steps excluded) and the training steps'
throughput (epochs per second), each also per second of CPU time (all threads), which other
work on a shared machine disturbs much less. The page cache is warm (the folders were just written);
a cold cache adds disk reads to the memory-mapped runs' data path, not to their memory.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).parent))
from run import _train_step
from tinysleepnet.config import Config
from tinysleepnet.data.nights import MANIFEST, Night, load_nights, save_night, signal_path
from tinysleepnet.nn.inference import predict_proba
from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.prediction import inference
from tinysleepnet.stages import N_STAGES
from tinysleepnet.training import batches
from tinysleepnet.training.batches import iterate_pass, plan_pass

LAYOUTS = ("in-memory", "memmap-no-release", "memmap")
VALIDATION_NIGHTS = 4
#: Optimizer steps run before the timed ones.
WARM_UP_STEPS = 2


def write_cohort(folder: Path, n_nights: int, n_epochs: int, config: Config) -> None:
    """A prepared folder of ``n_nights`` simulated nights (kept if already complete)."""
    if (folder / MANIFEST).is_file():
        return
    rng = np.random.default_rng(n_nights)
    rows = []
    for i in range(n_nights):
        signal = rng.standard_normal((n_epochs, config.epoch_samples), dtype=np.float32) * 30
        night = Night(
            signal_uv=signal,
            stages=rng.integers(0, N_STAGES, n_epochs),
            sfreq=config.sfreq,
            channel=config.channel,
            subject=f"{i // 2:03d}",
            night=i % 2 + 1,
            start="",
            name=f"night{i:03d}",
        )
        save_night(folder / f"{night.name}.npz", night)
        rows.append({"name": night.name, "file": f"{night.name}.npz", "n_epochs": n_epochs})
    pd.DataFrame(rows).to_csv(folder / MANIFEST, index=False)


def _rss_mib() -> float:
    """Peak resident set of this process so far, MiB (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(folder: Path, layout: str, steps: int, threads: int) -> dict[str, Any]:
    """One training process's memory and throughput on the cohort in ``folder``."""
    torch.set_num_threads(threads)
    config = Config()
    if layout == "memmap-no-release":
        batches.release_pages = inference.release_pages = lambda signal: None
    start = time.perf_counter()
    nights = load_nights(folder)
    if layout == "in-memory":  # read each .npy whole, without touching its map's pages
        nights = [
            dataclasses.replace(n, signal_uv=np.load(signal_path(folder / f"{n.name}.npz")))
            for n in nights
        ]
    load_s = time.perf_counter() - start
    rss_loaded = _rss_mib()

    torch.manual_seed(0)
    model = TinySleepNet(config).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    plan = plan_pass(
        len(nights),
        np.random.default_rng(0),
        config.max_skip_epochs,
        round(config.max_shift_frac * config.epoch_samples),
    )
    signals, stages = [n.signal_uv for n in nights], [n.stages for n in nights]
    chunks = iterate_pass(signals, stages, plan, config.batch_nights, config.seq_len)
    state = model.initial_state(config.batch_nights, torch.device("cpu"))  # reset per group
    train_s = data_s = train_cpu = data_cpu = 0.0
    train_epochs = data_epochs = 0
    clock, cpu_clock = time.perf_counter(), time.process_time()
    for index, (x, y, weight, is_first) in enumerate(chunks):
        built, cpu_built = time.perf_counter(), time.process_time()
        data_s += built - clock
        data_cpu += cpu_built - cpu_clock
        data_epochs += int(weight.sum())
        if index < WARM_UP_STEPS + steps:
            if is_first:
                state = model.initial_state(x.shape[0], torch.device("cpu"))
            state = _train_step(model, optimizer, (x, y, weight), state, config)
            if index >= WARM_UP_STEPS:  # oneDNN builds its kernels in the first steps
                train_epochs += x.shape[0] * x.shape[1]
                train_s += time.perf_counter() - built
                train_cpu += time.process_time() - cpu_built
        clock, cpu_clock = time.perf_counter(), time.process_time()
    model.eval()
    predict_proba(model, signals[-VALIDATION_NIGHTS:])
    return {
        "layout": layout,
        "nights": len(nights),
        "epochs": int(sum(len(s) for s in stages)),
        "load_s": load_s,
        "rss_loaded_mib": rss_loaded,
        "peak_rss_mib": _rss_mib(),
        "data_epochs_per_s": data_epochs / data_s,
        "data_epochs_per_cpu_s": data_epochs / data_cpu,
        "train_epochs_per_s": train_epochs / train_s,
        "train_epochs_per_cpu_s": train_epochs / train_cpu,
    }


def _run_worker(folder: Path, layout: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", str(folder), layout]
    command += ["--steps", str(args.steps), "--threads", str(args.threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _print_table(results: list[dict[str, Any]]) -> None:
    header = ["layout", "nights", "GiB on disk", "load s", "RSS loaded MiB", "peak RSS MiB"]
    header += ["data epochs/s (per CPU s)", "train epochs/s (per CPU s)"]
    rows = [
        [
            r["layout"],
            str(r["nights"]),
            f"{r['epochs'] * Config().epoch_samples * 4 / 2**30:.2f}",
            f"{r['load_s']:.2f}",
            f"{r['rss_loaded_mib']:,.0f}",
            f"{r['peak_rss_mib']:,.0f}",
            f"{r['data_epochs_per_s']:,.0f} ({r['data_epochs_per_cpu_s']:,.0f})",
            f"{r['train_epochs_per_s']:,.0f} ({r['train_epochs_per_cpu_s']:,.0f})",
        ]
        for r in results
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nights", type=int, nargs="+", default=[16, 160], help="cohort sizes")
    parser.add_argument("--epochs", type=int, default=1000, help="epochs per night")
    parser.add_argument("--steps", type=int, default=10, help="optimizer steps per run")
    parser.add_argument("--layouts", nargs="+", choices=LAYOUTS, default=LAYOUTS, help="layouts")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--work", type=Path, help="folder for the cohorts (kept if given)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--worker", nargs=2, metavar=("FOLDER", "LAYOUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(Path(args.worker[0]), args.worker[1], args.steps, args.threads)))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="tinysleepnet-memory-"))
    try:
        results = []
        for n_nights in args.nights:
            folder = work / f"{n_nights}x{args.epochs}"
            write_cohort(folder, n_nights, args.epochs, Config())
            for layout in args.layouts:
                results.append(_run_worker(folder, layout, args))
                print(results[-1], file=sys.stderr)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"torch {torch.__version__}, {args.threads} threads, {args.steps} training steps")
    _print_table(sorted(results, key=lambda r: (LAYOUTS.index(r["layout"]), r["nights"])))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
