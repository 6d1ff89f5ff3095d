"""``tinysleepnet download``: fetch a public dataset (Sleep-EDF Expanded from PhysioNet)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data.datasets import DATASETS, dataset


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "download",
        help="download Sleep-EDF nights from PhysioNet",
        description=(
            "Download sleep-cassette nights of Sleep-EDF Expanded through MNE's PhysioNet "
            "fetcher (checksummed; a rerun fetches only what is missing). Sleep-EDF-20 is "
            "subjects 0-19, Sleep-EDF-78 subjects 0-82. Then run: tinysleepnet prepare DEST OUT"
        ),
    )
    parser.add_argument(
        "dataset",
        choices=[name for name, data in DATASETS.items() if data.downloadable],
        help="dataset to download",
    )
    parser.add_argument(
        "--subjects",
        required=True,
        help="subject numbers and ranges, e.g. 0-19 or 0,3,5-7",
    )
    parser.add_argument("--dest", type=Path, required=True, help="folder to download to")
    parser.add_argument(
        "--nights",
        choices=["1", "2", "1,2"],
        default="1,2",
        metavar="1|2|1,2",
        help="nights per subject (default %(default)s)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.sleep_edf import parse_subjects

    nights = [int(night) for night in args.nights.split(",")]
    files = dataset(args.dataset).download(parse_subjects(args.subjects), args.dest, nights)
    print(f"{len(files)} nights in {args.dest}; next: tinysleepnet prepare {args.dest} OUT")
    return 0
