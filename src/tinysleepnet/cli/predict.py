"""``tinysleepnet predict``: stage recordings and write hypnograms, plots and sleep statistics."""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import BACKENDS, PRECISIONS
from ..errors import PathError, TinySleepNetError
from ..prediction.review import ReviewRule
from ._config import JOBS

if TYPE_CHECKING:
    import pandas as pd

    from ..model import TinySleepNet
    from ..prediction.cohort import Shard
    from ..prediction.onnx_backend import OnnxModel
    from ..prediction.result import StagingResult

_DESCRIPTION = """\
Stage each recording (EDF, EDF+, BDF, FIF or any format MNE reads) in epochs of the model's
length (30 s; 20 s for a MASS-SS4/SS5 model) and write,
into DIR, named after the recording: <name>_hypnogram.csv (stage and probabilities per
epoch), <name>_hypnogram.edf (EDF+ annotations), <name>_hypnogram.png (hypnogram and
hypnodensity), <name>_statistics.json/.txt (TST, sleep efficiency, latencies, WASO...) and,
with --hypnogram, <name>_agreement.json/.txt (accuracy, macro-F1, kappa, confusion); also
<name>_events.tsv/.json, the BIDS events table and its sidecar. Probabilities are calibrated
by the model's temperature; --review flags the least confident epochs in every output.
A recording that cannot be staged is reported and skipped; the exit status is then 1.

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
        metavar="TIME",
        help="start of the time in bed, as a clock time (23:10, 23:10:30) or an offset from "
        "the recording's start (+5400, +90min, +1.5h): statistics, agreement and the plot "
        "cover lights off to lights on (default: the recording's own Lights off/on "
        "annotations, else the whole recording)",
    )
    parser.add_argument(
        "--lights-on", metavar="TIME", help="end of the time in bed, as --lights-off"
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
        type=_review_rule,
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
    import torch
    from joblib import Parallel, delayed
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    from ..io.channels import ChannelSpec
    from ..prediction.backends import as_model
    from ..prediction.cohort import record_outcome
    from ..prediction.outputs import colliding_recordings
    from ..release.store import resolve_model

    if args.reference:
        if not args.channel:
            raise TinySleepNetError("--reference needs --channel: the channel it is taken from")
        args.channel = ChannelSpec.parse(args.channel, args.reference).text
    if args.out.exists() and not args.out.is_dir():
        raise PathError(args.out, "--out names a file; give a folder")
    cohort, shard = _cohort_shard(args)
    if cohort is None:
        recordings = recordings_only(expand_paths(args.recordings))
    else:
        recordings = [Path(p) for p in cohort["recording"]]
    hypnograms: list[Path | None] = [None] * len(recordings)
    if args.hypnogram:
        hypnograms = list(expand_paths(args.hypnogram))
        if len(hypnograms) != len(recordings):
            raise TinySleepNetError(
                f"{len(hypnograms)} hypnograms for {len(recordings)} recordings; "
                "give one per recording, in the same order"
            )
    channels: list[str | None] = [args.channel] * len(recordings)
    if cohort is not None:
        hypnograms = [None if h is None else Path(h) for h in cohort["hypnogram"]]
        channels = [channel or args.channel for channel in cohort["channel"]]
    if collision := colliding_recordings(recordings):
        raise TinySleepNetError(collision)
    args.model = resolve_model(args.model)  # a folder, an installed name or none: the file
    network = as_model(args.model, args.backend)

    jobs = max(1, min(args.jobs, len(recordings)))
    torch_threads = torch.get_num_threads()
    if jobs > 1:  # one core per recording beats several cores fighting over each
        torch.set_num_threads(1)
    try:
        # Warnings logged while the bar runs (a recording's amplitude, a truncated file) go
        # through tqdm, so they print whole above the bar instead of under its redraws.
        with logging_redirect_tqdm([logging.getLogger("tinysleepnet")]):
            outcomes = Parallel(n_jobs=jobs, prefer="threads", return_as="generator_unordered")(
                delayed(_predict_member)(rec, hyp, channel, network, args)
                for rec, hyp, channel in zip(recordings, hypnograms, channels, strict=True)
            )
            failed = 0
            for path, ok, message in tqdm(
                outcomes,
                total=len(recordings),
                unit="recording",
                disable=None,  # a terminal only
            ):
                failed += not ok
                if shard is not None:  # for `tinysleepnet merge`
                    error = None if ok else message.removeprefix("tinysleepnet: skipped ")
                    record_outcome(args.out, path.stem, path, shard, error)
                tqdm.write(message, file=sys.stdout if ok else sys.stderr)
    finally:
        torch.set_num_threads(torch_threads)
    if failed:
        print(f"tinysleepnet: {failed} of {len(recordings)} recordings failed", file=sys.stderr)
    return 1 if failed else 0


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


def _predict_member(
    path: Path,
    hypnogram: Path | None,
    channel: str | None,
    network: TinySleepNet | OnnxModel,
    args: argparse.Namespace,
) -> tuple[Path, bool, str]:
    """:func:`_predict_one`, with the recording it reports on: ``(path, ok, report)``."""
    try:
        return path, *_predict_one(path, hypnogram, channel, network, args)
    except Exception as err:
        if args.manifest is None:
            raise
        # A shard of a cohort goes on past a file that breaks a reader unexpectedly.
        return path, False, f"{path}: {type(err).__name__}: {err}"


def _predict_one(
    path: Path,
    hypnogram: Path | None,
    channel: str | None,
    network: TinySleepNet | OnnxModel,
    args: argparse.Namespace,
) -> tuple[bool, str]:
    """Stage one recording and write its outputs; ``(ok, one-line report)``."""
    import numpy as np

    from ..prediction.expert import expert_labels
    from ..prediction.online import replay
    from ..prediction.outputs import existing_outputs
    from ..prediction.sources import read_recording
    from ..prediction.stage import stage

    try:
        earlier = existing_outputs(args.out, path.stem)
        recording = read_recording(path, channel, network, allow_truncated=args.allow_truncated)
        result = stage(
            recording,
            model=network,
            start=args.start,
            precision=args.precision,
            model_file=args.model,
            review=args.review,
            lights_off=args.lights_off,
            lights_on=args.lights_on,
            auto_in_bed=args.auto_in_bed,
        )
        report = f"{path}: {result.n_epochs} epochs"
        if result.window is not None:
            report += f", {result.window.describe(result.epoch_sec, result.start)}"
        if args.online:
            online = replay(recording, network, start=args.start)
            difference = float(np.nanmax(np.abs(online.proba - result.proba)))
            report += f", online max |difference| {difference:.1e}"
            online.review_rule, online.provenance = result.review_rule, result.provenance
            online.window, online.name = result.window, result.name
            result = online
        expert_stages, notes = (
            expert_labels(hypnogram, result, recording.start) if hypnogram else (None, [])
        )
        saved = result.save(args.out, path.stem, expert_stages)
    except TinySleepNetError as err:
        return False, f"tinysleepnet: skipped {err}"
    except OSError as err:  # a read-only or full disk, a folder where a file should go
        return False, f"tinysleepnet: skipped {path}: {err.filename or path}: {err.strerror or err}"
    report += _quality_report(result, saved.statistics)
    if saved.agreement is not None:
        report += f", kappa {saved.agreement['kappa']:.3f}"
    report += "".join(f"; {note}" for note in notes)
    removed = [p.name for p in earlier if not p.exists()]
    if earlier:
        report += f"; replaced {len(earlier)} earlier outputs"
        report += f" (removed {', '.join(removed)})" if removed else ""
    return True, f"{report} -> {saved.paths['csv'].parent}"


def _quality_report(result: StagingResult, stats: dict[str, Any]) -> str:
    """TST and SE, and how much of the night was unscorable and why."""
    import numpy as np

    se = "-" if stats["se_pct"] is None else f"{stats['se_pct']:.1f}%"
    report = f", TST {stats['tst_min']:.1f} min, SE {se}"
    if stats["excluded_epochs"]:
        reasons = Counter(np.asarray(result.quality)[~result.scorable].tolist())
        report += (
            f", {stats['excluded_min']:.1f} min unscorable ("
            + ", ".join(f"{n} epochs {reason}" for reason, n in reasons.most_common())
            + ") excluded"
        )
    return report


def _review_rule(text: str) -> ReviewRule:
    try:
        return ReviewRule.parse(text)
    except TinySleepNetError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def _parse_start(text: str) -> dt.datetime | None:
    if text == "auto":
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected 'auto' or ISO 8601, got {text!r}") from err
