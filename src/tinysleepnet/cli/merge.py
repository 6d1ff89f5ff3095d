"""``tinysleepnet merge``: cohort tables from the outputs of sharded ``predict --manifest`` runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..prediction.cohort import FAILURES_TABLE, STAGED, STATISTICS_TABLE

#: Failures listed on the terminal; the rest are in the failures table.
_SHOWN_FAILURES = 20


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "merge",
        help="one table of sleep statistics for a cohort staged in shards",
        description=(
            "After 'tinysleepnet predict --manifest CSV --shard I/N --out DIR' has run for "
            f"every shard, write DIR/{STATISTICS_TABLE} (one row per recording of CSV: its "
            "manifest columns, status, error and sleep statistics, plus agreement scores "
            f"where a hypnogram was given) and DIR/{FAILURES_TABLE} (the recordings that "
            "failed or have no outputs, and why). The exit status is 1 if any recording "
            "is not staged."
        ),
    )
    parser.add_argument(
        "--manifest", required=True, type=Path, metavar="CSV", help="the manifest the shards staged"
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="the folder the shards wrote into"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..prediction.cohort import merge_cohort

    statistics, failures = merge_cohort(args.manifest, args.out)
    n_staged = int((statistics["status"] == STAGED).sum())
    print(f"{n_staged} of {len(statistics)} recordings staged -> {args.out / STATISTICS_TABLE}")
    if failures.empty:
        return 0
    print(
        f"tinysleepnet: {len(failures)} recordings not staged -> {args.out / FAILURES_TABLE}",
        file=sys.stderr,
    )
    for row in failures.head(_SHOWN_FAILURES).itertuples():
        print(f"  {row.name} ({row.status}): {row.error}", file=sys.stderr)
    if len(failures) > _SHOWN_FAILURES:
        print(f"  ... and {len(failures) - _SHOWN_FAILURES} more", file=sys.stderr)
    return 1
