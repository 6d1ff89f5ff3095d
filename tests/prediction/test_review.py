"""Tests of the review queue: which epochs are flagged, and what flagging them buys."""

from __future__ import annotations

import numpy as np
import pytest

from tinysleepnet.errors import TinySleepNetError
from tinysleepnet.prediction.review import (
    ReviewRule,
    review_agreement,
    review_annotations,
    review_statistics,
)
from tinysleepnet.stages import UNSCORED

#: Six epochs whose confidence (largest probability) is 0.9, 0.5, 0.8, 0.4, 0.95, 0.6.
CONFIDENCE = np.array([0.9, 0.5, 0.8, 0.4, 0.95, 0.6])


def proba_with_confidence(confidence):
    rest = (1 - confidence[:, None]) / 4
    proba = np.repeat(rest, 5, axis=1)
    proba[:, 0] = confidence
    return proba


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("0.6", [False, True, False, True, False, False]),  # below 0.6, not at it
        ("50%", [False, True, False, True, False, True]),  # the 3 least confident
        ("10%", [False, False, False, True, False, False]),  # 0.6 epochs round up to 1
        ("0%", [False] * 6),
    ],
)
def test_rules_flag_the_least_confident_epochs(text, flagged):
    rule = ReviewRule.parse(text)
    np.testing.assert_array_equal(rule.flag(proba_with_confidence(CONFIDENCE)), flagged)


def test_unscorable_epochs_are_never_flagged():
    proba = proba_with_confidence(CONFIDENCE)
    proba[3] = np.nan
    flagged = ReviewRule.parse("40%").flag(proba)  # 40% of 5 staged epochs -> 2
    np.testing.assert_array_equal(flagged, [False, True, False, False, False, True])


@pytest.mark.parametrize("text", ["150%", "1.5", "-0.1", "many", "10 %%"])
def test_bad_rules_are_refused(text):
    with pytest.raises(TinySleepNetError, match="review rule"):
        ReviewRule.parse(text)


def test_runs_of_flagged_epochs_become_one_annotation_each():
    review = np.array([0, 1, 1, 0, 0, 1], bool)
    assert review_annotations(review, 30.0) == [(30.0, 60.0, "Review"), (150.0, 30.0, "Review")]


def test_minutes_flagged_per_stage():
    stages = np.array([0, 2, 2, 4, 2, 1])
    review = np.array([1, 1, 0, 1, 1, 0], bool)
    stats = review_statistics(stages, review, 30.0)
    assert stats["review_epochs"] == 4
    assert stats["review_min"] == 2.0
    assert stats["review_min_per_stage"] == {"W": 0.5, "N1": 0.0, "N2": 1.0, "N3": 0.0, "REM": 0.5}


def test_accuracy_on_unflagged_epochs_and_after_review():
    expert = np.array([0, 2, 2, 4, UNSCORED, 1])
    predicted = np.array([0, 1, 2, 4, 2, 2])  # wrong on epochs 1 and 5
    review = np.array([0, 1, 0, 0, 1, 0], bool)  # flags epoch 1 and an unscored one
    result = review_agreement(expert, predicted, review)
    assert result["review_epochs"] == 1
    assert result["acc_unflagged"] == pytest.approx(3 / 4)
    assert result["acc_flagged"] == 0.0
    assert result["acc_after_review"] == pytest.approx(4 / 5)
