"""Time to accuracy: passes the ``fast`` preset needs to match the paper recipe's best score.

Usage::

    python benchmarks/time_to_accuracy.py --paper-passes 60             # short nights, ~15 min
    python benchmarks/time_to_accuracy.py --official --paper-passes 60  # real-length, ~1 h
    python benchmarks/time_to_accuracy.py --paper-passes 10             # smoke run
    python benchmarks/time_to_accuracy.py --fast-only --fast-set lr=3e-4 --out work  # a candidate
    python benchmarks/time_to_accuracy.py --paper-only --paper-set init=pytorch      # a variant

A simulated cohort is written, prepared like Sleep-EDF, and split into training and
validation subjects with the cross-validation's own rule: by default ``--subjects`` subjects
x 2 nights of ``--n-epochs`` 30-s epochs; with ``--official``, the demo's cohort of 16
real-length nights following the official hypnograms of Sleep-EDF subjects 0-7. The paper
recipe (the default :class:`~tinysleepnet.config.Config`) then trains for
``--paper-passes`` passes, and the ``fast`` preset for a fifth of them (its one-cycle
schedule spans exactly those). Early stopping is off for both, so every pass is scored.
The table gives each pass's validation macro-F1, the paper recipe's best and its pass, the
first pass where the fast preset reaches that best, and the wall time of each.

``--paper-set`` / ``--fast-set FIELD=VALUE`` change a setting of either run (each such run
gets its own folder), and ``--out`` keeps the work: a rerun reuses the prepared cohort and
every finished run, so candidates can be compared against one paper run. Runs share the
machine with whatever else runs on it: passes are the figure that matters, wall times are
indicative.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import torch

from tinysleepnet.cli._config import add_config_arguments, config_overrides
from tinysleepnet.config import Config, preset
from tinysleepnet.data.nights import Night, load_nights
from tinysleepnet.data.prepare import prepare
from tinysleepnet.data.simulate import simulate_cohort
from tinysleepnet.evaluation.folds import split_validation
from tinysleepnet.training.fit import train


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", type=int, default=10, help="simulated subjects")
    parser.add_argument("--n-epochs", type=int, default=360, help="30-s epochs per night")
    parser.add_argument("--paper-passes", type=int, default=40, help="passes of the paper recipe")
    parser.add_argument("--valid-frac", type=float, default=0.2, help="validation subjects")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated cohort")
    parser.add_argument(
        "--official",
        action="store_true",
        help="use the demo's cohort: real-length nights following the 16 official hypnograms",
    )
    for name in ("paper", "fast"):
        parser.add_argument(
            f"--{name}-set",
            action="append",
            default=[],
            metavar="FIELD=VALUE",
            help=f"change a setting of the {name} run (repeatable), e.g. to try a candidate",
        )
    only = parser.add_mutually_exclusive_group()
    only.add_argument(
        "--fast-only", action="store_true", help="skip the paper recipe (to try candidates)"
    )
    only.add_argument(
        "--paper-only",
        action="store_true",
        help="skip the fast preset (e.g. a second paper variant run beside the first)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="working folder (default: a temporary one); rerunning with the same folder "
        "reuses the prepared cohort and every finished run",
    )
    parser.add_argument("--json", type=Path, help="also save the figures to this file")
    return parser.parse_args()


def simulated_nights(
    out: Path, subjects: int, n_epochs: int, seed: int, official: bool
) -> list[Night]:
    """Simulate and prepare a cohort (reusing a folder prepared by an earlier run).

    ``official``: the demo's cohort instead, real-length nights following the official
    hypnograms of Sleep-EDF subjects 0-7 (``subjects`` and ``n_epochs`` are then ignored).
    """
    if not (out / "prepared" / "manifest.csv").is_file():
        if official:
            simulate_cohort(out / "raw", range(8), from_official=True, seed=seed, n_jobs=2)
        else:
            simulate_cohort(out / "raw", range(subjects), n_epochs=n_epochs, seed=seed, n_jobs=2)
        prepare(out / "raw", out / "prepared", progress=False)
    return load_nights(out / "prepared")


def run(name: str, config: Config, nights: dict[str, list[Night]], out: Path) -> dict[str, Any]:
    """Train one configuration without early stopping; its pass-by-pass figures."""
    config = config.replace(patience=config.max_passes)
    print(f"training {name}: {config.max_passes} passes", flush=True)
    result = train(nights["train"], nights["valid"], config, out / name, progress=False)
    return {
        "config": config.to_dict(),
        "valid_mf1": result.log["valid_mf1"].tolist(),
        "valid_acc": result.log["valid_acc"].tolist(),
        "best_mf1": result.best_score["mf1"],
        "best_pass": result.best_pass,
        "seconds": float(result.log["seconds"].sum()),
    }


def first_pass_reaching(mf1: list[float], target: float) -> int | None:
    """The first pass (1-based) with a macro-F1 of at least ``target``."""
    return next((i + 1 for i, value in enumerate(mf1) if value >= target), None)


def print_table(
    paper: dict[str, Any] | None, fast: dict[str, Any] | None, reached: int | None
) -> None:
    runs = {
        name: run["valid_mf1"] if run else [] for name, run in (("paper", paper), ("fast", fast))
    }
    print("\n| pass | paper valid MF1 | fast valid MF1 |\n|---|---|---|")
    for i in range(max(map(len, runs.values()))):
        cells = [f"{mf1[i]:.3f}" if i < len(mf1) else "" for mf1 in runs.values()]
        print(f"| {i + 1} | {' | '.join(cells)} |")
    for name, result in (("paper recipe", paper), ("fast preset", fast)):
        if result is not None:
            print(
                f"\n{name}: best valid MF1 {result['best_mf1']:.3f} at pass "
                f"{result['best_pass']} of {len(result['valid_mf1'])}, {result['seconds']:.0f} s"
            )
    if paper is not None and fast is not None:
        print(
            "fast preset reaches the paper's best at "
            + (f"pass {reached}" if reached else "no pass")
        )


def candidate(name: str, settings: list[str], max_passes: int) -> tuple[str, Config]:
    """A preset with ``FIELD=VALUE`` changes, and the name of its run folder."""
    parser = argparse.ArgumentParser(prog=f"--{name}-set")
    add_config_arguments(parser)
    flags = []
    for setting in settings:
        field_name, _, value = setting.partition("=")
        flag = field_name.replace("_", "-")
        if value.lower() in ("true", "false"):  # boolean settings are switches
            flags.append(f"--{flag}" if value.lower() == "true" else f"--no-{flag}")
        else:
            flags += [f"--{flag}", value]
    changes = config_overrides(parser.parse_args(flags))
    folder = "_".join([name, *(f"{k}={v}" for k, v in changes.items())])
    return folder, preset(name, **{"max_passes": max_passes, **changes})


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    paper_name, paper_config = candidate("paper", args.paper_set, args.paper_passes)
    fast_name, fast_config = candidate("fast", args.fast_set, args.paper_passes // 5)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        cohort = simulated_nights(out, args.subjects, args.n_epochs, args.seed, args.official)
        train_subjects, _ = split_validation(
            [n.subject for n in cohort], valid_frac=args.valid_frac, seed=args.seed
        )
        nights = {
            "train": [n for n in cohort if n.subject in train_subjects],
            "valid": [n for n in cohort if n.subject not in train_subjects],
        }
        print(
            f"{len(nights['train'])} training and {len(nights['valid'])} validation nights, "
            f"{sum(len(n.stages) for n in nights['train'])} training epochs",
            flush=True,
        )
        paper = None
        if not args.fast_only:
            paper = run(paper_name, paper_config, nights, out)
        fast = None
        if not args.paper_only:
            fast = run(fast_name, fast_config, nights, out)
    reached = first_pass_reaching(fast["valid_mf1"], paper["best_mf1"]) if paper and fast else None
    print_table(paper, fast, reached)
    if args.json:
        figures = {"args": {k: str(v) for k, v in vars(args).items()}, "paper": paper}
        args.json.write_text(json.dumps({**figures, "fast": fast, "fast_reaches_at": reached}))


if __name__ == "__main__":
    main()
