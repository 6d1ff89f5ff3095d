"""Subject-wise cross-validation: one resumable training run per fold, in one run directory.

Every fold can run alone (``--fold I``), on any machine sharing the run directory, so a
scheduler such as a SLURM array can spread the folds; all of them agree on the split
because ``folds.json`` is a deterministic function of the subjects, ``n_folds``,
``valid_frac`` and seed. The run directory is a :class:`~.run.CvRun` (its layout is drawn
there); each fold is one :func:`run_fold`, which ``finetune`` also runs.

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
from ..data.nights import Night, load_nights
from ..errors import PathError, TinySleepNetError
from ..io.atomic import atomic_path
from ..nn.checkpoint import load_model
from ..nn.device import resolve_device, torch_threads
from ..nn.inference import predict_proba
from ..scoring.metrics import scores
from ..training.distributed import is_main_process
from ..training.fit import fit
from ..training.provenance import data_settings
from ..training.run import TrainingRun
from ..training.stall import remedy_text
from .folds import Fold, make_folds, nights_of
from .run import CvRun, fold_record, make_plan

logger = logging.getLogger("tinysleepnet")

#: Folds of a new run when none are asked for: Sleep-EDF-20's protocol.
DEFAULT_FOLDS = 20


def fold_dir(run_dir: str | Path, index: int) -> Path:
    """Folder of fold ``index`` inside a run directory (``RUN/fold_07``)."""
    return CvRun(Path(run_dir)).fold(index).folder


def is_done(run_dir: str | Path, index: int) -> bool:
    """Whether fold ``index`` has finished: trained, its test nights staged and scored."""
    return CvRun(Path(run_dir)).fold(index).is_done


def read_folds(run_dir: str | Path) -> dict[str, Any]:
    """The contents of ``RUN/folds.json`` (clear error if the folder is not a cv run)."""
    return CvRun(Path(run_dir)).read_plan()


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
    run = CvRun(Path(run_dir))
    stored = run.read_plan() if run.exists else {}
    n_folds = n_folds or stored.get("n_folds", DEFAULT_FOLDS)
    indices = list(range(n_folds)) if folds is None else list(dict.fromkeys(folds))
    if bad := [i for i in indices if not 0 <= i < n_folds]:
        raise TinySleepNetError(f"fold {bad[0]} out of range: folds are 0..{n_folds - 1}")
    nights = load_nights(data_dir)
    config = run.settings(config, data_settings(nights))
    splits = make_folds(
        {night.subject for night in nights}, n_folds, valid_frac=config.valid_frac, seed=config.seed
    )
    plan = make_plan(data_dir, nights, n_folds, config, splits)
    run.check_plan(plan)
    if is_main_process():  # under torchrun, process 0 writes the run's files
        run.begin(config, plan)
    pending = [i for i in indices if not run.fold(i).is_done]
    if n_parallel > 1 and len(pending) > 1:
        del nights  # each worker loads its own
        _run_in_parallel(data_dir, run, [splits[i] for i in pending], config, n_parallel)
    else:
        for i in pending:
            run_fold(run, splits[i], nights, config, progress=progress)
    return [run.fold(i).folder for i in indices]


def _run_in_parallel(
    data_dir: str | Path, run: CvRun, splits: Sequence[Fold], config: Config, n_parallel: int
) -> None:
    """Train several folds at once in worker processes (joblib's loky backend)."""
    # The run's threads (or this process's) are shared out between the workers.
    threads = config.threads or torch.get_num_threads()
    shared = config.replace(threads=max(1, threads // n_parallel))
    Parallel(n_jobs=n_parallel)(
        delayed(_fold_worker)(data_dir, run, fold, shared) for fold in splits
    )


def _fold_worker(data_dir: str | Path, run: CvRun, fold: Fold, config: Config) -> None:
    run_fold(run, fold, load_nights(data_dir), config, progress=False)


def run_fold(
    run: CvRun,
    fold: Fold,
    nights: Sequence[Night],
    config: Config,
    *,
    progress: bool,
    init_weights: str | Path | None = None,
    frozen: Sequence[str] = (),
) -> TrainingRun:
    """Train one fold (:func:`~tinysleepnet.training.fit.fit` on its training and
    validation subjects), then stage and score its test nights; resumable.

    The fold's folder gets the staged test nights (``predictions/<night>.npz``,
    :func:`save_predictions`) and, last, its ``DONE`` record: the fold's subjects,
    ``best_pass``, the test ``scores``, ``stalled_passes``, ``best_predicts_one_stage`` and
    ``restarted_after_pass``. A fold already done returns at once; one stopped half-way
    resumes its training; a finished fold of other subjects is refused. ``init_weights``
    and ``frozen`` are :func:`fit`'s (fine-tuning).

    Returns
    -------
    TrainingRun
        The fold's folder.
    """
    fold_run = run.fold(fold.index)
    if fold_run.is_done:
        done = fold_run.read_done()
        if any(done.get(k) != v for k, v in fold_record(fold).items()):
            raise PathError(
                fold_run.done_path, "holds a fold of other subjects; use another output folder"
            )
        return fold_run
    with torch_threads(config.threads):
        _train_and_test_fold(
            nights, fold, config, fold_run, progress, init_weights=init_weights, frozen=frozen
        )
    return fold_run


def _train_and_test_fold(
    nights: Sequence[Night],
    fold: Fold,
    config: Config,
    fold_run: TrainingRun,
    progress: bool,
    *,
    init_weights: str | Path | None,
    frozen: Sequence[str],
) -> None:
    test = nights_of(nights, fold.test_subjects)
    logger.info("fold %d: test subjects %s", fold.index, ", ".join(fold.test_subjects))
    result = fit(
        nights_of(nights, fold.train_subjects),
        nights_of(nights, fold.valid_subjects),
        config,
        fold_run.folder,
        progress=progress,
        init_weights=init_weights,
        frozen=frozen,
    )
    if not is_main_process():  # the other torchrun processes only helped to train
        return
    model = load_model(result.best_path, device=resolve_device(config.device))
    label = f"fold {fold.index}: test" if progress else None
    probas = predict_proba(model, [night.signal_uv for night in test], progress=label)
    for night, proba in zip(test, probas, strict=True):
        save_predictions(fold_run.prediction_path(night.name), night, proba)
    fold_scores = scores(
        np.concatenate([night.stages for night in test]),
        np.concatenate([proba.argmax(axis=1) for proba in probas]),
    )
    fold_run.write_done(
        {
            **fold_record(fold),
            "best_pass": result.best_pass,
            "scores": fold_scores,
            "stalled_passes": result.stalled_passes,
            "best_predicts_one_stage": result.best_predicts_one_stage,
            "restarted_after_pass": result.restarted_after_pass,
        }
    )
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
