"""Speed and memory of TinySleepNet: this package's fast path against a plain PyTorch port.

Usage::

    python benchmarks/run.py                 # full run (about 3 min on 2 cores)
    python benchmarks/run.py --quick         # smoke run (fewer repeats)
    python benchmarks/run.py --json out.json # also save the figures
    python benchmarks/run.py --only train,night --impls fast,fast-peephole --rounds 3
                                             # the paper's cell against the fused LSTM

Each measurement runs in a fresh subprocess, so that its peak memory can be read as the
growth of the process's peak resident set (``resource.getrusage(...).ru_maxrss``) from just
before the warm-up to the end: memory the measured work needed on top of the interpreter,
torch, the weights and the input (torch allocates outside ``tracemalloc``'s view). On CUDA,
``torch.cuda.max_memory_allocated`` is reported instead. Every time is the median of the repeats.

Measures:

* ``train``: one optimizer step at the recipe's batch shape (15 nights x 20 epochs, state
  carried): forward, class-weighted cross-entropy with padded positions at weight 0, L2 on
  the conv kernels, backward, clipping to global norm 5, Adam. Reported as epochs per second.
* ``night``: staging a 1000-epoch night (probabilities of every epoch), seconds.
* ``fast-peephole`` (train, night): the paper's peephole LSTM cell (the ``paper`` preset's)
  instead of the fused ``nn.LSTM`` of the other rows; its cost over ``fast``, in wall and
  in CPU time, is printed below the table (the budget: at most 10 % in both measures).
* ``*-bf16`` rows: the CNN under bfloat16 autocast (``fast-peephole-bf16``: the paper's
  cell so), where the device has bfloat16 arithmetic.
* ``online``: staging one epoch with the state carried, as an online stager does, ms per epoch.
* ``checks``: the signal checks staging adds before the network (per-epoch quality, the
  amplitude against the training nights) on the same 1000-epoch night, seconds; printed
  also as a share of ``night``/``fast`` (the issue's budget: under 5 %).

Besides the wall-clock median, the table gives the median CPU time of one run (all threads,
``time.process_time``): on a machine shared with other work it is the steadier figure.
``--rounds N`` runs the whole list N times, interleaved, and pools each row's repeats, so
that changing load on a shared machine falls on every row alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from plain import PlainTinySleepNet, copy_weights
from plain import predict_proba as plain_predict_proba
from tinysleepnet.config import Config
from tinysleepnet.io.quality import epoch_quality, live_epochs, median_amplitude_uv
from tinysleepnet.nn import model as model_module
from tinysleepnet.nn.inference import predict_proba
from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.stages import N_STAGES

#: Instruction sets named beside the CPU's model name (float32 and bfloat16 speed).
CPU_FEATURES = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")

#: (measure, implementation) pairs, in table order; ``plain`` is each measure's baseline.
RUNS = [
    ("train", "plain"),
    ("train", "fast"),
    ("train", "fast-bf16"),
    ("train", "fast-peephole"),
    ("train", "fast-peephole-bf16"),
    ("night", "plain"),
    ("night", "fast-ungrouped"),
    ("night", "fast"),
    ("night", "fast-bf16"),
    ("night", "fast-peephole"),
    ("night", "fast-peephole-bf16"),
    ("night", "onnx"),
    ("online", "plain"),
    ("online", "fast"),
    ("online", "onnx"),
    ("checks", "quality"),
]
NIGHT_EPOCHS = 1000
#: Timed runs per measure (after a warm-up).
REPEATS = {"train": 15, "night": 9, "online": 200, "checks": 9}
QUICK_REPEATS = {"train": 3, "night": 3, "online": 20, "checks": 3}


def cpu_name() -> str:
    """The CPU's model name, core count and vector instruction sets, for the table's rows."""
    name, flags = platform.processor() or platform.machine(), set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    features = [f for f in CPU_FEATURES if f in flags]
    return f"{name}, {os.cpu_count()} CPUs ({', '.join(features) or 'no AVX2'})"


def macs_per_epoch(config: Config) -> dict[str, int]:
    """Multiply-adds per 30-s epoch of each layer, counted from the layer shapes."""
    n, units = config.n_filters, config.lstm_units
    kernel, stride = int(config.sfreq / 2), max(int(config.sfreq / 16), 1)
    length1 = -(-config.epoch_samples // stride)
    length2 = -(-length1 // 8)
    features = -(-length2 // 4) * n
    return {
        "conv1": length1 * n * kernel,
        "conv2-4": 3 * length2 * n * n * 8,
        "lstm": 4 * units * (features + units),
        "classifier": units * N_STAGES,
    }


def bench_config(impl: str) -> Config:
    """The network measured: the paper's, with the fused LSTM of the plain port (whose
    weights it shares) except in the ``*-peephole*`` rows, which measure the paper's cell."""
    return Config(peepholes="peephole" in impl)


def _models(
    impl: str, config: Config, device: torch.device
) -> tuple[TinySleepNet, PlainTinySleepNet]:
    torch.manual_seed(0)
    fast = TinySleepNet(config).to(device)
    plain = PlainTinySleepNet(config.replace(peepholes=False)).to(device)
    if not config.peepholes:
        copy_weights(fast, plain)
    return fast, plain


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _train_step(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    state: tuple[torch.Tensor, torch.Tensor],
    config: Config,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of the recipe; returns the detached state for the next chunk."""
    x, y, weight = batch
    logits, (h, c) = model(x, state)
    class_weights = torch.tensor(config.class_weights, device=x.device)
    ce = F.cross_entropy(logits.reshape(-1, N_STAGES), y.reshape(-1), reduction="none")
    weight = weight.reshape(-1) * class_weights[y.reshape(-1)]
    loss = (ce * weight).sum() / weight.sum().clamp_min(1.0)
    loss = loss + config.l2_weight * sum((w**2).sum() for w in model.conv_kernels()) / 2
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
    optimizer.step()
    return h.detach(), c.detach()


def _train(impl: str, config: Config, device: torch.device, repeats: int) -> Callable[[], None]:
    fast, plain = _models(impl, config, device)
    model = plain if impl == "plain" else fast
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(0)
    shape = (config.batch_nights, config.seq_len)
    x = (torch.randn(*shape, config.epoch_samples, generator=generator) * 30).to(device)
    y = torch.randint(0, N_STAGES, shape, generator=generator).to(device)
    weight = torch.ones(shape, device=device)
    weight[-3:, 12:] = 0  # three nights end inside the chunk
    state = fast.initial_state(config.batch_nights, device)

    def step() -> None:
        nonlocal state
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=impl.endswith("bf16")):
            state = _train_step(model, optimizer, (x, y, weight), state, config)

    return step


def _night(impl: str, config: Config, device: torch.device) -> Callable[[], None]:
    fast, plain = _models(impl, config, device)
    fast.eval()
    rng = np.random.default_rng(0)
    night = [rng.normal(0, 30, (NIGHT_EPOCHS, config.epoch_samples)).astype(np.float32)]
    if impl == "plain":
        return lambda: plain_predict_proba(plain, night)
    if impl == "onnx":
        onnx_model = _onnx_model(fast)
        return lambda: predict_proba(onnx_model, night)
    if impl == "fast-ungrouped":  # the CNN over all epochs at once, as before grouping
        model_module.FEATURE_CHUNK = 10**9
    precision = "bfloat16" if impl.endswith("bf16") else "float32"
    return lambda: predict_proba(fast, night, precision=precision)


def _online(impl: str, config: Config, device: torch.device) -> Callable[[], None]:
    fast, plain = _models(impl, config, device)
    model: Any = plain.eval() if impl == "plain" else fast.eval()
    if impl == "onnx":
        model = _onnx_model(fast)
    rng = np.random.default_rng(0)
    epochs = rng.normal(0, 30, (64, config.epoch_samples)).astype(np.float32)
    state = fast.initial_state(1, device)
    context = torch.no_grad if impl == "plain" else torch.inference_mode
    count = 0

    def one_epoch() -> None:
        nonlocal state, count
        with context():
            x = torch.as_tensor(epochs[count % len(epochs)], device=device)[None, None]
            logits, state = model(x, state)
            torch.softmax(logits, dim=-1).cpu()
        count += 1

    return one_epoch


def _checks(impl: str, config: Config, device: torch.device) -> Callable[[], None]:
    """What :func:`~tinysleepnet.prediction.stage.stage` runs on a night besides the network."""
    rng = np.random.default_rng(0)
    night = rng.normal(0, 30, (NIGHT_EPOCHS, config.epoch_samples)).astype(np.float32)

    def check() -> None:
        live_epochs(night)
        quality = epoch_quality(night)
        median_amplitude_uv(night, quality != "flat")

    return check


def _onnx_model(model: TinySleepNet) -> Any:
    from tinysleepnet.nn.export import export_onnx
    from tinysleepnet.nn.onnx_backend import OnnxModel

    path = Path(tempfile.mkdtemp()) / "model.onnx"
    export_onnx(model, path)
    return OnnxModel(path, threads=torch.get_num_threads())


def measure(task: str, impl: str, repeats: int, threads: int, device_name: str) -> dict[str, Any]:
    """Times (s) of ``repeats`` warm runs of one measurement and its extra peak memory (MiB)."""
    torch.set_num_threads(threads)
    device = torch.device(device_name)
    config = bench_config(impl)
    build = {"train": _train, "night": _night, "online": _online, "checks": _checks}[task]
    work = build(impl, config, device, repeats) if task == "train" else build(impl, config, device)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for _ in range(3 if task != "online" else 10):  # warm-up: allocator, oneDNN kernels
        work()
    times, cpu_times = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        work()
        _sync(device)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    if device.type == "cuda":
        peak_mib = torch.cuda.max_memory_allocated(device) / 2**20
    else:  # ru_maxrss is in KiB on Linux
        peak_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    return {
        "task": task,
        "impl": impl,
        "times": times,
        "cpu_times": cpu_times,
        "peak_mib": peak_mib,
    }


def _agreement(threads: int) -> dict[str, float]:
    """Stage agreement and largest probability gap of the bf16 and ONNX paths vs float32."""
    torch.set_num_threads(threads)
    config = bench_config("fast")
    fast, _ = _models("fast", config, torch.device("cpu"))
    fast.eval()
    rng = np.random.default_rng(1)
    night = [rng.normal(0, 30, (NIGHT_EPOCHS, config.epoch_samples)).astype(np.float32)]
    reference = predict_proba(fast, night)[0]
    figures = {}
    for name, probs in (
        ("bf16", predict_proba(fast, night, precision="bfloat16")[0]),
        ("onnx", predict_proba(_onnx_model(fast), night)[0]),
    ):
        figures[f"{name}_same_stage"] = float(np.mean(probs.argmax(1) == reference.argmax(1)))
        figures[f"{name}_max_prob_diff"] = float(np.abs(probs - reference).max())
    return figures


def _run_worker(task: str, impl: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", task, impl, "--threads", str(args.threads)]
    command += ["--repeats", str(args.repeats[task]), "--device", args.device]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"task": task, "impl": impl, "error": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _pooled(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One row's measurements from several rounds: the repeats together, the largest peak."""
    if any("error" in part for part in parts):
        return next(part for part in parts if "error" in part)
    pooled = dict(parts[0])
    pooled["times"] = [t for part in parts for t in part["times"]]
    pooled["cpu_times"] = [t for part in parts for t in part["cpu_times"]]
    pooled["peak_mib"] = max(part["peak_mib"] for part in parts)
    return pooled


def _row(result: dict[str, Any], baseline: dict[str, Any] | None) -> list[str]:
    task, impl = result["task"], result["impl"]
    if "error" in result:
        return [task, impl, "failed: " + result["error"][:60], "", "", "", ""]
    seconds = median(result["times"])
    epochs = Config().batch_nights * Config().seq_len
    if task == "train":
        figure, unit, value = f"{epochs / seconds:,.0f}", "epochs/s", epochs / seconds
    elif task in ("night", "checks"):
        figure, unit, value = f"{seconds:.3f}", f"s / {NIGHT_EPOCHS}-epoch night", 1 / seconds
    else:
        figure, unit, value = f"{seconds * 1e3:.2f}", "ms / epoch", 1 / seconds
    speedup = ""
    if baseline is not None and "error" not in baseline and task != "checks":
        base = median(baseline["times"])
        base_value = (epochs if task == "train" else 1) / base
        speedup = f"{value / base_value:.2f}x"
    cpu = f"{median(result['cpu_times']) * 1e3:.1f}"
    return [task, impl, figure, unit, speedup, cpu, f"{result['peak_mib']:.0f}"]


def _print_table(rows: list[list[str]]) -> None:
    header = ["measure", "implementation", "median", "unit", "vs plain", "CPU ms", "peak MiB"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def _print_peephole_cost(results: list[dict[str, Any]]) -> None:
    """How much slower the paper's peephole cell is than the fused LSTM, per measure."""
    done = {(r["task"], r["impl"]): r for r in results if "error" not in r}
    for task in ("train", "night"):
        if (task, "fast-peephole") in done and (task, "fast") in done:
            cell, fused = done[task, "fast-peephole"], done[task, "fast"]
            wall = median(cell["times"]) / median(fused["times"]) - 1
            cpu = median(cell["cpu_times"]) / median(fused["cpu_times"]) - 1
            print(
                f"peephole LSTM vs fused, {task}: {100 * wall:+.1f} % wall time, "
                f"{100 * cpu:+.1f} % CPU time (budget +10 %)"
            )


def _print_checks_share(results: list[dict[str, Any]]) -> None:
    """The signal checks' time as a share of staging a clean night with the fast path."""
    times = {(r["task"], r["impl"]): median(r["times"]) for r in results if "error" not in r}
    if ("checks", "quality") in times and ("night", "fast") in times:
        share = times["checks", "quality"] / times["night", "fast"]
        print(f"signal checks: {share:.1%} of staging a clean {NIGHT_EPOCHS}-epoch night")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few repeats: a smoke run")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument(
        "--only", help="comma-separated measures to run (train, night, online, checks)"
    )
    parser.add_argument("--impls", help="comma-separated implementations to run (default all)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="run the list this many times, interleaved"
    )
    parser.add_argument("--worker", nargs=2, metavar=("MEASURE", "IMPL"), help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(*args.worker, args.repeats, args.threads, args.device)))
        return
    args.repeats = QUICK_REPEATS if args.quick else REPEATS
    config = Config()
    n_params = sum(p.numel() for p in TinySleepNet(config).parameters())
    macs = macs_per_epoch(config)
    print(f"CPU: {cpu_name()}")
    print(f"torch {torch.__version__}, {args.threads} threads, device {args.device}")
    print(f"parameters: {n_params:,}")
    print(
        "multiply-adds per epoch: "
        + ", ".join(f"{k} {v / 1e6:.2f} M" for k, v in macs.items())
        + f"; total {sum(macs.values()) / 1e6:.1f} M"
    )
    runs = [run for run in RUNS if args.device == "cpu" or run[1] != "onnx"]
    if args.only:
        runs = [run for run in runs if run[0] in args.only.split(",")]
    if args.impls:
        runs = [run for run in runs if run[1] in args.impls.split(",")]
    results = [_run_worker(*run, args) for run in runs]
    for _ in range(args.rounds - 1):
        for i, run in enumerate(runs):
            results[i] = _pooled([results[i], _run_worker(*run, args)])
    rows, baselines = [], {}
    for (task, impl), result in zip(runs, results, strict=True):
        if impl == "plain":
            baselines[task] = result
        rows.append(_row(result, baselines.get(task) if impl != "plain" else None))
    print()
    _print_table(rows)
    _print_checks_share(results)
    _print_peephole_cost(results)
    agreement = _agreement(args.threads) if args.device == "cpu" else {}
    for name, value in agreement.items():
        print(f"{name}: {value:.4g}")
    if args.json:
        figures = {
            "cpu": cpu_name(),
            "torch": torch.__version__,
            "threads": args.threads,
            "device": args.device,
            "parameters": n_params,
            "macs_per_epoch": macs,
            "results": results,
            "agreement_vs_float32": agreement,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
