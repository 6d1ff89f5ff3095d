"""``tinysleepnet predict``: stage recordings and write hypnograms, plots and sleep statistics.

The staging itself is :func:`~tinysleepnet.prediction.batch.stage_many`; this module reads
the arguments (wildcards, a cohort's manifest and shard) and prints each outcome.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..config import BACKENDS, PRECISIONS
from ..errors import PathError, TinySleepNetError
from ..prediction.review import ReviewRule
from ..scoring.in_bed import LightsTime
from ..text import counted
from ._config import COUNT, JOBS

if TYPE_CHECKING:
    import pandas as pd

    from ..prediction.cohort import Shard

T = TypeVar("T")

#: How a recording that could not be staged is reported.
_SKIPPED = "tinysleepnet: skipped "

_DESCRIPTION = """\
Stage each recording (EDF, EDF+, BDF, FIF or any format MNE reads) in epochs of the model's
length (30 s; 20 s for a MASS-SS4/SS5 model) and write,
into DIR, named after the recording: <name>_hypnogram.csv (stage and probabilities per
epoch), <name>_hypnogram.edf (EDF+ annotations), <name>_hypnogram.png (hypnogram and
hypnodensity), <name>_statistics.json/.txt (TST, sleep efficiency, latencies, WASO...) and,
with --hypnogram, <name>_agreement.json/.txt (accuracy, macro-F1, kappa, confusion); also
<name>_events.tsv/.json, the BIDS events table and its sidecar. Probabilities are calibrated
by the model's temperature; --review flags the least confident epochs in every output.
A recording that cannot be staged is reported and skipped; the exit status is then 1, or 2
when none was staged.

A cohort: --manifest CSV (a 'recording' column, optional 'hypnogram' and 'channel' columns,
relative paths taken from the CSV's folder) stages its recordings, and --shard I/N only
those of shard I of N: data row r (0 for the first) belongs to shard r mod N + 1. A
recording that fails leaves DIR/<name>_failed.json with the reason; once every shard has
run, 'tinysleepnet merge --manifest CSV --out DIR' writes the cohort tables.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="stage recordings: hypnogram files, sleep statistics, plots",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "recordings",
        nargs="*",
        metavar="REC",
        help="recording files (wildcards like *.edf work); or give --manifest",
    )
    parser.add_argument(
        "--model",
        metavar="MODEL",
        help="checkpoint file, released model folder or installed model name "
        "(default: the default installed model, see 'tinysleepnet models')",
    )
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    parser.add_argument(
        "--channel",
        help="EEG channel to stage (default: the model's); 'A|B' takes whichever of A and B "
        "the file has",
    )
    parser.add_argument(
        "--reference",
        metavar="CHANNEL",
        help="channel subtracted from --channel, e.g. --channel 'EEG F4-CLE' "
        "--reference 'EOG Left Horiz'",
    )
    parser.add_argument(
        "--start",
        type=_parse_start,
        default=None,
        metavar="auto|ISO",
        help="clock time of the recording start: 'auto' (the file's, default) or ISO 8601, "
        "e.g. 2024-03-01T23:15:00",
    )
    parser.add_argument(
        "--hypnogram",
        nargs="+",
        action="extend",
        metavar="FILE",
        help="expert hypnogram(s), one per recording in the same (sorted) order: "
        "writes agreement scores",
    )
    parser.add_argument(
        "--lights-off",
        type=_refused_in_one_line(LightsTime.parse),
        metavar="TIME",
        help="start of the time in bed, as a clock time (23:10, 23:10:30) or an offset from "
        "the recording's start (+5400, +90min, +1.5h): statistics, agreement and the plot "
        "cover lights off to lights on (default: the recording's own Lights off/on "
        "annotations, else the whole recording)",
    )
    parser.add_argument(
        "--lights-on",
        type=_refused_in_one_line(LightsTime.parse),
        metavar="TIME",
        help="end of the time in bed, as --lights-off",
    )
    parser.add_argument(
        "--auto-in-bed",
        action="store_true",
        help="without lights off/on given or annotated, take the main sleep period of the "
        "staging with 30 min of wake on each side as the time in bed (the choice is reported)",
    )
    parser.add_argument(
        "--online",
        action="store_true",
        help="stage through the online stager in 1-s blocks and report the largest "
        "difference from whole-night staging",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="torch",
        help="run the network with PyTorch (default) or ONNX Runtime (needs onnxruntime; "
        "a .onnx model always runs with it)",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="float32",
        help="arithmetic of the CNN with PyTorch; bfloat16 is faster on CPUs with bfloat16 "
        "instructions and agrees with float32 on >= 99%% of epochs",
    )
    parser.add_argument(
        "--review",
        metavar="RULE",
        type=_refused_in_one_line(ReviewRule.parse),
        help="flag the least confident epochs for a human scorer: a share such as 10%% or a "
        "probability threshold such as 0.6 (a review column, Review annotations, a band in "
        "the plot, minutes per stage, and with --hypnogram the accuracy on the rest)",
    )
    parser.add_argument(
        "--allow-truncated",
        action="store_true",
        help="stage the part present of an EDF/BDF file shorter than its header declares "
        "(refused otherwise), with a warning",
    )
    parser.add_argument("--jobs", type=JOBS, default=2, help="recordings staged in parallel")
    parser.add_argument(
        "--threads",
        type=COUNT,
        metavar="N",
        help="torch threads, shared out between the --jobs (default: chosen for the "
        "machine, its free cores)",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        metavar="CSV",
        help="stage the recordings listed in CSV (columns recording[, hypnogram, channel])",
    )
    parser.add_argument(
        "--shard",
        metavar="I/N",
        help="with --manifest: stage only shard I of N (1 <= I <= N), e.g. from a SLURM array",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # torch, MNE and the staging modules load here, not at start-up, so --help is quick.
    from tqdm import tqdm

    from ..io.channels import ChannelSpec
    from ..nn.device import resolve_threads
    from ..prediction.batch import RecordingOutcome, stage_many

    if args.reference:
        if not args.channel:
            raise TinySleepNetError("--reference needs --channel: the channel it is taken from")
        args.channel = ChannelSpec.parse(args.channel, args.reference).text
    if args.out.exists() and not args.out.is_dir():
        raise PathError(args.out, "--out names a file; give a folder")
    cohort, shard = _cohort_shard(args)
    hypnograms: list[Path | None] | None = None
    channels: list[str | None] | None = None
    if cohort is None:
        recordings = recordings_only(expand_paths(args.recordings))
        if args.hypnogram:
            hypnograms = list(expand_paths(args.hypnogram))
    else:
        recordings = [Path(p) for p in cohort["recording"]]
        hypnograms = [None if h is None else Path(h) for h in cohort["hypnogram"]]
        channels = list(cohort["channel"])

    def report(outcome: RecordingOutcome) -> None:
        message = outcome.report
        if not outcome.ok and len(recordings) == 1:  # nothing else to go on with
            message = f"tinysleepnet: error: {message}"
        elif isinstance(outcome.error, TinySleepNetError | OSError):
            message = f"{_SKIPPED}{message}"
        tqdm.write(message, file=sys.stdout if outcome.ok else sys.stderr)

    outcomes = stage_many(
        recordings,
        args.out,
        args.model,
        hypnograms=hypnograms,
        channel=args.channel,
        channels=channels,
        start=args.start,
        backend=args.backend,
        precision=args.precision,
        review=args.review,
        lights_off=args.lights_off,
        lights_on=args.lights_on,
        auto_in_bed=args.auto_in_bed,
        online=args.online,
        allow_truncated=args.allow_truncated,
        jobs=args.jobs,
        threads=resolve_threads(args.threads or 0),
        shard=shard,
        on_outcome=report,
    )
    failed = sum(not outcome.ok for outcome in outcomes)
    if failed and len(recordings) > 1:
        print(
            f"tinysleepnet: {failed} of {counted(len(recordings), 'recording')} failed",
            file=sys.stderr,
        )
    # 2: nothing staged, as for any bad input; 1: some staged, others skipped
    return 0 if not failed else 2 if failed == len(recordings) else 1


def expand_paths(patterns: list[str]) -> list[Path]:
    """Paths of the arguments, with wildcards expanded (Windows shells leave them to us).

    A pattern that matches nothing is kept as given, so it is reported as a missing file.
    """
    paths: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else []
        paths.extend(Path(p) for p in matches or [pattern])
    return paths


def recordings_only(paths: list[Path]) -> list[Path]:
    """``paths`` without annotation-only EDF+ files, each skipped with a note on stderr.

    Sleep-EDF keeps each ``*-Hypnogram.edf`` beside its ``*-PSG.edf``, and ``predict``
    writes ``<name>_hypnogram.edf``: ``predict *.edf`` in such a folder must stage the
    recordings only.

    Raises
    ------
    TinySleepNetError
        If no recording is left.
    """
    from ..io.recordings import is_annotation_only

    recordings = []
    for path in paths:
        if is_annotation_only(path):
            print(
                f"tinysleepnet: note: {path}: annotations only (a hypnogram), skipped",
                file=sys.stderr,
            )
        else:
            recordings.append(path)
    if not recordings:
        raise TinySleepNetError("no recording to stage: every file given holds annotations only")
    return recordings


def _cohort_shard(args: argparse.Namespace) -> tuple[pd.DataFrame | None, Shard | None]:
    """The manifest rows of this run's shard, and the shard; ``(None, None)`` without one."""
    if args.manifest is None:
        if args.shard is not None:
            raise TinySleepNetError("--shard needs --manifest: the list of recordings it splits")
        if not args.recordings:
            raise TinySleepNetError("give recording files, or a list of them with --manifest CSV")
        return None, None
    if args.recordings:
        raise TinySleepNetError("give recording files or --manifest, not both")
    if args.hypnogram:
        raise TinySleepNetError("with --manifest, list hypnograms in its 'hypnogram' column")
    from ..prediction.cohort import parse_shard, read_cohort, shard_of

    shard = parse_shard(args.shard or "1/1")
    return shard_of(read_cohort(args.manifest), shard), shard


def _refused_in_one_line(parse: Callable[[str], T]) -> Callable[[str], T]:
    """Argparse ``type`` of a flag read by ``parse``: the value it refuses (a
    :class:`~tinysleepnet.errors.TinySleepNetError`) is a usage error, one line naming the
    flag, exit status 2, before anything is read or written."""

    def read(text: str) -> T:
        try:
            return parse(text)
        except TinySleepNetError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    return read


def _parse_start(text: str) -> dt.datetime | None:
    if text == "auto":
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected 'auto' or ISO 8601, got {text!r}") from err
