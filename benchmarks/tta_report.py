"""Summarise training runs from their folders, finished or stopped: the time-to-accuracy table.

Usage::

    python benchmarks/tta_report.py tta/paper tta/paper_init=pytorch tta/fast
    python benchmarks/tta_report.py --passes 40 tta/paper tta/fast   # the first 40 passes only

Each folder is one run of :func:`tinysleepnet.training.fit.train` (as
``benchmarks/time_to_accuracy.py --out`` leaves them), read from its ``log.csv`` and
``config.json``. Runs stopped by hand are summarised over the passes they logged; with
``--passes N`` every run is cut to its first ``N``, which is what a run of ``N`` passes
without early stopping logs when the learning rate does not depend on the number of passes
(the paper recipe's constant rate; not ``fast``'s one-cycle schedule).

Printed: a line per run (passes logged; the passes at one stage, i.e. flagged as stalled;
the first pass with validation macro-F1 >= ``--target``; the pass the run's own checkpoint
rule keeps, and its macro-F1; the best macro-F1 of any pass; the seconds trained), then the
validation macro-F1 of every pass, ten passes a row.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from tinysleepnet.config import Config
from tinysleepnet.training.loop import keeps


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", type=Path, nargs="+", help="run folders (log.csv, config.json)")
    parser.add_argument("--passes", type=int, help="only the first PASSES passes of each run")
    parser.add_argument("--target", type=float, default=0.5, help="macro-F1 to reach")
    return parser.parse_args()


def ranges(passes: list[int]) -> str:
    """``[1, 2, 3, 7]`` as ``"1-3, 7"``; ``"-"`` when empty."""
    spans: list[list[int]] = []
    for number in passes:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in spans) or "-"


def kept_pass(log: pd.DataFrame, monitor: str) -> int:
    """The pass a run's checkpoint rule keeps, replayed on its logged validation scores."""
    best: dict[str, float] | None = None
    kept = 0
    for number, acc, mf1 in zip(log["pass"], log["valid_acc"], log["valid_mf1"], strict=True):
        valid = {"acc": acc, "mf1": mf1}
        if keeps(valid, best, monitor):
            best, kept = valid, int(number)
    return kept


def summary(folder: Path, passes: int | None, target: float) -> tuple[str, list[float]]:
    """One run's line of the table and its validation macro-F1 per pass."""
    log = pd.read_csv(folder / "log.csv")
    if passes is not None:
        log = log[log["pass"] <= passes]
    config = Config.load(folder / "config.json")
    mf1 = log["valid_mf1"].tolist()
    reached = next((int(p) for p, v in zip(log["pass"], mf1, strict=True) if v >= target), None)
    kept = kept_pass(log, config.monitor)
    best = int(log["pass"][log["valid_mf1"].idxmax()])
    line = (
        f"| {folder.name} | {len(log)} | {ranges(log['pass'][log['stalled'] == 1].tolist())} "
        f"| {reached or '-'} | {kept} ({mf1[kept - 1]:.3f}) | {max(mf1):.3f} (pass {best}) "
        f"| {log['seconds'].sum():.0f} |"
    )
    return line, mf1


def main() -> None:
    args = parse_args()
    rows = {folder.name: summary(folder, args.passes, args.target) for folder in args.runs}
    print(
        f"| run | passes | one stage (stall warnings) | first pass MF1 >= {args.target} "
        "| kept pass (MF1) | best MF1 of any pass | seconds |\n|---|---|---|---|---|---|---|"
    )
    print("\n".join(line for line, _ in rows.values()))
    longest = max(len(mf1) for _, mf1 in rows.values())
    for first in range(0, longest, 10):
        numbers = range(first + 1, min(first + 10, longest) + 1)
        print(f"\n| pass | {' | '.join(map(str, numbers))} |\n|---{'|---' * len(numbers)}|")
        for name, (_, mf1) in rows.items():
            cells = [f"{mf1[n - 1]:.3f}" if n <= len(mf1) else "" for n in numbers]
            print(f"| {name} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
