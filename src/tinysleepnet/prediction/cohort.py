"""Staging a cohort in shards on a cluster, and merging the shards' outputs into one table.

A cohort is listed in a manifest: a CSV with a ``recording`` column and optional
``hypnogram`` and ``channel`` columns (relative paths are taken from the CSV's folder; an
empty cell means none, or the default channel). Other columns (subject id, site, ...) are
carried into the merged table.

Shards: ``tinysleepnet predict --manifest cohort.csv --shard I/N`` stages shard ``I`` of
``N`` (``1 <= I <= N``). The recording on data row ``r`` of the manifest (``r = 0`` for the
first row under the header) belongs to shard ``r mod N + 1``: shard 1 takes rows 0, N,
2N, ..., shard 2 rows 1, N + 1, ... So the assignment depends only on the manifest's order
and ``N``, the shards partition the cohort, and their sizes differ by at most one recording
(long and short recordings spread over all shards even when the manifest is sorted).

Each shard writes ``predict``'s usual outputs per recording into the output folder and, for a
recording it cannot stage, ``<name>_failed.json`` with the reason (removed again when a later
run stages it). :func:`merge_cohort` then reads the folder and writes
``cohort_statistics.csv``, one row per recording of the manifest, and
``cohort_failures.csv``, the recordings that failed or have no outputs yet, and why. Outputs
whose statistics record another input file (a recording of the same name staged into the
folder earlier) count as not staged.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import PathError, TinySleepNetError
from ..io.atomic import write_json

if TYPE_CHECKING:
    import pandas as pd

#: Columns of a cohort manifest: the one it needs and the optional ones.
RECORDING = "recording"
OPTIONAL_COLUMNS = ("hypnogram", "channel")

#: Files :func:`merge_cohort` writes into the output folder.
STATISTICS_TABLE = "cohort_statistics.csv"
FAILURES_TABLE = "cohort_failures.csv"

#: Status of a recording in the merged table.
STAGED, FAILED, NOT_STAGED = "staged", "failed", "not staged"


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based), written ``"index/count"``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """Read ``"I/N"`` (``1 <= I <= N``), e.g. ``"3/8"`` for the third of eight shards.

    Raises
    ------
    TinySleepNetError
        If ``text`` is not of that form.
    """
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if match is None or not 1 <= int(match[1]) <= int(match[2]):
        raise TinySleepNetError(
            f"--shard {text!r}: expected I/N with 1 <= I <= N, e.g. 3/8 for the third of 8 shards"
        )
    return Shard(int(match[1]), int(match[2]))


def read_cohort(manifest: str | Path) -> pd.DataFrame:
    """Read a cohort manifest.

    Parameters
    ----------
    manifest : str or Path
        CSV with a ``recording`` column and optional ``hypnogram`` and ``channel`` columns.

    Returns
    -------
    pandas.DataFrame
        The manifest's rows in order, its columns as text, with ``recording`` and
        ``hypnogram`` resolved against the CSV's folder, ``hypnogram`` and ``channel``
        present (None where empty), and ``name``: the recording's file stem, which names
        its outputs.

    Raises
    ------
    PathError
        Naming the manifest: missing, unreadable, no ``recording`` column, an empty
        recording cell, or two recordings with the same file stem (their outputs would
        overwrite each other).
    """
    # pandas loads here, not with the module: `tinysleepnet merge --help` names the tables.
    import pandas as pd

    from ..io.tables import read_text_table
    from .outputs import colliding_recordings

    manifest = Path(manifest)
    cohort = read_text_table(manifest, required=(RECORDING,))
    folder = manifest.parent
    cohort[RECORDING] = [str(folder / path) for path in cohort[RECORDING]]
    for column in OPTIONAL_COLUMNS:
        values = cohort[column] if column in cohort.columns else [""] * len(cohort)
        cohort[column] = pd.Series([value or None for value in values], cohort.index, object)
    cohort["hypnogram"] = pd.Series(
        [path and str(folder / path) for path in cohort["hypnogram"]], cohort.index, object
    )
    if collision := colliding_recordings(cohort[RECORDING]):
        raise PathError(manifest, collision)
    cohort["name"] = [Path(p).stem for p in cohort[RECORDING]]
    return cohort


def shard_of(cohort: pd.DataFrame, shard: Shard) -> pd.DataFrame:
    """The rows of ``cohort`` that belong to ``shard``: rows ``I - 1``, ``I - 1 + N``, ..."""
    return cohort.iloc[shard.index - 1 :: shard.count]


def failure_path(out_dir: str | Path, name: str) -> Path:
    """Where a shard records why it could not stage the recording ``name``."""
    return Path(out_dir) / f"{name}_failed.json"


def record_outcome(
    out_dir: str | Path, name: str, recording: str | Path, shard: Shard, error: str | None
) -> None:
    """Record one recording's outcome for :func:`merge_cohort`.

    A failure writes ``<name>_failed.json`` (recording, shard, error) atomically; a success
    removes such a file left by an earlier run.
    """
    path = failure_path(out_dir, name)
    if error is None:
        path.unlink(missing_ok=True)
    else:
        write_json(path, {"recording": str(recording), "shard": str(shard), "error": error})


def merge_cohort(manifest: str | Path, out_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Collect the outputs of every shard into cohort tables, written into ``out_dir``.

    Parameters
    ----------
    manifest : str or Path
        The manifest the shards staged (see :func:`read_cohort`).
    out_dir : str or Path
        The folder the shards wrote into.

    Returns
    -------
    statistics : pandas.DataFrame
        One row per recording of the manifest, in its order (written as
        ``cohort_statistics.csv``): the manifest's columns, ``name``, ``status``
        (``staged``, ``failed`` or ``not staged``), ``error``, then the sleep statistics
        of ``<name>_statistics.json`` (minutes, percent, counts; empty unless staged) and,
        where an expert hypnogram was scored, ``agreement_acc``, ``agreement_mf1`` and
        ``agreement_kappa``.
    failures : pandas.DataFrame
        The recordings not staged (written as ``cohort_failures.csv``): ``recording``,
        ``name``, ``status``, ``shard`` (empty when no shard reported on it) and ``error``.
    """
    import pandas as pd

    from .outputs import write_csv

    cohort = read_cohort(manifest)
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise PathError(out_dir, "folder not found; run the shards first")
    rows = [_merged_row(out_dir, row) for row in cohort.to_dict("records")]
    merged = pd.DataFrame(rows, columns=list(dict.fromkeys(key for row in rows for key in row)))
    statistics = merged.drop(columns="shard")
    failures = merged.loc[
        merged["status"] != STAGED, [RECORDING, "name", "status", "shard", "error"]
    ]
    write_csv(out_dir / STATISTICS_TABLE, statistics)
    write_csv(out_dir / FAILURES_TABLE, failures)
    return statistics, failures.reset_index(drop=True)


def _merged_row(out_dir: Path, row: dict[str, Any]) -> dict[str, Any]:
    """A manifest row with its status, shard, error, and its statistics when staged."""
    merged = {**row, "status": STAGED, "shard": None, "error": None}
    failed = failure_path(out_dir, row["name"])
    from .outputs import output_paths  # the table and staging outputs, not needed to plan shards

    paths = output_paths(out_dir, row["name"])
    statistics, agreement = paths["statistics"], paths["agreement"]
    try:
        if failed.is_file():
            record = _read_json(failed)
            return merged | {
                "status": FAILED,
                "shard": record.get("shard"),
                "error": record.get("error"),
            }
        if not statistics.is_file():
            problem = f"no outputs in {out_dir}: its shard has not run, or stopped before it"
            return merged | {"status": NOT_STAGED, "error": problem}
        values = _read_json(statistics)
        staged_from = (values.get("provenance") or {}).get("input")
        if staged_from is not None and not _same_file(staged_from, row[RECORDING]):
            problem = (
                f"{statistics} holds the staging of {staged_from}, another recording of the "
                "same name: stage this one again"
            )
            return merged | {"status": NOT_STAGED, "error": problem}
        merged |= {key: v for key, v in values.items() if _is_scalar(v)}
        if agreement.is_file():
            scores = _read_json(agreement)
            merged |= {f"agreement_{key}": scores.get(key) for key in ("acc", "mf1", "kappa")}
    except PathError as err:  # one damaged file spoils its recording, not the merge
        return {**row, "status": FAILED, "shard": None, "error": str(err)}
    return merged


def _same_file(staged: str, listed: str) -> bool:
    """Whether a staging's input and a manifest's recording are one file (the same path once
    resolved, or the same file on disk)."""
    a, b = Path(staged), Path(listed)
    if a.resolve() == b.resolve():
        return True
    try:
        return a.samefile(b)
    except OSError:
        return False


def _read_json(path: Path) -> dict[str, Any]:
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise PathError(path, f"not readable ({err}); stage the recording again") from err
    if not isinstance(values, dict):
        raise PathError(path, "not an object of values; stage the recording again")
    return values


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)
