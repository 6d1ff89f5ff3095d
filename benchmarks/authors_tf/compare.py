"""This package's ``paper`` preset against the authors' TensorFlow graph, in one run.

Usage (the package's environment; TensorFlow's is given by ``--tf-python``)::

    python benchmarks/authors_tf/compare.py --threads 2
    python benchmarks/authors_tf/compare.py --threads 1 --rounds 3 --json out.json

Every measurement runs in a fresh process, the two implementations alternating, for
``--rounds`` rounds; each process warms up, then times ``--repeats`` runs. The table gives
the median over all timed runs of wall time and of CPU time (all threads of the process,
``time.process_time``: on a shared machine the steadier figure), the peak memory (growth of
the process's peak resident set from before the model is built, which includes the
weights), and each row's time over the ``paper`` row's (above 1: the package is faster).
Shapes and work as in ``speed.py``:

* ``train``: one optimizer step, 15 nights x 20 epochs, state carried, dropout on,
  class-weighted loss with padded positions, L2 on the conv kernels, clipping to norm 5,
  the run's Adam (here ``training/adam.py``'s TF Adam, ``training/objective.py``'s loss);
* ``night``: a 1000-epoch night's stages; the package stages it with ``predict_proba``
  (its one way), the authors' graph as ``predict.py`` does (batch 1, sequence 1) and with
  the whole night as one sequence.

With ``--passive`` the package's rows are repeated with ``OMP_WAIT_POLICY=PASSIVE``: on a
machine with more runnable threads than cores, OpenMP's default spin-waiting lets a
2-thread torch process burn its time slices waiting for a descheduled partner.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1]))  # benchmarks/: the shared timing loop
from timing import timed

HERE = Path(__file__).parent
#: (measure, implementation): the package's rows and the authors' (``speed.py``'s names).
RUNS = [
    ("train", "paper"),
    ("train", "authors-tf"),
    ("night", "paper"),
    ("night", "authors-tf predict.py"),
    ("night", "authors-tf whole night"),
]
TF_MEASURE = {
    ("train", "authors-tf"): "train",
    ("night", "authors-tf predict.py"): "night-predict",
    ("night", "authors-tf whole night"): "night-whole",
}
#: The package's rows again, its OpenMP threads waiting passively (``--passive``).
PASSIVE = "paper, OMP_WAIT_POLICY=PASSIVE"
SAMPLES, NIGHTS, SEQ, NIGHT_EPOCHS = 3000, 15, 20, 1000


def _paper_train() -> Callable[[], None]:
    import torch
    from torch import nn

    from tinysleepnet.config import preset
    from tinysleepnet.nn.model import TinySleepNet
    from tinysleepnet.training import objective
    from tinysleepnet.training.adam import make_optimizer

    config = preset("paper", device="cpu")
    torch.manual_seed(0)
    model = TinySleepNet(config).train()
    optimizer = make_optimizer(model.parameters(), config)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(0, 30, (NIGHTS, SEQ, SAMPLES)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 5, (NIGHTS, SEQ)))
    weight = torch.ones(NIGHTS, SEQ)
    weight[-3:, 12:] = 0  # three nights end inside the chunk
    x[weight == 0] = 0
    class_weights = torch.tensor(config.class_weights)
    state: list[Any] = [None]

    def step() -> None:
        logits, (h, c) = model(x, state[0])
        state[0] = (h.detach(), c.detach())
        loss = objective.loss(logits, y, weight, class_weights)
        optimizer.zero_grad(set_to_none=True)
        (loss + objective.l2_penalty(model, config.l2_weight)).backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
        optimizer.step()

    return step


def _paper_night() -> Callable[[], None]:
    import torch

    from tinysleepnet.config import preset
    from tinysleepnet.nn.inference import predict_proba
    from tinysleepnet.nn.model import TinySleepNet

    torch.manual_seed(0)
    model = TinySleepNet(preset("paper", device="cpu")).eval()
    rng = np.random.default_rng(0)
    night = [rng.normal(0, 30, (NIGHT_EPOCHS, SAMPLES)).astype(np.float32)]
    return lambda: predict_proba(model, night)[0].argmax(1)


def measure_paper(name: str, threads: int, repeats: int) -> dict[str, Any]:
    """One measurement of the package (``speed.measure``'s output, for the ``paper`` rows)."""
    import torch

    torch.set_num_threads(threads)
    timing = timed({"train": _paper_train, "night": _paper_night}[name], repeats)
    return {"measure": name, "impl": "paper", "version": f"torch {torch.__version__}", **timing}


def _worker(run: tuple[str, str], args: argparse.Namespace) -> dict[str, Any]:
    repeats = str(args.repeats[run[0]])
    env = dict(os.environ)
    if run in TF_MEASURE:
        command = [args.tf_python, str(HERE / "speed.py"), TF_MEASURE[run]]
    else:
        command = [sys.executable, __file__, "--worker", run[0]]
        if run[1] == PASSIVE:  # OpenMP threads sleep while they wait instead of spinning
            env["OMP_WAIT_POLICY"] = "PASSIVE"
    command += ["--threads", str(args.threads), "--repeats", repeats]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=HERE, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cpu_name() -> str:
    """The CPU's model name and the vector extensions that matter here."""
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    name = next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if "model name" in ln), "")
    flags = next(
        (ln.split(":", 1)[1].split() for ln in text.splitlines() if ln.startswith("flags")), []
    )
    has = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
    return f"{name or platform.processor()} ({', '.join(has) or 'no AVX2'})"


def table(results: dict[tuple[str, str], list[dict[str, Any]]]) -> list[list[str]]:
    """Rows: measure, implementation, wall s, CPU s, peak MiB, time over the paper row's."""
    rows = []
    figures = {}
    for run, parts in results.items():
        wall = median(t for p in parts for t in p["times"])
        cpu = median(t for p in parts for t in p["cpu_times"])
        peak = max(p["peak_mib"] for p in parts)
        figures[run] = (wall, cpu)
        rows.append([run[0], run[1], wall, cpu, peak])
    out = []
    for measure, impl, wall, cpu, peak in rows:
        base_wall, base_cpu = figures[measure, "paper"]
        ratio = "" if impl == "paper" else f"{wall / base_wall:.2f}x / {cpu / base_cpu:.2f}x"
        out.append([measure, impl, f"{wall:.3f}", f"{cpu:.3f}", f"{peak:.0f}", ratio])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="threads of each (default 2)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (default 2)")
    parser.add_argument("--repeats", type=int, help="timed runs per process (train 5, night 3)")
    parser.add_argument(
        "--tf-python",
        default=".venv-tf/bin/python",
        help="the TensorFlow environment's python (default .venv-tf/)",
    )
    parser.add_argument(
        "--passive", action="store_true", help="also the package with OMP_WAIT_POLICY=PASSIVE"
    )
    parser.add_argument("--json", type=Path, help="also write every timing to this file")
    parser.add_argument("--worker", choices=["train", "night"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure_paper(args.worker, args.threads, args.repeats)))
        return
    args.repeats = {"train": args.repeats or 5, "night": args.repeats or 3}
    runs = RUNS + ([("train", PASSIVE), ("night", PASSIVE)] if args.passive else [])
    runs.sort(key=lambda run: run[0] != "train")  # stable: train rows first, then night
    results: dict[tuple[str, str], list[dict[str, Any]]] = {run: [] for run in runs}
    for round_ in range(args.rounds):
        order = runs if round_ % 2 == 0 else runs[::-1]  # alternate who runs first
        for run in order:
            results[run].append(_worker(run, args))
            print(f"round {round_ + 1}: {run[0]} {run[1]} done", file=sys.stderr)
    versions = sorted({p["version"] for parts in results.values() for p in parts})
    print(f"CPU: {cpu_name()}; {args.threads} threads each; float32; {', '.join(versions)}")
    header = [
        "measure",
        "implementation",
        "wall s",
        "CPU s",
        "peak MiB",
        "time / paper's (wall / CPU)",
    ]
    rows = table(results)
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if args.json:
        saved = {f"{m} {i}": parts for (m, i), parts in results.items()}
        args.json.write_text(
            json.dumps({"cpu": cpu_name(), "threads": args.threads, "runs": saved}, indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
