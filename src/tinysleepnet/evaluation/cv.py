"""Subject-wise cross-validation: one resumable training run per fold, in one run directory.

Every fold can run alone (``--fold I``), on any machine sharing the run directory, so a
scheduler such as a SLURM array can spread the folds; all of them agree on the split
because ``folds.json`` is a deterministic function of the subjects, ``n_folds``,
``valid_frac`` and ``seed``. Layout of a run directory::

    RUN/
      folds.json              fold -> test/valid/train subjects; the nights, n_folds
      config.json             settings shared by every fold
      fold_00/                train()'s files (config.json log.csv last.pt best.pt)
        predictions/<night>.npz
        DONE                  the fold's test scores; written last
      evaluation/             written by :func:`~tinysleepnet.evaluation.report.evaluate_run`

A fold that has its ``DONE`` marker is skipped; one that stopped half-way resumes from its
``last.pt``. The test subjects of a fold take no part in its training or in choosing its
checkpoint: the validation subjects do that.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from joblib import Parallel, delayed

from ..config import Config
from ..data.nights import Night, load_nights, read_manifest
from ..errors import TinySleepNetError
from ..io.atomic import atomic_path, write_json
from ..prediction.inference import predict_proba
from ..training.checkpoint import load_model
from ..training.loop import resolve_device, train
from .calibration import calibrate_checkpoint
from .folds import Fold, make_folds
from .metrics import scores

FOLDS_FILE = "folds.json"
CONFIG_FILE = "config.json"
DONE_FILE = "DONE"
PREDICTIONS_DIR = "predictions"

#: Settings that may differ between the calls running the folds of one run: the device of
#: each machine and free-form notes.
_FREE_FIELDS = ("device", "extra")


def fold_dir(run_dir: str | Path, index: int) -> Path:
    """Folder of fold ``index`` inside a run directory (``RUN/fold_07``)."""
    return Path(run_dir) / f"fold_{index:02d}"


def is_done(run_dir: str | Path, index: int) -> bool:
    """Whether fold ``index`` has finished: trained, its test nights staged and scored."""
    return (fold_dir(run_dir, index) / DONE_FILE).is_file()


def read_folds(run_dir: str | Path) -> dict[str, Any]:
    """The contents of ``RUN/folds.json`` (clear error if the folder is not a cv run)."""
    path = Path(run_dir) / FOLDS_FILE
    if not path.is_file():
        raise TinySleepNetError(f"{run_dir}: not a cross-validation run (no {FOLDS_FILE})")
    return json.loads(path.read_text(encoding="utf-8"))


def save_predictions(path: str | Path, night: Night, proba: np.ndarray) -> None:
    """Write one test night's staging next to its expert scoring (``.npz``, atomically).

    The file holds ``proba`` (n_epochs, 5) float32, ``predicted`` and ``expert`` (n_epochs,)
    class ids, and the night's ``subject``, ``night`` number and ``name``.
    """
    with atomic_path(path) as tmp:
        np.savez_compressed(
            tmp,
            proba=proba.astype(np.float32),
            predicted=proba.argmax(axis=1),
            expert=np.asarray(night.stages),
            subject=night.subject,
            night=night.night,
            name=night.name,
        )


def run_fold(
    data_dir: str | Path,
    run_dir: str | Path,
    fold: int,
    config: Config | None,
    *,
    n_folds: int,
    progress: bool = True,
) -> Path:
    """Train, stage and score one fold; see :func:`cross_validate`.

    Returns
    -------
    Path
        The fold's folder, holding its ``DONE`` marker.
    """
    return cross_validate(
        data_dir, run_dir, n_folds=n_folds, config=config, folds=[fold], progress=progress
    )[0]


def cross_validate(
    data_dir: str | Path,
    run_dir: str | Path,
    n_folds: int = 20,
    config: Config | None = None,
    folds: Sequence[int] | None = None,
    progress: bool = True,
    n_parallel: int = 1,
) -> list[Path]:
    """Run the folds of a subject-wise cross-validation that are not done yet.

    Parameters
    ----------
    data_dir : str or Path
        Prepared nights (the output of ``tinysleepnet prepare``).
    run_dir : str or Path
        Run directory shared by all folds; created if needed.
    n_folds : int
        Number of folds over the sorted subject ids (20 for Sleep-EDF-20, 10 for -78).
    config : Config or None
        Settings of every fold. ``None`` reuses ``RUN/config.json``, or the paper's
        defaults for a new run. Settings other than ``device`` and ``extra`` must
        match the run's.
    folds : sequence of int or None
        Indices (0-based) of the folds to run; ``None`` runs them all.
    progress : bool
        Print one line per fold and show the training progress bars (on stderr).
    n_parallel : int
        Folds trained at once, each in its own process on the configured device. The
        network is small, so one GPU can hold several folds and keep busy; on a CPU the
        cores are shared out between the processes. Progress bars are off when > 1.

    Returns
    -------
    list of Path
        The folders of the folds asked for, each holding its ``DONE`` marker.

    Raises
    ------
    TinySleepNetError
        If a fold index is out of range, or the run directory was made with another
        data folder, number of folds, subjects or settings.
    """
    run_dir = Path(run_dir)
    indices = list(range(n_folds)) if folds is None else list(dict.fromkeys(folds))
    if bad := [i for i in indices if not 0 <= i < n_folds]:
        raise TinySleepNetError(f"fold {bad[0]} out of range: folds are 0..{n_folds - 1}")
    config = _run_config(run_dir, config)
    plan = {"data": _data_identity(data_dir), "n_folds": n_folds}
    _check_plan(run_dir, plan)
    pending = [i for i in indices if not is_done(run_dir, i)]
    if pending:
        nights = load_nights(data_dir)
        subjects = {night.subject for night in nights}
        splits = make_folds(subjects, n_folds, valid_frac=config.valid_frac, seed=config.seed)
        plan |= {
            "valid_frac": config.valid_frac,
            "seed": config.seed,
            "folds": [_fold_to_dict(fold) for fold in splits],
        }
        _check_plan(run_dir, plan)
        write_json(run_dir / FOLDS_FILE, plan)
        if n_parallel > 1 and len(pending) > 1:
            del nights  # each worker loads its own copy
            _run_in_parallel(data_dir, run_dir, [splits[i] for i in pending], config, n_parallel)
        else:
            for i in pending:
                _run_one_fold(nights, splits[i], config, fold_dir(run_dir, i), progress=progress)
    return [fold_dir(run_dir, i) for i in indices]


def _run_in_parallel(
    data_dir: str | Path, run_dir: Path, splits: Sequence[Fold], config: Config, n_parallel: int
) -> None:
    """Train several folds at once in worker processes (joblib's loky backend)."""
    threads = max(1, torch.get_num_threads() // n_parallel)  # share this process's cores
    Parallel(n_jobs=n_parallel)(
        delayed(_fold_worker)(data_dir, fold, config, fold_dir(run_dir, fold.index), threads)
        for fold in splits
    )


def _fold_worker(
    data_dir: str | Path, fold: Fold, config: Config, out_dir: Path, threads: int
) -> None:
    torch.set_num_threads(threads)
    _run_one_fold(load_nights(data_dir), fold, config, out_dir, progress=False)
    print(f"fold {fold.index}: done", file=sys.stderr)


def _run_config(run_dir: Path, config: Config | None) -> Config:
    """The run's settings: written on first use, then required to stay the same."""
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        config = config if config is not None else Config()
        config.save(path)
        return config
    saved = Config.load(path)
    if config is None:
        return saved
    if detail := config.differences(saved, ignore=_FREE_FIELDS):
        raise TinySleepNetError(
            f"{path}: settings differ from this run's: {detail}; "
            "rerun with the run's settings or choose another run directory"
        )
    return config


def _check_plan(run_dir: Path, plan: dict[str, Any]) -> None:
    """Fail if ``RUN/folds.json`` disagrees with ``plan`` on any key ``plan`` has."""
    path = run_dir / FOLDS_FILE
    if not path.is_file():
        return
    saved = read_folds(run_dir)
    if changed := [k for k in plan if saved.get(k) != plan[k]]:
        shown = [
            {"folds": "different subjects", "data": "other nights, epoch counts or channel"}.get(
                k, f"{k}={plan[k]!r} (run has {saved.get(k)!r})"
            )
            for k in changed
        ]
        raise TinySleepNetError(
            f"{path}: this run was made with other data or folds: {', '.join(shown)}; "
            "choose another run directory"
        )


def _data_identity(data_dir: str | Path) -> dict[str, Any]:
    """What makes a prepared folder the same data: its nights, their epoch counts, channel
    and rate. Not its path, so machines that mount the data elsewhere share a run."""
    manifest = read_manifest(data_dir)
    return {
        "nights": dict(
            zip(manifest["name"], manifest["n_epochs"].astype(int).tolist(), strict=True)
        ),
        "channels": sorted(set(manifest["channel"])),
        "sfreq": sorted(set(manifest["sfreq"].astype(float).tolist())),
    }


def _fold_to_dict(fold: Fold) -> dict[str, Any]:
    return {
        "fold": fold.index,
        "test_subjects": list(fold.test_subjects),
        "valid_subjects": list(fold.valid_subjects),
        "train_subjects": list(fold.train_subjects),
    }


def _run_one_fold(
    nights: Sequence[Night], fold: Fold, config: Config, out_dir: Path, *, progress: bool
) -> None:
    """Train on the fold's training subjects, then stage and score its test nights."""

    def nights_of(subjects: Sequence[str]) -> list[Night]:
        wanted = set(subjects)
        return [night for night in nights if night.subject in wanted]

    test = nights_of(fold.test_subjects)
    if progress:
        print(f"fold {fold.index}: test subjects {', '.join(fold.test_subjects)}", file=sys.stderr)
    result = train(
        nights_of(fold.train_subjects),
        nights_of(fold.valid_subjects),
        config,
        out_dir,
        progress=progress,
    )
    device = resolve_device(config.device)
    calibrate_checkpoint(result.best_path, nights_of(fold.valid_subjects), device)
    model = load_model(result.best_path, device=device)
    probas = predict_proba(model, [night.signal_uv for night in test])
    for night, proba in zip(test, probas, strict=True):
        save_predictions(out_dir / PREDICTIONS_DIR / f"{night.name}.npz", night, proba)
    fold_scores = scores(
        np.concatenate([night.stages for night in test]),
        np.concatenate([proba.argmax(axis=1) for proba in probas]),
    )
    done = {**_fold_to_dict(fold), "best_pass": result.best_pass, "scores": fold_scores}
    write_json(out_dir / DONE_FILE, done)
    if progress:
        print(
            f"fold {fold.index}: ACC {fold_scores['acc']:.3f}  MF1 {fold_scores['mf1']:.3f}  "
            f"kappa {fold_scores['kappa']:.3f}  ({fold_scores['n_epochs']} test epochs)",
            file=sys.stderr,
        )
