"""``tinysleepnet prepare``: PSG + hypnogram pairs -> scored 30-s epochs of one EEG channel."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data.prepare import TRIM_RULES, class_counts_table, prepare


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prepare",
        help="cut recordings into scored 30-s epochs of one EEG channel",
        description=(
            "Pair every PSG in SRC with its hypnogram (Sleep-EDF file names, or a --pairs CSV), "
            "keep one EEG channel in microvolts, trim long wake around sleep, drop unscored "
            "epochs, and write one OUT/<night>.npz per night plus OUT/manifest.csv. "
            "A rerun skips the nights already written."
        ),
    )
    parser.add_argument("src", type=Path, metavar="SRC", help="folder with the recordings")
    parser.add_argument("out", type=Path, metavar="OUT", help="folder for the prepared nights")
    parser.add_argument("--channel", default="EEG Fpz-Cz", help="EEG channel (default %(default)s)")
    parser.add_argument(
        "--sfreq",
        type=float,
        default=100.0,
        help="sampling rate in Hz; faster files are resampled (default %(default)g)",
    )
    parser.add_argument(
        "--wake-edge-min",
        type=float,
        default=30.0,
        help="minutes of wake kept before and after sleep (default %(default)g)",
    )
    parser.add_argument(
        "--trim",
        choices=TRIM_RULES,
        default="authors",
        help="wake-trim rule: the TinySleepNet authors' or DeepSleepNet's (default %(default)s)",
    )
    parser.add_argument(
        "--pairs",
        type=Path,
        metavar="CSV",
        help="CSV with columns psg,hypnogram,subject,night (paths relative to SRC) "
        "for datasets other than Sleep-EDF",
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="nights prepared at once (default %(default)s)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    manifest = prepare(
        args.src,
        args.out,
        channel=args.channel,
        sfreq=args.sfreq,
        wake_edge_min=args.wake_edge_min,
        trim=args.trim,
        pairs_csv=args.pairs,
        n_jobs=args.jobs,
    )
    print(class_counts_table(manifest))
    print(f"wrote {len(manifest)} nights to {args.out}")
    return 0
