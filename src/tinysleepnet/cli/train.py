"""``tinysleepnet train``: train one model on a prepared dataset, resumable."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import DATA_FIELDS, Config
from ..errors import PathError, TinySleepNetError
from ._config import add_config_arguments, config_if_given, use_threads


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model on prepared nights",
        description=(
            "Train TinySleepNet on the nights of a prepared folder, choosing the best pass on "
            "validation subjects, and calibrates it on them. Writes config.json, log.csv, "
            "best.pt and last.pt into the output folder; rerunning the same command resumes "
            "from last.pt."
        ),
    )
    parser.add_argument("data", type=Path, help="prepared nights (tinysleepnet prepare)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--valid-subjects",
        metavar="IDS",
        help="comma-separated validation subjects, e.g. 03,07 "
        "(default: a seeded --valid-frac share of the subjects)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_config_arguments(parser, exclude=DATA_FIELDS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.nights import load_nights
    from ..evaluation.folds import sorted_subjects, split_nights
    from ..training.distributed import is_main_process
    from ..training.fit import fit
    from ..training.run import TrainingRun

    use_threads(args.config_threads)
    saved = TrainingRun(args.out).config_path
    # Without settings on the command line, a rerun continues the run in --out as it was.
    config = config_if_given(args) or (Config.load(saved) if saved.is_file() else Config())
    chosen = [s.strip() for s in args.valid_subjects.split(",")] if args.valid_subjects else None
    nights = load_nights(args.data)
    try:
        train_nights, valid_nights = split_nights(nights, config.valid_frac, config.seed, chosen)
    except TinySleepNetError as err:  # named after the data folder, in one line
        raise PathError(args.data, str(err)) from err
    result = fit(train_nights, valid_nights, config, args.out, progress=not args.quiet)
    if not is_main_process():  # under torchrun, process 0 reports
        return 0
    score = result.best_score
    valid = sorted_subjects(night.subject for night in valid_nights)
    print(f"validation subjects: {', '.join(valid)}")
    print(
        f"best checkpoint: {result.best_path} (pass {result.best_pass} of {len(result.log)}"
        f"{', stopped early' if result.stopped_early else ''})"
    )
    print(f"validation: ACC {score['acc']:.3f}  MF1 {score['mf1']:.3f}  kappa {score['kappa']:.3f}")
    return 0
