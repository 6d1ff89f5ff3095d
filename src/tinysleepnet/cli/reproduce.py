"""``tinysleepnet reproduce``: one row of the paper's table, end to end, compared with it."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data.datasets import PROTOCOLS
from ._config import COUNT, FOLD_INDEX, FOLDS, JOBS

EPILOG = (
    """\
rows: """
    + ", ".join(PROTOCOLS)
    + """

examples:
  # Sleep-EDF-20: downloads the 39 nights from PhysioNet into data/, 20 folds
  tinysleepnet reproduce sleep-edf-20 --data data/sleep-edf --out runs/edf20

  # MASS-SS3 from your copy of MASS (credentialed), 31 folds, 4 at once on one GPU
  tinysleepnet reproduce mass-ss3 --data /data/MASS/SS3 --out runs/ss3 --parallel 4

  # a cluster array: download and prepare once, then one fold per job (all share --out);
  # the job that finishes the last fold writes the comparison
  tinysleepnet reproduce sleep-edf-78 --data data/sleep-edf --out runs/edf78 --prepare-only
  tinysleepnet reproduce sleep-edf-78 --data data/sleep-edf --out runs/edf78 --fold $I

Each stage resumes: a rerun continues where the last one stopped. The comparison is written
to OUT/evaluation/paper_comparison.md and .json once every fold is done.
"""
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reproduce",
        help="run a row of the paper's table end to end and compare with it",
        description=(
            "Download (Sleep-EDF), prepare with the row's channel, rate and epoch length, run\n"
            "the row's subject-wise folds with the paper's recipe, evaluate, and compare ACC,\n"
            "MF1, kappa, per-stage F1 and the pooled test-epoch count with the paper."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("row", choices=PROTOCOLS, metavar="ROW", help="row of the paper's table")
    parser.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="recordings (Sleep-EDF: downloaded here when missing, default OUT/recordings; "
        "MASS: required)",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="RUN", help="run folder")
    parser.add_argument(
        "--fold",
        type=FOLD_INDEX,
        action="append",
        metavar="I",
        help="run only fold I (0-based; repeatable), e.g. one per job of a cluster array",
    )
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="download and prepare, train no fold (once, before a cluster array)",
    )
    parser.add_argument(
        "--parallel", type=COUNT, default=1, metavar="N", help="folds trained at once (on a GPU)"
    )
    parser.add_argument(
        "--epochs",
        type=COUNT,
        metavar="N",
        help="cap on the passes over the training nights (paper: up to 200); for a quick try",
    )
    parser.add_argument(
        "--n-folds",
        type=FOLDS,
        metavar="K",
        help="folds other than the row's, for a try on a few subjects",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1...")
    parser.add_argument(
        "--no-download", action="store_true", help="use only the Sleep-EDF nights in --data"
    )
    parser.add_argument("--jobs", type=JOBS, default=2, help="nights prepared at once")
    parser.add_argument(
        "--on-stall",
        choices=("rescale", "warn"),
        default="rescale",
        help="a fold stalled for 5 passes: restart it once with the stall remedy (default; "
        "the comparison names it), or only warn and keep the paper's recipe exact",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..workflows.reproduce import reproduce

    comparison = reproduce(
        args.row,
        args.out,
        args.data,
        folds=[] if args.prepare_only else args.fold,
        n_parallel=args.parallel,
        max_passes=args.epochs,
        n_folds=args.n_folds,
        device=args.device,
        download=not args.no_download,
        n_jobs=args.jobs,
        on_stall=args.on_stall,
    )
    if comparison is not None:
        print(Path(comparison["paths"]["markdown"]).read_text(encoding="utf-8"))
    return 0
