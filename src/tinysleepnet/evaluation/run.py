"""A cross-validation run's folder: its file names, its identity and its resume-or-refuse rule.

Layout::

    RUN/
      folds.json              fold -> test/valid/train subjects; the nights, n_folds
      config.json             settings shared by every fold
      fold_00/                a TrainingRun (config.json log.csv last.pt best.pt ...)
        predictions/<night>.npz
        DONE                  the fold's test scores; written last
      evaluation/             written by :func:`~tinysleepnet.evaluation.report.evaluate_run`

A run is the same run while its plan (``folds.json``: the nights' identity and contents,
``n_folds``, ``valid_frac``, ``seed`` and the folds' subjects) is, and its folds are run with
the same settings but for those whose role (:data:`~tinysleepnet.config.ROLES`) is ``call``
or ``runtime``; a release vouched for by the run may differ from it in ``runtime`` ones only.
A ``folds.json`` of an earlier version, without the nights' contents, resumes with a warning
that they are unchecked and is left as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ..config import RERUN_FREE_FIELDS, Config, fields_with_role
from ..data.nights import CONTENT, Night, content_hash, other_contents, read_manifest
from ..errors import PathError
from ..io.atomic import read_json, write_json
from ..training.run import TrainingRun
from .folds import Fold

logger = logging.getLogger("tinysleepnet")


@dataclass(frozen=True)
class CvRun:
    """The folder of one cross-validation run (``tinysleepnet cv --out RUN``).

    Parameters
    ----------
    folder : Path
        The run directory; nothing is written by making the object.
    """

    folder: Path

    FOLDS: ClassVar[str] = "folds.json"
    CONFIG: ClassVar[str] = TrainingRun.CONFIG
    EVALUATION: ClassVar[str] = "evaluation"

    def __post_init__(self) -> None:
        object.__setattr__(self, "folder", Path(self.folder))

    @property
    def folds_path(self) -> Path:
        return self.folder / self.FOLDS

    @property
    def config_path(self) -> Path:
        return self.folder / self.CONFIG

    @property
    def evaluation_dir(self) -> Path:
        return self.folder / self.EVALUATION

    @property
    def exists(self) -> bool:
        """Whether the folder holds a run's plan (``folds.json``)."""
        return self.folds_path.is_file()

    def fold(self, index: int) -> TrainingRun:
        """Fold ``index``'s training run (``RUN/fold_07``)."""
        return TrainingRun(self.folder / f"fold_{index:02d}")

    def read_plan(self) -> dict[str, Any]:
        """The contents of ``folds.json`` (clear error if the folder is not a cv run)."""
        if not self.exists:
            raise PathError(self.folder, f"not a cross-validation run (no {self.FOLDS})")
        return read_json(self.folds_path, "cross-validation plan")

    def settings(self, config: Config | None, data: dict[str, Any]) -> Config:
        """The run's settings with the nights' channel, rate and epoch length ``data``: those
        stored in the run when there is one (``config`` must then agree with them but for
        ``call`` and ``runtime`` settings), else ``config`` (default: the paper's)."""
        if not self.config_path.is_file():
            return (config if config is not None else Config()).replace(**data)
        saved = Config.load(self.config_path)
        if config is None:
            return saved
        config = config.replace(**data)
        if detail := config.differences(saved, ignore=RERUN_FREE_FIELDS):
            raise PathError(
                self.config_path,
                f"settings differ from this run's: {detail}; "
                "rerun with the run's settings or choose another run directory",
            )
        return config

    def check_plan(self, plan: dict[str, Any]) -> None:
        """Fail if ``folds.json`` disagrees with ``plan`` on any key ``plan`` has.

        The nights (``plan["data"]``) are compared by :func:`data_differences`; a
        ``folds.json`` without their ``content_sha256`` (an earlier version's) is checked on
        the rest, with a warning that the folds already trained may be on other signals.

        Raises
        ------
        PathError
            Naming ``folds.json`` and what differs, in one line.
        """
        if not self.exists:
            return
        saved = self.read_plan()
        earlier = saved.get("data") or {}
        shown = []
        for k in plan:
            if k == "data":
                if detail := data_differences(plan[k], earlier):
                    shown.append(f"other data ({detail})")
            elif saved.get(k) != plan[k]:
                shown.append(
                    "different subjects"
                    if k == "folds"
                    else f"{k}={plan[k]!r} (run has {saved.get(k)!r})"
                )
        if shown:
            raise PathError(
                self.folds_path,
                f"this run was made with other data or folds: {', '.join(shown)}; "
                "choose another run directory",
            )
        if "data" in plan and CONTENT not in earlier:
            logger.warning(
                "%s records no contents of the nights (an earlier version's): the folds "
                "already trained are not checked to be on these signals and stages",
                self.folds_path,
            )

    def begin(self, config: Config, plan: dict[str, Any]) -> None:
        """Write the run's settings and its plan, each unless stored already (a stored plan
        agrees with ``plan``, :meth:`check_plan`, or is an earlier version's, which is not
        to vouch for folds it did not check)."""
        if not self.config_path.is_file():
            config.save(self.config_path)
        if not self.exists:
            write_json(self.folds_path, plan)

    def check_release(self, config: Config) -> None:
        """Refuse to vouch for a release with other settings (other than ``runtime`` ones).

        Raises
        ------
        PathError
            Naming the run directory and the settings that differ.
        """
        run_config = Config.load(self.config_path)
        if detail := config.differences(run_config, ignore=fields_with_role("runtime")):
            raise PathError(
                self.folder,
                f"cross-validated with other settings: {detail}; release with the "
                "run's settings, or leave out --cv-run",
            )


def make_plan(
    data_dir: str | Path,
    nights: Sequence[Night],
    n_folds: int,
    config: Config,
    folds: list[Fold],
) -> dict[str, Any]:
    """The contents of ``folds.json``: what makes the run the same run.

    Parameters
    ----------
    data_dir : str or Path
        The prepared folder (:func:`data_identity`).
    nights : sequence of Night
        Its nights (their contents).
    n_folds : int
        Folds of the run.
    config : Config
        The run's settings (``valid_frac`` and ``seed``).
    folds : list of Fold
        The folds (:func:`fold_record` each).

    Returns
    -------
    dict
        ``data`` (:func:`data_identity`), ``n_folds``,
        ``valid_frac``, ``seed`` and ``folds``.
    """
    return {
        "data": data_identity(data_dir, nights),
        "n_folds": n_folds,
        "valid_frac": config.valid_frac,
        "seed": config.seed,
        "folds": [fold_record(fold) for fold in folds],
    }


def data_identity(data_dir: str | Path, nights: Sequence[Night]) -> dict[str, Any]:
    """What makes a prepared folder the same data: its nights, their epoch counts, channel,
    rate and contents (:data:`CONTENT`, :func:`~tinysleepnet.data.nights.content_hash` of
    ``nights``, the folder's nights as loaded). Not its path, so machines that mount the
    data elsewhere share a run."""
    manifest = read_manifest(data_dir)
    return {
        "nights": dict(
            zip(manifest["name"], manifest["n_epochs"].astype(int).tolist(), strict=True)
        ),
        "channels": sorted(set(manifest["channel"])),
        "sfreq": sorted(set(manifest["sfreq"].astype(float).tolist())),
        CONTENT: content_hash(nights),
    }


#: Most night names :func:`data_differences` lists in one part; the rest are counted.
SHOWN_NIGHTS = 5


def data_differences(data: dict[str, Any], earlier: dict[str, Any] | None) -> str:
    """How the nights of ``data`` differ from those of ``earlier`` (two :func:`data_identity`
    records, each with or without its :data:`CONTENT`), for an error message.

    Parameters
    ----------
    data : dict
        The data asked for now.
    earlier : dict or None
        The data the run was made with (None or ``{}``: a record without it).

    Returns
    -------
    str
        The parts that apply, e.g. ``"nights added: SC4011E0, SC4012E0; nights removed:
        SC4001E0; epochs: SC4002E0 839 (run has 841); channels ['EEG Pz-Oz'] (run has
        ['EEG Fpz-Cz'])"``, at most :data:`SHOWN_NIGHTS` names a list; when only the
        contents differ, ``"the same nights with other signals or stages (content SHA-256
        0123456789ab..., run has ba9876543210...)"``; ``""`` when the two agree, or when
        they differ in contents only and ``earlier`` has none (an earlier version's record:
        its caller warns).
    """
    earlier = earlier or {}
    new, old = data.get("nights", {}), earlier.get("nights", {})
    changes = {"added": new.keys() - old.keys(), "removed": old.keys() - new.keys()}
    parts = [f"nights {verb}: {_listed(sorted(names))}" for verb, names in changes.items() if names]
    if recounted := sorted(k for k in new.keys() & old.keys() if new[k] != old[k]):
        parts.append("epochs: " + _listed([f"{k} {new[k]} (run has {old[k]})" for k in recounted]))
    parts += [
        f"{k} {data.get(k)!r} (run has {earlier.get(k)!r})"
        for k in sorted((data.keys() | earlier.keys()) - {"nights", CONTENT})
        if data.get(k) != earlier.get(k)
    ]
    if not parts and CONTENT in earlier and data.get(CONTENT) != earlier[CONTENT]:
        parts.append(other_contents(str(data.get(CONTENT)), str(earlier[CONTENT])))
    return "; ".join(parts)


def _listed(items: list[str]) -> str:
    """The first :data:`SHOWN_NIGHTS` items, comma-separated, and how many more."""
    more = len(items) - SHOWN_NIGHTS
    return ", ".join(items[:SHOWN_NIGHTS]) + (f" and {more} more" if more > 0 else "")


def fold_record(fold: Fold) -> dict[str, Any]:
    """A fold's subjects, as ``folds.json`` and its ``DONE`` record hold them."""
    return {
        "fold": fold.index,
        "test_subjects": list(fold.test_subjects),
        "valid_subjects": list(fold.valid_subjects),
        "train_subjects": list(fold.train_subjects),
    }
