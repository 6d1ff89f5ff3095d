from __future__ import annotations

import itertools

import numpy as np
import pytest

from tinysleepnet.scoring.statistics import (
    sleep_statistics,
    statistics_table,
    transition_matrix,
)
from tinysleepnet.stages import UNSCORED

W, N1, N2, N3, REM = range(5)

#: A hand-made night of 70 epochs (35 min): (stage, epochs) runs.
RUNS = [
    (W, 10), (N1, 4), (N2, 10), (W, 3), (N2, 6), (N3, 8),
    (N2, 4), (REM, 6), (W, 1), (N2, 5), (REM, 4), (W, 9),
]  # fmt: skip


def night() -> np.ndarray:
    return np.concatenate([np.full(n, stage) for stage, n in RUNS])


def test_statistics_of_hand_made_night() -> None:
    stats = sleep_statistics(night())
    # Epochs of 0.5 min. Sleep onset: epoch 10; last sleep epoch: 60 (end of the second REM).
    assert stats["n_epochs"] == 70
    assert stats["tib_min"] == 35.0
    assert stats["sol_min"] == 5.0  # 10 epochs of W
    assert stats["spt_min"] == 25.5  # epochs 10..60
    assert stats["waso_min"] == 2.0  # 3 + 1 W epochs inside the sleep period
    assert stats["tst_min"] == 23.5  # 4 + 10 + 6 + 8 + 4 + 6 + 5 + 4 sleep epochs
    assert stats["se_pct"] == pytest.approx(100 * 23.5 / 35)
    assert stats["sme_pct"] == pytest.approx(100 * 23.5 / 25.5)
    assert stats["rem_latency_min"] == 17.5  # first REM at epoch 45, 35 epochs after onset
    assert stats["w_min"] == 11.5  # 10 + 3 + 1 + 9
    assert (stats["n1_min"], stats["n2_min"], stats["n3_min"], stats["rem_min"]) == (2, 12.5, 4, 5)
    assert stats["n2_pct"] == pytest.approx(100 * 12.5 / 23.5)
    shares = [stats[f"{name}_pct"] for name in ("n1", "n2", "n3", "rem")]
    assert sum(shares) == pytest.approx(100)
    assert stats["n_awakenings"] == 2  # final awakening and wake before onset do not count
    assert stats["n_transitions"] == 11  # 12 runs
    assert stats["unscored_min"] == 0.0


def test_awakenings_shorter_than_minimum_are_not_counted() -> None:
    assert sleep_statistics(night(), min_awakening_sec=60)["n_awakenings"] == 1  # the 3-epoch run
    assert sleep_statistics(night(), min_awakening_sec=120)["n_awakenings"] == 0


def test_epoch_length_scales_durations() -> None:
    stats = sleep_statistics(night(), epoch_sec=20.0)
    assert stats["tib_min"] == pytest.approx(70 * 20 / 60)
    assert stats["sol_min"] == pytest.approx(10 * 20 / 60)


def test_transition_matrix_counts_stage_changes() -> None:
    matrix = transition_matrix(night())
    expected = np.zeros((5, 5), dtype=int)
    for (before, _), (after, _) in itertools.pairwise(RUNS):
        expected[before, after] += 1
    for stage, n in RUNS:
        expected[stage, stage] += n - 1
    np.testing.assert_array_equal(matrix, expected)
    assert matrix[W, N2] == 2 and matrix[REM, W] == 2
    assert matrix.sum() == 69


def test_night_without_sleep() -> None:
    stats = sleep_statistics(np.zeros(20, dtype=int))
    assert stats["tst_min"] == 0.0 and stats["se_pct"] == 0.0
    assert stats["sol_min"] is None and stats["waso_min"] is None
    assert stats["rem_latency_min"] is None and stats["n2_pct"] is None
    assert stats["n_awakenings"] == 0


def test_unscored_epochs_count_only_in_time_in_bed() -> None:
    stages = np.array([W, N1, UNSCORED, N2, N2, UNSCORED, W])
    stats = sleep_statistics(stages)
    assert stats["tib_min"] == 3.5
    assert stats["tst_min"] == 1.5
    assert stats["unscored_min"] == 1.0
    assert stats["waso_min"] == 0.0
    assert stats["rem_latency_min"] is None
    # Only W -> N1: pairs touching an unscored epoch are left out.
    assert stats["n_transitions"] == 1


def test_excluded_epochs_leave_the_efficiencies_but_not_the_clock_times() -> None:
    stages = night()
    excluded = np.zeros(stages.size, bool)
    excluded[[2, 3]] = True  # within the wake before onset
    excluded[[30, 31]] = True  # within the sleep period (N2 epochs become unscorable)
    stages[excluded] = UNSCORED
    stats = sleep_statistics(stages, excluded=excluded)
    assert stats["excluded_min"] == 2.0 and stats["unscored_min"] == 0.0
    assert stats["sol_min"] == 5.0 and stats["spt_min"] == 25.5  # clock times unchanged
    assert stats["tst_min"] == 22.5
    assert stats["se_pct"] == pytest.approx(100 * 22.5 / (35 - 2))
    assert stats["sme_pct"] == pytest.approx(100 * 22.5 / (25.5 - 1))  # two epochs in the SPT


def test_statistics_table_lists_values() -> None:
    table = statistics_table(sleep_statistics(night()))
    assert "Total sleep time (min)" in table and "23.5" in table
    assert "REM latency from sleep onset (min)  17.5" in table
    assert table.splitlines()[-1].split() == ["REM", "5.0", f"{100 * 5 / 23.5:.1f}"]
