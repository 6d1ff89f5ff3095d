"""Scores of a staging against the expert's."""

from __future__ import annotations

import numpy as np
import pytest

from tinysleepnet.scoring.metrics import scores
from tinysleepnet.stages import STAGES


def test_scores_follow_their_definitions():
    expert = np.array([0, 0, 1, 1, 2, 2, 2, 3, 4, 4])
    staged = np.array([0, 1, 1, 1, 2, 2, 3, 3, 4, 0])
    result = scores(expert, staged)
    assert result["n_epochs"] == 10
    assert result["acc"] == pytest.approx(7 / 10)
    # W: precision 1/2, recall 1/2; N1: 2/3, 1; N2: 1, 2/3; N3: 1/2, 1; REM: 1, 1/2
    f1 = {"W": 1 / 2, "N1": 0.8, "N2": 0.8, "N3": 2 / 3, "REM": 2 / 3}
    for name, value in f1.items():
        assert result["per_stage"][name]["f1"] == pytest.approx(value)
    assert result["per_stage"]["N1"]["precision"] == pytest.approx(2 / 3)
    assert result["per_stage"]["N2"]["recall"] == pytest.approx(2 / 3)
    assert [result["per_stage"][s]["support"] for s in STAGES] == [2, 2, 3, 1, 2]
    assert result["mf1"] == pytest.approx(np.mean(list(f1.values())))
    # kappa = (p_o - p_e) / (1 - p_e), p_e from the row and column totals
    confusion = np.array(result["confusion"])
    p_e = (confusion.sum(axis=1) * confusion.sum(axis=0)).sum() / 100
    assert result["kappa"] == pytest.approx((0.7 - p_e) / (1 - p_e))


def test_confusion_rows_are_expert_columns_predicted():
    confusion = np.array(scores(np.array([0, 0, 4]), np.array([1, 1, 4]))["confusion"])
    assert confusion.shape == (5, 5)
    assert confusion[0, 1] == 2 and confusion[4, 4] == 1 and confusion.sum() == 3


def test_macro_f1_averages_over_the_stages_either_side_used():
    perfect = scores(np.array([0, 2, 2, 4]), np.array([0, 2, 2, 4]))
    assert perfect["acc"] == 1.0 and perfect["kappa"] == pytest.approx(1.0)
    assert perfect["mf1"] == pytest.approx(1.0)  # N1 and N3 used by neither: not averaged
    assert perfect["mf1_stages"] == ["W", "N2", "REM"]
    # N1 predicted once where the expert never used it: it counts, with F1 0
    wrong = scores(np.array([0, 2, 2, 4]), np.array([0, 1, 2, 4]))
    assert wrong["mf1_stages"] == ["W", "N1", "N2", "REM"]
    assert wrong["mf1"] == pytest.approx((1 + 0 + 2 / 3 + 1) / 4)


def test_stage_ids_outside_the_five_stages_are_refused():
    with pytest.raises(ValueError, match=r"stage ids must be 0..4, got \[-1\]"):
        scores(np.array([0, 2]), np.array([0, -1]))
