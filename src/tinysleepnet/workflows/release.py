"""``tinysleepnet release``: one final model on all subjects, with its model card.

Cross-validation measures a recipe; the model a lab runs is trained once more on every
subject. As in each fold, a seeded share of the subjects is held out
(:func:`~tinysleepnet.evaluation.folds.split_validation`) to choose the checkpoint and to
fit the calibration temperature; the rest train it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._docs import fill_doc
from ..config import Config
from ..data.nights import Night, load_nights
from ..evaluation.folds import sorted_subjects, split_nights
from ..evaluation.report import evaluate_run
from ..evaluation.run import CvRun
from ..io.names import safe_name
from ..models.card import data_summary, headline, now_utc, versions
from ..models.folder import ModelFolder
from ..nn.checkpoint import file_checksum
from ..training.fit import fit

logger = logging.getLogger("tinysleepnet")


@fill_doc
def release(
    data_dir: str | Path,
    out: str | Path,
    config: Config | None = None,
    *,
    cv_run: str | Path | None = None,
    name: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train a model on all subjects of prepared nights and write it with its card.

    Parameters
    ----------
    data_dir : str or Path
        Prepared nights (``tinysleepnet prepare``).
    out : str or Path
        Model folder (:class:`~tinysleepnet.models.folder.ModelFolder`): ``model.pt``,
        ``model.json``, ``MODEL.md`` and ``training/``. Rerunning resumes the training in
        ``training/``.
    config : Config or None
        Settings; None takes those of ``cv_run`` when given, else the paper's recipe.
    cv_run : str or Path or None
        Cross-validation run of the same settings (``tinysleepnet cv``); its pooled
        scores go on the card. Without it the card says the model is not cross-validated.
    name : str or None
        Name of the model (default: the folder's name); one file name (:func:`model_name`).
    %(progress)s

    Returns
    -------
    dict
        The model card (as in ``model.json``).

    Raises
    ------
    TinySleepNetError
        If ``cv_run`` is not a finished cross-validation run of the same settings, or
        ``name`` is not a file name.
    """
    name = model_name(name, out)
    if config is None and cv_run is not None:
        run = CvRun(Path(cv_run))
        run.read_plan()  # "not a cross-validation run" before its settings are looked for
        config = Config.load(run.config_path)
    config = config or Config()
    cross_validation = cv_scores(cv_run, config) if cv_run is not None else None
    return release_nights(
        load_nights(data_dir),
        out,
        config,
        name=name,
        card={"cross_validation": cross_validation},
        progress=progress,
    )


def release_nights(
    nights: Sequence[Night],
    out: str | Path,
    config: Config,
    *,
    name: str | None = None,
    card: dict[str, Any] | None = None,
    init_weights: str | Path | None = None,
    frozen: Sequence[str] = (),
    progress: bool = True,
) -> dict[str, Any]:
    """:func:`release` on nights in memory; ``card`` adds or overrides entries of the card.

    The model is :func:`~tinysleepnet.training.fit.fit`'s calibrated ``best.pt`` of
    ``training/``; ``init_weights`` and ``frozen`` are passed to it (fine-tuning). Under
    torchrun, the processes other than the main one return ``{}`` once trained.
    """
    model = ModelFolder(Path(out))
    name = model_name(name, model.folder)  # refused before anything is trained or written
    training, valid = split_nights(nights, config.valid_frac, config.seed)
    result = fit(
        training,
        valid,
        config,
        model.training_dir,
        progress=progress,
        init_weights=init_weights,
        frozen=frozen,
    )
    # model.pt appears calibrated or not at all; the folder is a model once its card,
    # written last, describes it (ModelFolder.verified_card refuses a folder without one).
    temperature = result.temperature
    if temperature is None:  # a torchrun process other than the main one: it only trained
        return {}
    model.write_model(result.best_path)
    released = {
        "name": name,
        "created": now_utc(),
        "weights": {"file": ModelFolder.MODEL, "sha256": file_checksum(model.model_path)},
        "temperature": temperature,
        "data": data_summary(nights, sorted_subjects(night.subject for night in valid)),
        "config": config.to_dict(),
        "validation": {**headline(result.best_score), "best_pass": result.best_pass},
        "cross_validation": None,
        "parent": None,
        "versions": versions(),
        **(card or {}),
    }
    model.write_card(released)
    logger.info("released %s (temperature %.3f)", model.model_path, temperature)
    return released


def model_name(name: str | None, out: str | Path) -> str:
    """The name of the model released into ``out``: ``name``, else the folder's name.

    Raises
    ------
    PathError
        If it is not one file name (``../x``, ``/abs``, a dot first: it names the folder
        the model is installed into; :func:`~tinysleepnet.io.names.safe_name`).
    """
    return safe_name(name or Path(out).resolve().name, out, "model name")


def cv_scores(run_dir: str | Path, config: Config) -> dict[str, Any]:
    """The pooled scores of a finished cross-validation run of the same settings, for a card.

    Raises
    ------
    TinySleepNetError
        If the run is unfinished or was made with other settings (other than the device).
    """
    run_dir = Path(run_dir)
    run = CvRun(run_dir)
    plan = run.read_plan()
    run.check_release(config)
    evaluation = evaluate_run(run_dir)
    calibration = evaluation["calibration"]
    n_subjects = len({s for fold in plan["folds"] for s in fold["test_subjects"]})
    return {
        **headline(evaluation["pooled"]),
        "run": str(run_dir),
        "n_folds": plan["n_folds"],
        "nights": plan["data"]["nights"],
        "ece_before": calibration["ece_before"],
        "ece_after": calibration["ece_after"],
        "description": (
            f"Subject-wise cross-validation of the same settings ({plan['n_folds']} folds over "
            f"{n_subjects} subjects, {len(plan['data']['nights'])} nights; test epochs pooled). "
            f"Expected calibration error {100 * calibration['ece_before']:.1f}% before and "
            f"{100 * calibration['ece_after']:.1f}% after calibration."
        ),
    }
