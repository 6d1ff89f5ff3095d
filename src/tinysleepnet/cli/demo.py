"""``tinysleepnet demo``: the whole pipeline on the embedded default cohort or on real files."""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from pathlib import Path

from ..text import counted
from ..workflows.demo import demo_cohort, demo_config
from ..workflows.layout import RunFolder
from ._config import (
    FOLDS,
    JOBS,
    add_config_arguments,
    config_if_given,
    config_overrides,
    use_threads,
)


def _description() -> str:
    """What the demo runs, from its settings (one home: ``tinysleepnet.workflows.demo``)."""
    small, full = demo_cohort(), demo_cohort(full=True)
    config, full_config = demo_config(), demo_config(full=True)
    return textwrap.fill(
        "Run the whole pipeline in five stages: [1/5] simulate "
        f"{counted(small.n_nights, 'night')} of Sleep-EDF-shaped EDF files whose EEG follows "
        "the official hypnograms of Sleep-EDF subjects 0-7 (shipped with the package), "
        "[2/5] prepare them, [3/5] cross-validate TinySleepNet subject-wise "
        f"({counted(small.n_folds, 'fold')}, {counted(config.max_passes, 'pass')}), "
        "[4/5] evaluate the pooled test epochs and [5/5] stage one test recording as "
        "'tinysleepnet predict' does. A few minutes on 2 CPU cores. --full runs the "
        f"full-size demo ({counted(full.n_nights, 'night')}, "
        f"{counted(full.n_folds, 'fold')}, {counted(full_config.max_passes, 'pass')}). "
        "With --data it does the same on real Sleep-EDF files (paper recipe, one subject per "
        "fold up to 20). Rerunning the same command resumes.",
        width=88,
    )


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="simulate (or read), prepare, cross-validate, evaluate and stage in one go",
        description=_description(),
        epilog=(
            "examples:\n  tinysleepnet demo\n  tinysleepnet demo --full\n"
            "  tinysleepnet demo --data ~/sleep-edf --out edf20"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", help="folder of Sleep-EDF PSG/hypnogram EDF files")
    parser.add_argument("--out", help="working folder (default: demo-run; with --full, demo-full)")
    parser.add_argument(
        "--full",
        action="store_true",
        help="the full-size demo, as described above (about 1,100 CPU-seconds: some 20 min "
        "on 2 cores without bfloat16)",
    )
    parser.add_argument("--folds", type=FOLDS, help="number of subject-wise folds")
    parser.add_argument("--jobs", type=JOBS, default=2, help="nights processed in parallel")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_config_arguments(
        parser,
        defaults=demo_config(),
        title="model and training settings (defaults: the demo's, tinysleepnet.workflows."
        "demo.demo_config; with --data the paper's recipe)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..evaluation.run import CvRun
    from ..workflows.demo import run_pipeline

    started = time.perf_counter()
    args.out = args.out or ("demo-full" if args.full else "demo-run")
    size = "" if args.data else f", writing about {demo_cohort(args.full).disk_mb:,} MB"
    # Said before torch loads (seconds on a busy machine).
    print(
        f"tinysleepnet demo: working in {args.out}/{size}; an interrupted run resumes when rerun",
        file=sys.stderr,
        flush=True,
    )
    use_threads(args.config_threads)
    config = config_if_given(args)
    if config is not None and args.data is None and args.preset is None:
        # Flags alone adjust the embedded demo's settings rather than the paper's.
        config = demo_config(args.full).replace(**config_overrides(args))
    result = run_pipeline(
        args.out,
        args.data,
        n_folds=args.folds,
        config=config,
        full=args.full,
        n_jobs=args.jobs,
        progress=not args.quiet,
    )
    print(result["counts_table"])
    print()
    print(result["summary"])
    if calibration := result.get("calibration"):
        temperatures = ", ".join(f"{t:.2f}" for t in calibration["temperatures"].values())
        print(
            f"\ncalibration: expected calibration error of the test epochs "
            f"{100 * calibration['ece_before']:.1f} % before, "
            f"{100 * calibration['ece_after']:.1f} % after each fold's temperature "
            f"({temperatures}; fitted on its validation nights)"
        )
    staged = result["staged"]
    agreement = staged["agreement"]
    print()
    print(f"staged {staged['paths']['csv'].parent}/:", end="")
    if agreement is not None:
        print(f" kappa {agreement['kappa']:.3f} against the expert hypnogram", end="")
    print(f"\n  as: {staged['command']}")
    folder = RunFolder(Path(args.out), "demo")
    print(f"outputs: {folder.evaluation}/ (scores, confusion, reliability)")
    print(f"disk: {_size_text(Path(args.out))}")
    print(f"time: {time.perf_counter() - started:.0f} s")
    print(
        "next, with real recordings: tinysleepnet predict NIGHT.edf --model "
        f"{CvRun(folder.cv).fold(0).best_path} --out scored/ (a model of simulated EEG: for real "
        "EEG train on real nights, see README 'Reproduce the paper on Sleep-EDF')"
    )
    return 0


def _size_text(folder: Path) -> str:
    """``"demo-run/ 480 MB (recordings 380 MB, prepared 90 MB, run 10 MB)"``."""

    def size(path: Path) -> int:
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())

    parts = [(sub.name, size(sub)) for sub in sorted(folder.iterdir()) if sub.is_dir()]
    total = sum(n for _, n in parts)
    inner = ", ".join(f"{name} {n / 1e6:,.0f} MB" for name, n in parts)
    return f"{folder}/ {total / 1e6:,.0f} MB ({inner}); delete it when done"
