"""``tinysleepnet simulate``: write simulated nights (PSG + hypnogram EDFs), Sleep-EDF or MASS."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data.datasets import DATASETS, dataset
from ._config import COUNT, JOBS, number

EPILOG = """\
examples:
  # 4 subjects x 2 nights of simulated scoring, full length (~23 h each)
  tinysleepnet simulate sim --subjects 0-3

  # the official Sleep-EDF hypnograms of subjects 0-7 at their real length
  tinysleepnet simulate sim --official --subjects 0-7

  # short nights (120 epochs, all five stages) for a quick test
  tinysleepnet simulate sim --subjects 0,1 --n-epochs 120

  # one night following your own hypnogram file
  tinysleepnet simulate sim --hypnogram SC4001EC-Hypnogram.edf

  # MASS-SS3's layout: '01-03-0001 PSG.edf' + '01-03-0001 Base.edf' per subject
  tinysleepnet simulate sim-mass --layout mass-ss3 --subjects 1-4 --n-epochs 120

The files are named as in Sleep-EDF (SC4ssNE0-PSG.edf, SC4ssNx?-Hypnogram.edf), so
`tinysleepnet prepare` reads them like the real corpus. The cohort's last night is stored in
60-s data records, like Sleep-EDF's SC4362F0. With --layout mass-ssN the nights are laid out
as MASS ships them: the first scored epoch a few seconds into the PSG, epochs of the subset's
length (20 s for SS4 and SS5), EEG named "EEG F4-CLE" (odd subjects) or "EEG F4-LER" (even).
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="write simulated Sleep-EDF-shaped nights",
        description=(
            "Simulate nights of EEG with realistic sleep architecture and write them as "
            "Sleep-EDF PSG and hypnogram EDF files."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("out", type=Path, help="folder to write the EDF files to")
    parser.add_argument(
        "--layout",
        choices=DATASETS,
        default="sleep-edf",
        help="file layout of a dataset: Sleep-EDF (default) or a MASS subset",
    )
    parser.add_argument(
        "--subjects",
        help="subject numbers and ranges, e.g. 0-19 or 0,3,5-7 (default: 0,1; MASS 1,2)",
    )
    parser.add_argument(
        "--hypnogram",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="simulate one night following each of these hypnogram files (ignores --subjects)",
    )
    parser.add_argument(
        "--official",
        action="store_true",
        help="follow the packaged official hypnograms (subjects 0-7) at their real length",
    )
    parser.add_argument(
        "--n-epochs",
        type=COUNT,
        help="epochs per simulated night (default: 2800; MASS: 8 h of scored epochs)",
    )
    parser.add_argument(
        "--difficulty",
        type=number(low=0),
        default=1.0,
        help="overlap between stages and nights: 0 textbook, 1 realistic, 2 hard (default: 1)",
    )
    parser.add_argument(
        "--seed", type=number(whole=True, low=0), default=0, help="random seed (default: 0)"
    )
    parser.add_argument(
        "--record-sec",
        type=number(low=0, low_open=True),
        default=30.0,
        help="data-record duration in seconds (default: 30; Sleep-EDF's SC4362F0: 60)",
    )
    parser.add_argument(
        "--no-quirks", action="store_true", help="store every cohort night in 30-s records"
    )
    parser.add_argument("--jobs", type=JOBS, default=1, help="nights simulated in parallel")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.sleep_edf import parse_subjects

    layout = dataset(args.layout)
    simulated = layout.simulate(
        args.out,
        None if args.subjects is None else parse_subjects(args.subjects),
        n_epochs=args.n_epochs,
        seed=args.seed,
        difficulty=args.difficulty,
        n_jobs=args.jobs,
        hypnograms=args.hypnogram,
        official=args.official,
        record_sec=args.record_sec,
        quirks=not args.no_quirks,
    )
    columns = [column for column in layout.simulated_columns if column in simulated]
    print(simulated[columns].to_string(index=False))
    return 0
