"""Calibrated confidence: one temperature per model, fitted on its validation nights.

A network trained to low cross-entropy on its training nights is usually over-confident on
others: its largest probability exceeds its accuracy. Temperature scaling (Guo et al., ICML
2017) divides the logits by one scalar ``T`` fitted by likelihood on held-out nights; the
most probable stage, and so every score, stays the same, while the probabilities match
how often the model is right. ``T > 1`` softens over-confident probabilities.

The temperature is stored in the checkpoint (key ``temperature``, written by
:func:`tinysleepnet.training.calibrate.calibrate_checkpoint`); a model without one uses
1.0. Probabilities suffice to fit and apply it: ``log p`` differs from the logits by a
constant per epoch, which the softmax cancels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from ..io.atomic import write_figure

#: Range searched for the temperature: from 10x sharper to 100x softer.
TEMPERATURE_BOUNDS = (0.1, 100.0)

#: Equal-width confidence bins of the expected calibration error and reliability diagram.
N_BINS = 15

#: Smallest probability taken as a log: softmax in float32 rounds tiny ones to 0.
_TINY = 1e-30


def _log_proba(proba: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(np.asarray(proba, dtype=np.float64), _TINY))


def apply_temperature(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities of the logits divided by ``temperature``.

    Parameters
    ----------
    proba : ndarray, shape (n_epochs, 5)
        Softmax probabilities of the uncalibrated network.
    temperature : float
        1.0 returns ``proba`` unchanged (as float32).

    Returns
    -------
    ndarray of float32, shape (n_epochs, 5)
    """
    if temperature == 1.0:
        return np.asarray(proba, dtype=np.float32)
    return np.exp(log_softmax(_log_proba(proba) / temperature, axis=1)).astype(np.float32)


def fit_temperature(proba: np.ndarray, stages: np.ndarray) -> float:
    """The temperature that maximises the likelihood of the expert stages.

    Parameters
    ----------
    proba : ndarray, shape (n_epochs, 5)
        Uncalibrated probabilities of held-out epochs (never the test epochs).
    stages : ndarray of int, shape (n_epochs,)
        Expert class ids of those epochs.

    Returns
    -------
    float
        The temperature, within :data:`TEMPERATURE_BOUNDS`.
    """
    log_p = _log_proba(proba)
    stages = np.asarray(stages)
    rows = np.arange(len(stages))

    def nll(log_t: float) -> float:
        return -float(np.mean(log_softmax(log_p / np.exp(log_t), axis=1)[rows, stages]))

    low, high = np.log(TEMPERATURE_BOUNDS)
    fit = minimize_scalar(nll, bounds=(low, high), method="bounded")
    return float(np.exp(fit.x))


def expected_calibration_error(
    proba: np.ndarray, stages: np.ndarray, n_bins: int = N_BINS
) -> float:
    """How far the confidence is from the accuracy, on average over epochs (0..1).

    Epochs are grouped into ``n_bins`` equal-width bins of confidence (the largest
    probability); the ECE is the mean over bins of ``|accuracy - mean confidence|``,
    weighted by the share of epochs in each bin.
    """
    table = reliability_table(proba, stages, n_bins)
    weight = table["count"] / max(table["count"].sum(), 1)
    return float(np.sum(weight * np.abs(table["accuracy"] - table["confidence"])))


def reliability_table(
    proba: np.ndarray, stages: np.ndarray, n_bins: int = N_BINS
) -> dict[str, np.ndarray]:
    """Per confidence bin: ``count``, mean ``confidence`` and ``accuracy`` (0 when empty),
    and the bin ``edges`` (``n_bins + 1`` values from 0 to 1)."""
    proba = np.asarray(proba)
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == np.asarray(stages)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    safe = np.maximum(count, 1)
    return {
        "edges": edges,
        "count": count,
        "confidence": np.bincount(bins, confidence, minlength=n_bins) / safe,
        "accuracy": np.bincount(bins, correct, minlength=n_bins) / safe,
    }


def plot_reliability(
    proba: np.ndarray,
    stages: np.ndarray,
    temperature: float | np.ndarray,
    path: str | Path,
    *,
    title: str = "Reliability",
) -> None:
    """Save a reliability diagram: accuracy against confidence, before and after calibration.

    Each calibrated point is labelled with the number of epochs in its bin, so a bin of a
    handful of epochs is not read as evidence.

    Parameters
    ----------
    proba : ndarray, shape (n_epochs, 5)
        Uncalibrated probabilities.
    stages : ndarray of int, shape (n_epochs,)
        Expert class ids.
    temperature : float or ndarray of float, shape (n_epochs,)
        Temperature of the model that staged each epoch (one per fold in a CV run).
    path : str or Path
        Image file (``.png``).
    title : str
        Figure title.
    """
    calibrated = calibrate_epochs(proba, temperature)
    figure = Figure(figsize=(5, 5), layout="constrained")
    ax = figure.add_subplot()
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    for label, values, colour in (
        ("uncalibrated", proba, "#d62839"),
        ("calibrated", calibrated, "#3c91e6"),
    ):
        table = reliability_table(values, stages)
        shown = table["count"] > 0
        ece = expected_calibration_error(values, stages)
        ax.plot(
            table["confidence"][shown],
            table["accuracy"][shown],
            marker="o",
            color=colour,
            label=f"{label} (ECE {100 * ece:.1f}%)",
        )
        if label == "calibrated":
            for x, y, n in zip(
                table["confidence"][shown], table["accuracy"][shown], table["count"][shown],
                strict=True,
            ):
                ax.annotate(f"{n}", (x, y), textcoords="offset points", xytext=(4, -10),
                            fontsize=7, color=colour)  # fmt: skip
    ax.set(xlim=(0, 1), ylim=(0, 1))
    ax.set(xlabel="confidence (largest probability); numbers: epochs per bin")
    ax.set(ylabel="accuracy", title=title)
    ax.legend(loc="upper left")
    write_figure(path, figure, dpi=150)


def calibrate_epochs(proba: np.ndarray, temperature: float | np.ndarray) -> np.ndarray:
    """:func:`apply_temperature` with one temperature, or one per epoch (pooled folds)."""
    temperatures = np.broadcast_to(np.asarray(temperature, dtype=float), (len(proba),))
    calibrated = np.empty(np.shape(proba), dtype=np.float32)
    for value in np.unique(temperatures):
        rows = temperatures == value
        calibrated[rows] = apply_temperature(np.asarray(proba)[rows], float(value))
    return calibrated


def calibration_summary(
    proba: np.ndarray, stages: np.ndarray, temperature: float | np.ndarray
) -> dict[str, Any]:
    """``ece_before`` and ``ece_after`` calibration (0..1), and ``n_epochs``."""
    return {
        "ece_before": expected_calibration_error(proba, stages),
        "ece_after": expected_calibration_error(calibrate_epochs(proba, temperature), stages),
        "n_epochs": len(stages),
    }
