"""The scores of a cross-validation run: all folds' test epochs pooled, as the paper reports.

:func:`evaluate_run` reads every fold's ``predictions/*.npz``, scores the pooled epochs and
each fold, and writes ``RUN/evaluation/scores.json``, ``scores.md`` and ``confusion.png``.
A run with unfinished folds is refused, naming them, unless a partial score is asked for;
then every output says which folds are missing. A finished fold whose predictions are
unreadable, or hold fewer or more epochs than it scored, counts as missing.
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from ..errors import PathError
from ..io.atomic import write_figure, write_json, write_text_atomic
from ..scoring.calibration import calibration_summary, plot_reliability
from ..scoring.metrics import scores
from ..stages import STAGES
from ..text import markdown_table
from ..training.calibrate import checkpoint_temperature
from ..training.run import TrainingRun
from ..training.stall import ONE_STAGE_SHARE, remedy_text, top_stage
from .run import CvRun

logger = logging.getLogger("tinysleepnet")


def evaluate_run(run_dir: str | Path, *, allow_partial: bool = False) -> dict[str, Any]:
    """Score a cross-validation run and write its report.

    Parameters
    ----------
    run_dir : str or Path
        Run directory of :func:`~tinysleepnet.evaluation.cv.cross_validate`.
    allow_partial : bool
        Score the finished folds even if some are missing; the outputs then say
        ``PARTIAL: folds 3, 7 missing``.

    Returns
    -------
    dict
        ``pooled`` (the scores of all test epochs of all scored folds, see
        :func:`~tinysleepnet.scoring.metrics.scores`), ``folds`` (one row per scored fold:
        ``fold``, ``test_subjects``, ``n_nights``, ``n_epochs``, ``acc``, ``mf1``,
        ``kappa``), ``n_folds``, ``missing_folds``, ``partial`` and ``paths`` (the files
        written: ``json``, ``markdown``, ``figure``).

    Raises
    ------
    TinySleepNetError
        If ``run_dir`` is not a cross-validation run, no fold has finished, or some folds
        are missing and ``allow_partial`` is False.
    """
    run_dir = Path(run_dir)
    run = CvRun(run_dir)
    plan = run.read_plan()
    unfinished = [i for i in range(plan["n_folds"]) if not run.fold(i).is_done]
    # a finished fold whose predictions are damaged or incomplete counts as missing
    read: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}
    damaged: dict[int, str] = {}
    for i in range(plan["n_folds"]):
        if i not in unfinished:
            try:
                read[i] = _fold_stages(run.fold(i))
            except PathError as err:
                damaged[i] = str(err)
    missing = sorted([*unfinished, *damaged])
    if len(missing) == plan["n_folds"]:
        raise PathError(run_dir, f"no fold has finished yet{_damaged_text(damaged)}")
    if missing and not allow_partial:
        raise PathError(
            run_dir,
            f"{_missing_text(missing)}{_damaged_text(damaged)} (run them, or pass --allow-partial)",
        )
    for reason in damaged.values():
        logger.warning("%s; scored without it", reason)
    scored = [fold for fold in plan["folds"] if fold["fold"] not in missing]
    stages = [read[fold["fold"]] for fold in scored]
    out_dir = run.evaluation_dir
    result = {
        "run_dir": str(run_dir),
        "n_folds": plan["n_folds"],
        "missing_folds": missing,
        "partial": bool(missing),
        "pooled": scores(
            np.concatenate([expert for expert, _, _ in stages]),
            np.concatenate([predicted for _, predicted, _ in stages]),
        ),
        "folds": [
            _fold_row(fold, *night_stages)
            for fold, night_stages in zip(scored, stages, strict=True)
        ],
        "paths": {
            "json": str(out_dir / "scores.json"),
            "markdown": str(out_dir / "scores.md"),
            "figure": str(out_dir / "confusion.png"),
            "reliability": str(out_dir / "reliability.png"),
        },
    }
    result["one_stage_folds"] = [
        row["fold"] for row in result["folds"] if row["top_share"] >= ONE_STAGE_SHARE
    ]
    result["restarted_folds"] = _restarted_folds(run, scored)
    result["calibration"] = _calibration(run, scored, result["paths"]["reliability"])
    write_json(result["paths"]["json"], result)
    write_text_atomic(result["paths"]["markdown"], summary_markdown(result))
    title = _title(result)
    if missing:
        title += f"\nPARTIAL: {_missing_text(missing)}"
    plot_confusion(result["pooled"]["confusion"], result["paths"]["figure"], title=title)
    return result


def summary_markdown(result: dict[str, Any]) -> str:
    """The report of :func:`evaluate_run` as Markdown: headline, per-stage, confusion, folds."""
    pooled = result["pooled"]
    per_stage = pooled["per_stage"]
    lines = [f"# {_title(result)}", ""]
    if result["partial"]:
        lines += [f"**PARTIAL: {_missing_text(result['missing_folds'])}**", ""]
    lines += _one_stage_lines(result)
    if restarts := restart_text(result):
        lines += [f"**{restarts}.**", ""]
    lines += [
        f"{pooled['n_epochs']} test epochs from {len(result['folds'])} of {result['n_folds']} "
        "folds, pooled in one confusion matrix.",
        "",
        "## Overall",
        "",
        *markdown_table(
            ["ACC", "MF1", "kappa", f"F1 {' / '.join(STAGES)}"],
            [
                [
                    _percent(pooled["acc"]),
                    _percent(pooled["mf1"]),
                    f"{pooled['kappa']:.2f}",
                    " / ".join(_percent(per_stage[s]["f1"]) for s in STAGES),
                ]
            ],
        ),
        "",
        "## Per stage",
        "",
        *markdown_table(
            ["stage", "precision", "recall", "F1", "epochs"],
            [
                [s]
                + [_percent(per_stage[s][k]) for k in ("precision", "recall", "f1")]
                + [str(per_stage[s]["support"])]
                for s in STAGES
            ],
        ),
        "",
        "## Confusion matrix",
        "",
        "Rows: expert stage; columns: predicted stage; epochs (percent of the row).",
        "",
        *markdown_table(
            ["expert \\ predicted", *STAGES],
            [
                [stage, *(f"{n} ({100 * f:.1f}%)" for n, f in zip(row, fractions, strict=True))]
                for stage, row, fractions in zip(
                    STAGES, pooled["confusion"], _row_fractions(pooled["confusion"]), strict=True
                )
            ],
        ),
        "",
        *_calibration_lines(result.get("calibration")),
        "## Folds",
        "",
        *markdown_table(
            ["fold", "test subjects", "nights", "epochs", "ACC", "MF1", "kappa"],
            [
                [
                    str(row["fold"]),
                    ", ".join(row["test_subjects"]),
                    str(row["n_nights"]),
                    str(row["n_epochs"]),
                    _percent(row["acc"]),
                    _percent(row["mf1"]),
                    f"{row['kappa']:.2f}",
                ]
                for row in result["folds"]
            ],
        ),
    ]
    return "\n".join(lines) + "\n"


def plot_confusion(confusion: ArrayLike, path: str | Path, *, title: str) -> None:
    """Save the confusion matrix as an image: colour = percent of the row, text = counts too.

    Parameters
    ----------
    confusion : array-like of int, shape (5, 5)
        Epoch counts; rows are the expert stages, columns the predicted ones.
    path : str or Path
        Image file; its extension picks the format (``.png``, ``.pdf``, ``.svg``).
    title : str
        Figure title.
    """
    counts = np.asarray(confusion)
    fractions = _row_fractions(counts)
    fig = Figure(figsize=(5.5, 4.8), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(100 * fractions, cmap="Blues", vmin=0, vmax=100)
    fig.colorbar(image, ax=ax, label="% of expert stage")
    for (i, j), n in np.ndenumerate(counts):
        colour = "white" if fractions[i, j] > 0.5 else "black"
        text = f"{100 * fractions[i, j]:.1f}%\n{n}"
        ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=8)
    ticks = np.arange(len(STAGES))
    ax.set(xticks=ticks, yticks=ticks, xticklabels=STAGES, yticklabels=STAGES)
    ax.set(xlabel="predicted stage", ylabel="expert stage", title=title)
    write_figure(path, fig, dpi=150)


def _fold_stages(fold: TrainingRun) -> tuple[np.ndarray, np.ndarray, int]:
    """Expert and predicted stages of all test epochs of one fold, and its number of nights.

    Raises
    ------
    PathError
        If the fold has no predictions, one is unreadable, or they hold another number of
        test epochs than the fold scored when it finished (a file deleted or replaced).
    """
    files = sorted(fold.predictions_dir.glob("*.npz"))
    if not files:
        raise PathError(fold.folder, f"marked done but has no {TrainingRun.PREDICTIONS}/*.npz")
    expert, predicted = [], []
    for file in files:
        try:
            with np.load(file) as night:
                expert.append(np.asarray(night["expert"]))
                predicted.append(np.asarray(night["predicted"]))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
            raise PathError.wrap(file, "not a readable predictions file", err) from err
    n_epochs = sum(len(stages) for stages in expert)
    scored = fold.read_done().get("scores", {}).get("n_epochs")
    if scored is not None and n_epochs != scored:
        raise PathError(
            fold.predictions_dir,
            f"holds {n_epochs} test epochs, the fold scored {scored} when it finished "
            "(a predictions file deleted or replaced?)",
        )
    return np.concatenate(expert), np.concatenate(predicted), len(files)


def _calibration(run: CvRun, folds: Sequence[dict[str, Any]], figure: str) -> dict[str, Any]:
    """ECE of the pooled test epochs before and after each fold's temperature; the diagram."""
    proba, expert, temperature = [], [], []
    temperatures = {}
    for fold in folds:
        fold_run = run.fold(fold["fold"])
        best = fold_run.best_path
        temperatures[str(fold["fold"])] = checkpoint_temperature(best) if best.is_file() else 1.0
        for file in sorted(fold_run.predictions_dir.glob("*.npz")):
            with np.load(file) as night:
                proba.append(night["proba"])
                expert.append(night["expert"])
            temperature.append(np.full(len(expert[-1]), temperatures[str(fold["fold"])]))
    all_proba, all_expert, all_temperature = (
        np.concatenate(parts) for parts in (proba, expert, temperature)
    )
    title = "Cross-validation test epochs, pooled"
    plot_reliability(all_proba, all_expert, all_temperature, figure, title=title)
    return {
        **calibration_summary(all_proba, all_expert, all_temperature),
        "temperatures": temperatures,
    }


def _calibration_lines(calibration: dict[str, Any] | None) -> list[str]:
    """The report's calibration section (none for results written before it existed)."""
    if calibration is None:
        return []
    temperatures = ", ".join(f"{t:.2f}" for t in calibration["temperatures"].values())
    return [
        "## Calibration",
        "",
        "Expected calibration error of the test epochs (how far the largest probability is "
        "from the accuracy), before and after each fold's temperature (fitted on its "
        "validation nights).",
        "",
        *markdown_table(
            ["ECE before", "ECE after", "temperatures"],
            [
                [
                    _percent(calibration["ece_before"]),
                    _percent(calibration["ece_after"]),
                    temperatures,
                ]
            ],
        ),
        "",
    ]


def _one_stage_lines(result: dict[str, Any]) -> list[str]:
    """A warning naming the folds whose best checkpoint still stages nearly all one stage."""
    rows = [row for row in result["folds"] if row["fold"] in result.get("one_stage_folds", [])]
    if not rows:
        return []
    named = ", ".join(
        f"fold {row['fold']} ({100 * row['top_share']:.0f} % {row['top_stage']})" for row in rows
    )
    return [
        f"**Training stalled: the best checkpoint of {named} predicts one stage for nearly "
        "every test epoch; rerun those folds with `--preset fast` (or, if they ran with "
        "`--on-stall warn`, without it).**",
        "",
    ]


def restart_text(result: dict[str, Any]) -> str:
    """A sentence naming the folds restarted with the stall remedy, ``""`` when none was.

    Parameters
    ----------
    result : dict
        :func:`evaluate_run`'s result (its ``restarted_folds``: ``fold`` and ``after_pass``,
        the pass after which the stalled first attempt was restarted).
    """
    restarted = result.get("restarted_folds", [])
    if not restarted:
        return ""
    named = ", ".join(f"fold {row['fold']} after pass {row['after_pass']}" for row in restarted)
    return (
        f"{len(restarted)} of {len(result['folds'])} folds stalled and were restarted with the "
        f"stall remedy ({remedy_text()}): {named}; their scores are not the paper recipe's "
        "(`--on-stall warn` keeps every fold exact)"
    )


def _restarted_folds(run: CvRun, folds: Sequence[dict[str, Any]]) -> list[dict[str, int]]:
    """The folds whose training was restarted with the stall remedy, from their summaries."""
    restarted = []
    for fold in folds:
        done = run.fold(fold["fold"]).read_done()
        if done.get("restarted_after_pass") is not None:
            restarted.append({"fold": fold["fold"], "after_pass": done["restarted_after_pass"]})
    return restarted


def _fold_row(
    fold: dict[str, Any], expert: np.ndarray, predicted: np.ndarray, n_nights: int
) -> dict[str, Any]:
    """One line of the per-fold table: the fold's subjects and its own test scores."""
    fold_scores = scores(expert, predicted)
    stage, share = top_stage(predicted)
    return {
        "fold": fold["fold"],
        "test_subjects": fold["test_subjects"],
        "n_nights": n_nights,
        **{k: fold_scores[k] for k in ("n_epochs", "acc", "mf1", "kappa")},
        "top_stage": stage,
        "top_share": share,
    }


def _row_fractions(confusion: ArrayLike) -> np.ndarray:
    """Each count of a confusion matrix over its row's total (0 in an empty row)."""
    counts = np.asarray(confusion, dtype=float)
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)


def _damaged_text(damaged: dict[int, str]) -> str:
    """``"; fold 3: <why>"`` for the first finished fold whose predictions cannot be used."""
    if not damaged:
        return ""
    fold, reason = next(iter(damaged.items()))
    more = f" (and {len(damaged) - 1} more)" if len(damaged) > 1 else ""
    return f"; fold {fold}: {reason}{more}"


def _missing_text(missing: Sequence[int]) -> str:
    word = "fold" if len(missing) == 1 else "folds"
    return f"{word} {', '.join(map(str, missing))} missing"


def _title(result: dict[str, Any]) -> str:
    return f"Cross-validation, {result['n_folds']} folds, pooled"


def _percent(value: float) -> str:
    return f"{100 * value:.1f}"
