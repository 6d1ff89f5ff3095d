"""Where the paper's peephole cell spends a night's staging, against the fused ``nn.LSTM``.

Usage::

    python benchmarks/peephole_profile.py              # 1 thread, 20 interleaved rounds
    python benchmarks/peephole_profile.py --threads 2 --rounds 40

The recurrent part of staging a 1000-epoch night as ``predict_proba`` runs it (one night,
chunks of 256 epochs, state carried, ``torch.inference_mode``), on random CNN features of
the network's width (2048) and 128 units: the whole cell (``PeepholeLSTM`` against
``nn.LSTM``), then the peephole cell's parts: the input projection of all epochs with
``F.linear`` (MKL, what the package uses) and with oneDNN's product (faster here, but its
sums change with the thread count, so the package does not use it), and the
time loop in Python and compiled by TorchScript (``_peephole_steps``,
``_compiled_steps()``), with the time TorchScript takes to compile it; and the whole
network, as ``run.py``'s ``night`` and ``train`` rows measure it (``fast`` against
``fast-peephole``), here alternating in one process. Every row's median wall-clock and CPU
time (``time.process_time``) over the rounds, all rows interleaved. The ``cell`` and
``network`` rows use only the public API, so they run on older versions too.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from run import NIGHT_EPOCHS, _night, _train, bench_config, cpu_name
from tinysleepnet.config import Config
from tinysleepnet.nn import model
from tinysleepnet.nn.model import PeepholeLSTM, TinySleepNet

#: Epochs per forward call in ``predict_proba``.
CHUNK = 256


def _cell_night(cell: torch.nn.Module, x: torch.Tensor) -> Callable[[], None]:
    """The cell over one night, chunk by chunk with the state carried."""
    units = Config().lstm_units

    @torch.inference_mode()
    def run() -> None:
        state = (torch.zeros(1, 1, units), torch.zeros(1, 1, units))
        for start in range(0, x.shape[1], CHUNK):
            _, state = cell(x[:, start : start + CHUNK], state)

    return run


def _parts(peephole: PeepholeLSTM, x: torch.Tensor) -> dict[str, Callable[[], None]]:
    """The peephole cell's input projection and time loop, each alone (this version's)."""
    weight, bias = peephole.input_proj.weight, peephole.input_proj.bias
    chunks = x.split(CHUNK, dim=1)
    units = peephole.hidden_size
    loop_inputs = []
    for chunk in chunks:
        steps = chunk.shape[1]
        cells, hidden = torch.zeros(steps + 1, 1, units), torch.zeros(steps + 1, 1, units)
        loop_inputs.append((torch.randn(steps, 1, 4, units), cells, hidden))
    weight_t = peephole.hidden_proj.weight.detach().t().contiguous()
    peep = peephole.peep.detach()

    def loop(steps: Callable[..., None]) -> Callable[[], None]:
        @torch.inference_mode()
        def run() -> None:
            for acts, cells, hidden in loop_inputs:
                steps(acts.clone(), cells, hidden, weight_t, peep)

        return run

    @torch.inference_mode()
    def projection(product: Callable[..., torch.Tensor]) -> None:
        for chunk in chunks:
            product(chunk, weight, bias)

    return {
        "input projection, F.linear (MKL)": lambda: projection(F.linear),
        "input projection, oneDNN": lambda: projection(_onednn_linear),
        "time loop, Python": loop(model._peephole_steps),
        "time loop, TorchScript": loop(model._compiled_steps()),
    }


def _onednn_linear(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None
) -> torch.Tensor:
    """oneDNN's float32 product (torch's private ``mkldnn._linear_pointwise``)."""
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--rounds", type=int, default=20, help="interleaved rounds (default 20)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"CPU: {cpu_name()}")
    print(f"torch {torch.__version__}, {args.threads} threads")
    config = Config()
    features = TinySleepNet(config).n_features
    torch.manual_seed(0)
    x = torch.randn(1, NIGHT_EPOCHS, features)
    peephole = PeepholeLSTM(features, config.lstm_units).eval()
    fused = torch.nn.LSTM(features, config.lstm_units, batch_first=True).eval()
    rows = {
        "cell, nn.LSTM (fused)": _cell_night(fused, x),
        "cell, PeepholeLSTM": _cell_night(peephole, x),
    }
    if hasattr(model, "_compiled_steps"):
        start, cpu_start = time.perf_counter(), time.process_time()
        model._compiled_steps()
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        print(f"TorchScript compiles the time loop in {wall:.3f} s ({cpu:.3f} s CPU)")
        rows |= _parts(peephole, x)
    cpu = torch.device("cpu")
    for impl, name in (("fast", "fused"), ("fast-peephole", "paper's cell")):
        rows[f"network, staging a night, {name}"] = _night(impl, bench_config(impl), cpu)
    for impl, name in (("fast", "fused"), ("fast-peephole", "paper's cell")):
        rows[f"network, training step, {name}"] = _train(impl, bench_config(impl), cpu, 1)
    times: dict[str, list[float]] = {name: [] for name in rows}
    cpu_times: dict[str, list[float]] = {name: [] for name in rows}
    for work in rows.values():  # warm-up
        work()
    for _ in range(args.rounds):
        for name, work in rows.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            work()
            times[name].append(time.perf_counter() - start)
            cpu_times[name].append(time.process_time() - cpu_start)
    print(f"\nms (wall / CPU); a {NIGHT_EPOCHS}-epoch night in chunks of {CHUNK}; a training step")
    for name in rows:
        wall_ms, cpu_ms = 1e3 * median(times[name]), 1e3 * median(cpu_times[name])
        print(f"{name:40s} {wall_ms:7.1f} / {cpu_ms:7.1f}")
    for measure in ("staging a night", "training step"):
        fused, cell = (f"network, {measure}, {name}" for name in ("fused", "paper's cell"))
        wall = median(times[cell]) / median(times[fused]) - 1
        cpu_ratio = median(cpu_times[cell]) / median(cpu_times[fused]) - 1
        print(f"paper's cell vs fused, {measure}: {wall:+.1%} wall, {cpu_ratio:+.1%} CPU")


if __name__ == "__main__":
    main()
