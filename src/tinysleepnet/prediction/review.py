"""The review queue: the least confident epochs of a staging, flagged for a human scorer.

A rule is either a share of the night (``"10%"``: the 10 % of epochs with the lowest
confidence) or a probability threshold (``"0.6"``: every epoch whose most probable stage
has a probability below 0.6). Confidence is the largest stage probability, calibrated when
the model carries a temperature, so a threshold means what it says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import TinySleepNetError
from ..stages import STAGES, UNSCORED, run_annotations

#: Text of the EDF+ annotations that mark flagged epochs.
REVIEW_ANNOTATION = "Review"


@dataclass(frozen=True)
class ReviewRule:
    """Which epochs to flag: a ``share`` of the night, or those below a ``threshold``."""

    share: float | None = None
    threshold: float | None = None

    @classmethod
    def parse(cls, text: str | float | ReviewRule) -> ReviewRule:
        """``"10%"`` -> the least confident 10 % of epochs; ``"0.6"`` or 0.6 -> epochs whose
        confidence is below 0.6; a rule is returned as it is.

        Raises
        ------
        TinySleepNetError
            If the text is neither, or out of range (0-100 % or 0-1).
        """
        if isinstance(text, ReviewRule):
            return text
        spec = str(text).strip()
        try:
            value = float(spec.removesuffix("%"))
        except ValueError:
            value = math.nan
        if spec.endswith("%") and 0 <= value <= 100:
            return cls(share=value / 100)
        if not spec.endswith("%") and 0 <= value <= 1:
            return cls(threshold=value)
        raise TinySleepNetError(
            f"review rule {spec!r}: expected a share such as 10% or a probability "
            "threshold between 0 and 1 such as 0.6"
        )

    def __str__(self) -> str:
        if self.share is not None:
            return f"least confident {100 * self.share:g}% of epochs"
        return f"confidence below {self.threshold:g}"

    def flag(self, proba: np.ndarray) -> np.ndarray:
        """Boolean mask, shape (n_epochs,), of the epochs to review.

        A share is of the staged epochs (unscorable ones, whose probabilities are NaN, are
        never flagged) and rounds up to whole epochs; ties in confidence go to the earlier
        epoch.
        """
        confidence = np.asarray(proba).max(axis=1)
        if self.threshold is not None:
            return confidence < self.threshold
        assert self.share is not None
        flagged = np.zeros(confidence.size, dtype=bool)
        n_flagged = math.ceil(self.share * np.isfinite(confidence).sum() - 1e-9)
        flagged[np.argsort(confidence, kind="stable")[:n_flagged]] = True
        return flagged


def review_annotations(review: np.ndarray, epoch_sec: float) -> list[tuple[float, float, str]]:
    """``(onset_s, duration_s, "Review")`` of each run of consecutive flagged epochs."""
    return [
        (onset, duration, REVIEW_ANNOTATION)
        for onset, duration, flagged in run_annotations(np.asarray(review, dtype=bool), epoch_sec)
        if flagged
    ]


def review_statistics(stages: np.ndarray, review: np.ndarray, epoch_sec: float) -> dict[str, Any]:
    """How much of the night is flagged: ``review_epochs``, ``review_min`` and
    ``review_min_per_stage`` (predicted stage -> minutes flagged)."""
    review = np.asarray(review, dtype=bool)
    epoch_min = epoch_sec / 60.0
    return {
        "review_epochs": int(review.sum()),
        "review_min": float(review.sum() * epoch_min),
        "review_min_per_stage": {
            name: float(np.sum(review & (stages == i)) * epoch_min) for i, name in enumerate(STAGES)
        },
    }


def review_agreement(
    expert: np.ndarray, predicted: np.ndarray, review: np.ndarray
) -> dict[str, Any]:
    """What correcting the flagged epochs buys, on the epochs the expert scored.

    Returns
    -------
    dict
        ``review_epochs`` (flagged and scored), ``acc_unflagged`` (accuracy on the epochs
        not flagged; None if all are), ``acc_flagged`` (on the flagged ones; None if none)
        and ``acc_after_review`` (the whole night's accuracy once a scorer has corrected
        the flagged epochs).
    """
    scored = np.asarray(expert) != UNSCORED
    correct = (np.asarray(expert) == np.asarray(predicted))[scored]
    flagged = np.asarray(review, dtype=bool)[scored]
    return {
        "review_epochs": int(flagged.sum()),
        "acc_unflagged": float(correct[~flagged].mean()) if (~flagged).any() else None,
        "acc_flagged": float(correct[flagged].mean()) if flagged.any() else None,
        "acc_after_review": float(np.mean(correct | flagged)),
    }


def review_table(stats: dict[str, Any]) -> str:
    """Lines for the statistics text: minutes flagged for review, in all and per stage."""
    per_stage = "  ".join(f"{s} {m:.1f}" for s, m in stats["review_min_per_stage"].items())
    return (
        f"{'Flagged for review (min)':<36}{stats['review_min']:.1f}"
        f" ({stats['review_epochs']} epochs)\n"
        f"{'  by predicted stage (min)':<36}{per_stage}\n"
    )


def review_agreement_table(review: dict[str, Any]) -> str:
    """Lines for the agreement text: accuracy on the unflagged epochs and after review."""

    def percent(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f}%"

    return (
        f"\nFlagged for review {review['review_epochs']} scored epochs\n"
        f"Accuracy on the unflagged epochs   {percent(review['acc_unflagged'])}\n"
        f"Accuracy on the flagged epochs     {percent(review['acc_flagged'])}\n"
        f"Accuracy once flagged are corrected {percent(review['acc_after_review'])}\n"
    )
