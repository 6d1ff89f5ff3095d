"""Sim-to-real transfer: a model trained on simulated nights only, staging one real night.

Usage::

    python benchmarks/transfer.py [REAL] [--work DIR] [--passes N] [--subjects N]
        [--threads N] [--lr LR] [--explain]

Simulates a Sleep-EDF-shaped cohort (:func:`~tinysleepnet.data.simulate.simulate_cohort`
following the packaged official hypnograms of subjects 1..N, both nights: never subject 0's,
so no scoring of the real night enters training), prepares it as Sleep-EDF is prepared,
trains TinySleepNet on it with the ``fast`` preset (the last subject's nights choose the
checkpoint), then stages the real night ``REAL`` (default: the repository's
``tests/fixtures/sleep-edf-real/``, SC4001E0: 841 epochs) and prints accuracy, Cohen's kappa,
macro-F1 and per-stage recall as Markdown. The real night's labels are used only to score.
What the simulator took from that night are summary statistics (per-stage spectra, channel
correlations, event rates and amplitudes; see :mod:`tinysleepnet.data.simulate`).

``--explain`` adds what the real epochs of each cell of the confusion look like (Fpz-Cz SD
and band powers, medians) beside the simulated training nights of each stage, to say which
real epochs the simulator did not prepare the model for.

Seeded; the prepared cohort and the run are kept in ``--work`` and reused.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from sim_vs_real import BANDS, band_powers, spectra
from tinysleepnet.config import preset
from tinysleepnet.data.nights import MANIFEST, load_nights
from tinysleepnet.data.prepare import prepare
from tinysleepnet.data.simulate import simulate_cohort
from tinysleepnet.nn.checkpoint import load_model
from tinysleepnet.nn.inference import predict_proba
from tinysleepnet.scoring.metrics import scores
from tinysleepnet.stages import STAGES
from tinysleepnet.training.fit import train

FIXTURE = Path(__file__).parents[1] / "tests" / "fixtures" / "sleep-edf-real"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("real", nargs="?", type=Path, default=FIXTURE)
    parser.add_argument("--work", type=Path, default=Path("transfer-benchmark"))
    parser.add_argument("--passes", type=int, default=8, help="passes over the training nights")
    parser.add_argument("--subjects", type=int, default=7, help="simulated subjects 1..N (<= 7)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated cohort")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--lr", type=float, default=None, help="peak learning rate (fast's)")
    parser.add_argument("--explain", action="store_true",
                        help="describe the real epochs of each confusion cell")  # fmt: skip
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    started, cpu = time.perf_counter(), time.process_time()
    work = args.work
    prepared = work / "prepared"
    if not (prepared / MANIFEST).is_file():
        subjects = range(1, args.subjects + 1)
        simulate_cohort(work / "recordings", subjects, from_official=True, seed=args.seed,
                        quirks=False, n_jobs=1)  # fmt: skip
        prepare(work / "recordings", prepared, progress=False, n_jobs=1)
    simulated_sec = time.process_time() - cpu
    nights = load_nights(prepared)
    last = nights[-1].subject
    train_nights = [n for n in nights if n.subject != last]
    valid_nights = [n for n in nights if n.subject == last]
    lr = {} if args.lr is None else {"lr": args.lr}
    config = preset("fast", max_passes=args.passes, patience=args.passes, threads=args.threads,
                    **lr)  # fmt: skip
    run = work / "run"
    if not (run / "best.pt").is_file():
        train(train_nights, valid_nights, config, run, progress=False)
    trained_sec = time.process_time() - cpu - simulated_sec
    real_dir = work / "real"
    if not (real_dir / MANIFEST).is_file():
        prepare(args.real, real_dir, progress=False, n_jobs=1)
    real = load_nights(real_dir)
    model = load_model(run / "best.pt")
    proba = predict_proba(model, [np.asarray(n.signal_uv) for n in real])
    truth = np.concatenate([n.stages for n in real])
    predicted = np.concatenate([p.argmax(axis=1) for p in proba])
    result = scores(truth, predicted)
    (work / "transfer_scores.json").write_text(json.dumps(result, indent=2))
    epochs = sum(len(n.stages) for n in train_nights)
    print(
        f"Model trained on the simulated cohort only ({len(train_nights)} nights, {epochs} "
        f"epochs, subjects {sorted({n.subject for n in train_nights})}; validation "
        f"subject {last}; `fast` preset, {args.passes} passes); staged one real night "
        f"({', '.join(n.name for n in real)}, {result['n_epochs']} epochs).\n"
    )
    print("| accuracy | kappa | MF1 | " + " | ".join(f"recall {s}" for s in STAGES) + " |")
    print("|---|---|---|" + "---|" * len(STAGES))
    recalls = [result["per_stage"][s]["recall"] for s in STAGES]
    print(
        f"| {result['acc']:.3f} | {result['kappa']:.3f} | {result['mf1']:.3f} | "
        + " | ".join(f"{r:.2f}" for r in recalls)
        + " |"
    )
    print("\nconfusion (rows expert W..REM, columns predicted):")
    for row in result["confusion"]:
        print("   ", row)
    if args.explain:
        real_epochs = np.concatenate([np.asarray(n.signal_uv) for n in real])
        explain(real_epochs, truth, predicted, train_nights)
    wall, total = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"\n{wall:.0f} s wall, {total:.0f} s CPU (simulate+prepare {simulated_sec:.0f} s, "
        f"train {trained_sec:.0f} s), torch threads {torch.get_num_threads()}"
    )


def describe(epochs: np.ndarray) -> list[float]:
    """Median Fpz-Cz SD (uV) and log10 band powers (uV^2, :data:`sim_vs_real.BANDS`)."""
    freqs, psd = spectra(epochs)
    powers = band_powers(freqs, psd)
    return [float(np.median(epochs.std(axis=1)))] + [
        float(np.median(np.log10(powers[band]))) for band in BANDS
    ]


def explain(
    real_epochs: np.ndarray, truth: np.ndarray, predicted: np.ndarray, train_nights: list
) -> None:
    """Print, per confusion cell of 10 or more real epochs and per stage of the simulated
    training nights (every 5th epoch), the medians of :func:`describe`."""
    header = "| epochs | n | SD (uV) | " + " | ".join(f"log10 {b}" for b in BANDS) + " |"
    print("\nwhat the epochs look like (Fpz-Cz, medians):\n")
    print(header)
    print("|---" * (3 + len(BANDS)) + "|")
    for expert, stage in enumerate(STAGES):
        for called, other in enumerate(STAGES):
            cell = (truth == expert) & (predicted == called)
            if cell.sum() >= 10:
                row = describe(real_epochs[cell])
                print(f"| real {stage} called {other} | {cell.sum()} | "
                      + " | ".join(f"{v:.2f}" for v in row) + " |")  # fmt: skip
    for k, stage in enumerate(STAGES):
        sim = np.concatenate([np.asarray(n.signal_uv)[n.stages == k][::5] for n in train_nights])
        print(f"| simulated {stage} (training nights) | {len(sim)} | "
              + " | ".join(f"{v:.2f}" for v in describe(sim)) + " |")  # fmt: skip


if __name__ == "__main__":
    main()
