"""``tinysleepnet prepare``: PSG + hypnogram pairs -> scored epochs of one EEG channel."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data.datasets import DATASETS, TRIM_RULES, dataset
from ._config import JOBS, number


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prepare",
        help="cut recordings into scored epochs of one EEG channel",
        description=(
            "Pair every PSG in SRC with its hypnogram (Sleep-EDF file names, or a --pairs CSV), "
            "keep one EEG channel in microvolts, trim long wake around sleep, drop unscored "
            "epochs, and write OUT/<night>.npz and OUT/<night>.npy (the signal, read through a "
            "memory map) per night plus OUT/manifest.csv. "
            "A rerun skips the nights already written."
        ),
    )
    parser.add_argument("src", type=Path, metavar="SRC", help="folder with the recordings")
    parser.add_argument("out", type=Path, metavar="OUT", help="folder for the prepared nights")
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default="sleep-edf",
        help="file naming, channel, rate, epoch length and wake trim of a dataset "
        "(default %(default)s); the flags below override them",
    )
    parser.add_argument(
        "--channel",
        help="EEG channel (default: the dataset's, Sleep-EDF 'EEG Fpz-Cz'); 'A|B' takes "
        "whichever of A and B the file has",
    )
    parser.add_argument(
        "--reference",
        metavar="CHANNEL",
        help="channel subtracted from --channel, e.g. --channel 'EEG F4-CLE' "
        "--reference 'EOG Left Horiz' (the paper's MASS 'F4-EOG(L)')",
    )
    parser.add_argument(
        "--sfreq",
        type=number(low=2),
        help="sampling rate in Hz; faster files are resampled (default: the dataset's, "
        "Sleep-EDF 100, MASS 256)",
    )
    parser.add_argument(
        "--epoch-sec",
        type=number(low=0, low_open=True),
        help="epoch length in seconds (default: the dataset's, 30; MASS-SS4/SS5 20)",
    )
    parser.add_argument(
        "--wake-edge-min",
        type=number(low=0),
        default=30.0,
        help="minutes of wake kept before and after sleep (default %(default)g)",
    )
    parser.add_argument(
        "--trim",
        choices=TRIM_RULES,
        help="wake-trim rule: the TinySleepNet authors', DeepSleepNet's or none (default: "
        "the dataset's, Sleep-EDF authors, MASS none)",
    )
    parser.add_argument(
        "--pairs",
        type=Path,
        metavar="CSV",
        help="CSV with columns psg,hypnogram,subject,night (paths relative to SRC) "
        "for datasets other than Sleep-EDF",
    )
    parser.add_argument(
        "--allow-truncated",
        action="store_true",
        help="prepare the part present of EDF/BDF files shorter than their header declares "
        "(refused otherwise), with a warning",
    )
    parser.add_argument(
        "--jobs", type=JOBS, default=2, help="nights prepared at once (default %(default)s)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.prepare import class_counts_table, prepare
    from ..io.channels import ChannelSpec

    channel = args.channel or dataset(args.dataset).channel
    manifest = prepare(
        args.src,
        args.out,
        channel=ChannelSpec.parse(channel, args.reference).text,
        sfreq=args.sfreq,
        wake_edge_min=args.wake_edge_min,
        trim=args.trim,
        pairs_csv=args.pairs,
        n_jobs=args.jobs,
        dataset=args.dataset,
        epoch_sec=args.epoch_sec,
        allow_truncated=args.allow_truncated,
    )
    print(class_counts_table(manifest))
    print(f"wrote {len(manifest)} nights to {args.out}")
    return 0
