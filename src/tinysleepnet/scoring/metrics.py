"""Scores of a staging against an expert scoring (scikit-learn underneath)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from ..stages import N_STAGES, STAGES

_LABELS = list(range(N_STAGES))


def scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro-F1, Cohen's kappa, per-stage precision/recall/F1 and confusion matrix.

    Parameters
    ----------
    y_true, y_pred : ndarray of int, shape (n_epochs,)
        Class ids 0..4 (W, N1, N2, N3, REM), expert and predicted.

    Returns
    -------
    dict
        ``acc``, ``mf1``, ``kappa`` (floats), ``n_epochs``, ``per_stage`` (stage name ->
        precision, recall, f1, support), ``confusion`` (rows: expert, columns: predicted,
        as nested lists in stage order) and ``mf1_stages``, the stages macro-F1 averages
        over: those the expert or the prediction used (scikit-learn's ``labels=``). A stage
        neither used (no N3 in a short recording, say) has no F1 and is left out of the
        average rather than counted as 0; a stage used by one side only counts with its
        F1 of 0.

    Examples
    --------
    >>> s = scores(np.array([0, 0, 2, 2]), np.array([0, 2, 2, 2]))
    >>> s["mf1_stages"], round(s["mf1"], 3)
    (['W', 'N2'], 0.733)
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.size == 0:
        raise ValueError("no epochs to score")
    outside = np.setdiff1d(np.union1d(y_true, y_pred), _LABELS)
    if outside.size:
        raise ValueError(f"stage ids must be 0..{N_STAGES - 1}, got {outside.tolist()}")
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=_LABELS, zero_division=0
    )
    used = np.union1d(y_true, y_pred).tolist()
    return {
        "n_epochs": int(y_true.size),
        "acc": float(accuracy_score(y_true, y_pred)),
        "mf1": float(f1_score(y_true, y_pred, labels=used, average="macro", zero_division=0)),
        "mf1_stages": [STAGES[i] for i in used],
        "kappa": float(cohen_kappa_score(y_true, y_pred, labels=_LABELS)),
        "per_stage": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(STAGES, precision, recall, f1, support, strict=True)
        },
        "confusion": confusion_matrix(y_true, y_pred, labels=_LABELS).tolist(),
    }
