"""``tinysleepnet demo``: the whole pipeline on the embedded default cohort or on real files."""

from __future__ import annotations

import argparse

from ._config import FOLDS, JOBS, add_config_arguments, config_if_given, config_overrides


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="simulate (or read), prepare, cross-validate and evaluate in one go",
        description=(
            "Run the whole pipeline. Without --data it simulates 16 Sleep-EDF-shaped nights "
            "whose EEG follows the official hypnograms of Sleep-EDF subjects 0-7 (shipped with "
            "the package), then prepares them, cross-validates TinySleepNet subject-wise (4 folds, "
            "5 passes; see tinysleepnet.pipeline.demo_config) and prints the scores. With "
            "--data it does the same on real Sleep-EDF files (paper recipe, one subject per "
            "fold up to 20). Rerunning resumes."
        ),
        epilog="examples:\n  tinysleepnet demo\n  tinysleepnet demo --data ~/sleep-edf --out edf20",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", help="folder of Sleep-EDF PSG/hypnogram EDF files")
    parser.add_argument("--out", default="demo-run", help="working folder (default: demo-run)")
    parser.add_argument("--folds", type=FOLDS, help="number of subject-wise folds")
    parser.add_argument("--jobs", type=JOBS, default=2, help="nights processed in parallel")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_config_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..pipeline import demo_config, run_pipeline

    config = config_if_given(args)
    if config is not None and args.data is None and args.preset is None:
        # Flags alone adjust the embedded demo's settings rather than the paper's.
        config = demo_config().replace(**config_overrides(args))
    result = run_pipeline(
        args.out,
        args.data,
        n_folds=args.folds,
        config=config,
        n_jobs=args.jobs,
        progress=not args.quiet,
    )
    print(result["counts_table"])
    print()
    print(result["summary"])
    print(f"outputs: {args.out}/run/evaluation/")
    return 0
