"""``tinysleepnet cv``: subject-wise cross-validation, all folds or some, resumable."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import DATA_FIELDS
from ._config import COUNT, FOLD_INDEX, FOLDS, add_config_arguments, config_if_given
from .evaluate import print_report

EPILOG = """\
Every fold trains, stages its test subjects with its best checkpoint (chosen on its
validation subjects) and writes RUN/fold_XX/DONE. Rerunning the same command skips finished
folds and resumes unfinished ones from their last.pt. Once all folds are done the pooled
scores are printed (see `tinysleepnet evaluate`).

Folds can run in parallel on several machines sharing RUN, e.g. as a SLURM array:

  #!/bin/bash
  #SBATCH --array=0-19
  #SBATCH --gres=gpu:1
  #SBATCH --time=12:00:00
  tinysleepnet cv DATA --folds 20 --out RUN --fold $SLURM_ARRAY_TASK_ID

then, when the array has finished: tinysleepnet evaluate RUN
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cv",
        help="subject-wise k-fold cross-validation",
        description="Train and test one model per fold of the subjects (the paper's protocol).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("data", type=Path, help="prepared nights (tinysleepnet prepare)")
    parser.add_argument(
        "--folds",
        type=FOLDS,
        help="number of folds (20: Sleep-EDF-20, 10: -78; default: the run's own, "
        "or 20 for a new run)",
    )
    parser.add_argument("--out", type=Path, required=True, help="run directory (RUN)")
    parser.add_argument(
        "--fold",
        type=FOLD_INDEX,
        action="append",
        dest="fold_indices",
        metavar="I",
        help="run only fold I (0-based); repeat for several (default: all)",
    )
    parser.add_argument(
        "--parallel",
        type=COUNT,
        default=1,
        metavar="N",
        help="train N folds at once, each in its own process (several fit on one GPU)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    add_config_arguments(parser, exclude=DATA_FIELDS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..evaluation.cv import cross_validate, is_done, read_folds
    from ..evaluation.report import evaluate_run

    cross_validate(
        args.data,
        args.out,
        n_folds=args.folds,
        config=config_if_given(args),
        folds=args.fold_indices,
        progress=not args.quiet,
        n_parallel=args.parallel,
    )
    n_folds = read_folds(args.out)["n_folds"]
    pending = [i for i in range(n_folds) if not is_done(args.out, i)]
    if pending:
        print(f"{n_folds - len(pending)} of {n_folds} folds done; still to run: {pending}")
    else:
        print_report(evaluate_run(args.out))
    return 0
