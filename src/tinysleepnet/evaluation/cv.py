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

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from joblib import Parallel, delayed

from .._docs import fill_doc
from ..config import Config
from ..core.checkpoint import load_model
from ..core.device import resolve_device, torch_threads
from ..core.inference import predict_proba
from ..core.metrics import scores
from ..data.nights import Night, load_nights, read_manifest
from ..errors import PathError, TinySleepNetError
from ..io.atomic import atomic_path, read_json, write_json
from ..training.calibrate import calibrate_checkpoint
from ..training.distributed import is_main_process
from ..training.loop import CONFIG_FILE, data_settings, remedy_text, train
from .folds import Fold, make_folds, nights_of

logger = logging.getLogger("tinysleepnet")

FOLDS_FILE = "folds.json"
DONE_FILE = "DONE"
PREDICTIONS_DIR = "predictions"

#: Folds of a new run when none are asked for: Sleep-EDF-20's protocol.
DEFAULT_FOLDS = 20

#: Settings that may differ between the calls running the folds of one run: the device and
#: threads of each machine, what to do on a stall, and free-form notes.
_FREE_FIELDS = ("device", "threads", "extra", "on_stall")


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
        raise PathError(run_dir, f"not a cross-validation run (no {FOLDS_FILE})")
    return read_json(path, "cross-validation plan")


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


@fill_doc
def cross_validate(
    data_dir: str | Path,
    run_dir: str | Path,
    n_folds: int | None = None,
    config: Config | None = None,
    folds: Sequence[int] | None = None,
    progress: bool = True,
    n_parallel: int = 1,
) -> list[Path]:
    """Run the folds of a subject-wise cross-validation that are not done yet.

    Everything is checked (fold indices, the folds the subjects allow, the settings against
    an existing run's) before anything is written, so a refused call leaves no trace.

    Parameters
    ----------
    data_dir : str or Path
        Prepared nights (the output of ``tinysleepnet prepare``).
    run_dir : str or Path
        Run directory shared by all folds; created if needed.
    n_folds : int or None
        Number of folds over the sorted subject ids (20 for Sleep-EDF-20, 10 for -78).
        ``None``: the run's own, or :data:`DEFAULT_FOLDS` for a new run.
    config : Config or None
        Settings of every fold; their channel, rate and epoch length are the nights'.
        ``None`` reuses ``RUN/config.json``, or the paper's defaults for a new run.
        Settings other than ``device``, ``extra`` and ``on_stall`` must match the run's.
    folds : sequence of int or None
        Indices (0-based) of the folds to run; ``None`` runs them all.
    %(progress)s
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
        If a fold index is out of range, the subjects cannot make ``n_folds`` folds, the
        nights differ in channel, rate or epoch length, or the run directory was made with
        other nights, number of folds, subjects or settings.
    """
    run_dir = Path(run_dir)
    stored = read_folds(run_dir) if (run_dir / FOLDS_FILE).is_file() else {}
    n_folds = n_folds or stored.get("n_folds", DEFAULT_FOLDS)
    indices = list(range(n_folds)) if folds is None else list(dict.fromkeys(folds))
    if bad := [i for i in indices if not 0 <= i < n_folds]:
        raise TinySleepNetError(f"fold {bad[0]} out of range: folds are 0..{n_folds - 1}")
    nights = load_nights(data_dir)
    config = _run_config(run_dir, config, data_settings(nights))
    splits = make_folds(
        {night.subject for night in nights}, n_folds, valid_frac=config.valid_frac, seed=config.seed
    )
    plan = {
        "data": _data_identity(data_dir),
        "n_folds": n_folds,
        "valid_frac": config.valid_frac,
        "seed": config.seed,
        "folds": [_fold_to_dict(fold) for fold in splits],
    }
    _check_plan(run_dir, plan)
    if is_main_process():  # under torchrun, process 0 writes the run's files
        if not (run_dir / CONFIG_FILE).is_file():
            config.save(run_dir / CONFIG_FILE)
        write_json(run_dir / FOLDS_FILE, plan)
    pending = [i for i in indices if not is_done(run_dir, i)]
    if n_parallel > 1 and len(pending) > 1:
        del nights  # each worker loads its own
        _run_in_parallel(data_dir, run_dir, [splits[i] for i in pending], config, n_parallel)
    else:
        for i in pending:
            _run_one_fold(nights, splits[i], config, fold_dir(run_dir, i), progress=progress)
    return [fold_dir(run_dir, i) for i in indices]


def _run_in_parallel(
    data_dir: str | Path, run_dir: Path, splits: Sequence[Fold], config: Config, n_parallel: int
) -> None:
    """Train several folds at once in worker processes (joblib's loky backend)."""
    # The run's threads (or this process's) are shared out between the workers.
    threads = config.threads or torch.get_num_threads()
    shared = config.replace(threads=max(1, threads // n_parallel))
    Parallel(n_jobs=n_parallel)(
        delayed(_fold_worker)(data_dir, fold, shared, fold_dir(run_dir, fold.index))
        for fold in splits
    )


def _fold_worker(data_dir: str | Path, fold: Fold, config: Config, out_dir: Path) -> None:
    _run_one_fold(load_nights(data_dir), fold, config, out_dir, progress=False)


def _run_config(run_dir: Path, config: Config | None, data: dict[str, Any]) -> Config:
    """The run's settings with the nights' channel, rate and epoch length: those stored in
    the run when there is one (``config`` must then agree with them), else ``config``."""
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        return (config if config is not None else Config()).replace(**data)
    saved = Config.load(path)
    if config is None:
        return saved
    config = config.replace(**data)
    if detail := config.differences(saved, ignore=_FREE_FIELDS):
        raise PathError(
            path,
            f"settings differ from this run's: {detail}; "
            "rerun with the run's settings or choose another run directory",
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
        raise PathError(
            path,
            f"this run was made with other data or folds: {', '.join(shown)}; "
            "choose another run directory",
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
    with torch_threads(config.threads):
        _train_and_test_fold(nights, fold, config, out_dir, progress=progress)


def _train_and_test_fold(
    nights: Sequence[Night], fold: Fold, config: Config, out_dir: Path, *, progress: bool
) -> None:
    test = nights_of(nights, fold.test_subjects)
    logger.info("fold %d: test subjects %s", fold.index, ", ".join(fold.test_subjects))
    result = train(
        nights_of(nights, fold.train_subjects),
        nights_of(nights, fold.valid_subjects),
        config,
        out_dir,
        progress=progress,
    )
    if not is_main_process():  # the other torchrun processes only helped to train
        return
    device = resolve_device(config.device)
    calibrate_checkpoint(
        result.best_path, nights_of(nights, fold.valid_subjects), device, progress=progress
    )
    model = load_model(result.best_path, device=device)
    label = f"fold {fold.index}: test" if progress else None
    probas = predict_proba(model, [night.signal_uv for night in test], progress=label)
    for night, proba in zip(test, probas, strict=True):
        save_predictions(out_dir / PREDICTIONS_DIR / f"{night.name}.npz", night, proba)
    fold_scores = scores(
        np.concatenate([night.stages for night in test]),
        np.concatenate([proba.argmax(axis=1) for proba in probas]),
    )
    done = {
        **_fold_to_dict(fold),
        "best_pass": result.best_pass,
        "scores": fold_scores,
        "stalled_passes": result.stalled_passes,
        "best_predicts_one_stage": result.best_predicts_one_stage,
        "restarted_after_pass": result.restarted_after_pass,
    }
    write_json(out_dir / DONE_FILE, done)
    logger.info(
        "fold %d: ACC %.3f  MF1 %.3f  kappa %.3f  (%d test epochs)",
        fold.index,
        fold_scores["acc"],
        fold_scores["mf1"],
        fold_scores["kappa"],
        fold_scores["n_epochs"],
    )
    if result.restarted_after_pass is not None:
        logger.warning(
            "fold %d: stalled, and was restarted after pass %d with the stall remedy (%s); "
            "its scores are not the paper recipe's (--on-stall warn keeps it exact)",
            fold.index,
            result.restarted_after_pass,
            remedy_text(),
        )
    if result.best_predicts_one_stage:
        if result.restarted_after_pass is None and config.on_stall == "warn":
            rerun = "without --on-stall warn, or with --preset fast"
        else:
            rerun = "with --preset fast"
        logger.warning(
            "fold %d: its best checkpoint still predicts %.0f %% of the validation epochs "
            "as %s; rerun the fold %s",
            fold.index,
            100 * result.best_score["top_share"],
            result.best_score["top_stage"],
            rerun,
        )
