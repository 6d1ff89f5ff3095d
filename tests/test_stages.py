"""The stage vocabulary and the hypnogram conversions of tinysleepnet.stages."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tinysleepnet.stages import (
    MOVEMENT_TEXT,
    N3,
    REM,
    RK_STAGE_4,
    RK_TO_STAGE,
    STAGE_IDS,
    STAGE_TO_ANNOTATION,
    STAGE_TO_RK,
    STAGES,
    UNSCORED,
    WAKE,
    epoch_grid,
    epochs_covered,
    is_stage_annotation,
    run_annotations,
    stage_from_annotation,
    stage_runs,
    stages_from_annotations,
)


def test_names_and_ids_both_ways():
    assert [STAGE_IDS[name] for name in STAGES] == list(range(len(STAGES)))
    assert (STAGES[WAKE], STAGES[N3], STAGES[REM]) == ("W", "N3", "REM")


@pytest.mark.parametrize("texts", [STAGE_TO_RK, STAGE_TO_ANNOTATION])
def test_texts_written_for_each_stage_read_back_as_that_stage(texts):
    assert {stage: stage_from_annotation(text) for stage, text in texts.items()} == {
        stage: stage for stage in texts
    }


def test_rk_stages_3_and_4_are_n3_and_unscored_texts_score_nothing():
    assert RK_TO_STAGE[RK_STAGE_4] == RK_TO_STAGE[STAGE_TO_RK[N3]] == N3
    assert stage_from_annotation(f"  {MOVEMENT_TEXT} ") == UNSCORED
    assert stage_from_annotation("Arousal") == UNSCORED
    assert is_stage_annotation(MOVEMENT_TEXT) and is_stage_annotation(" Sleep stage ? ")
    assert not is_stage_annotation("Lights off")


def test_stages_from_annotations_maps_each_text():
    stages = stages_from_annotations(["Sleep stage W", "Sleep stage 4", "Sleep stage N1", "x"])
    assert stages.dtype == np.int64
    np.testing.assert_array_equal(stages, [WAKE, N3, 1, UNSCORED])


def test_stage_runs_of_ids_texts_and_nothing():
    first, length, stage = stage_runs(np.array([0, 0, 2, 2, 2, 4]))
    np.testing.assert_array_equal(first, [0, 2, 5])
    np.testing.assert_array_equal(length, [2, 3, 1])
    np.testing.assert_array_equal(stage, [0, 2, 4])
    _, length, text = stage_runs(np.array(["a", "a", "b"]))
    assert length.tolist() == [2, 1] and text.tolist() == ["a", "b"]
    first, length, stage = stage_runs(np.array([], dtype=int))
    assert first.size == length.size == stage.size == 0


def test_run_annotations_and_epoch_grid_are_inverses():
    rng = np.random.default_rng(0)
    stages = np.repeat(rng.integers(-1, 5, 30), rng.integers(1, 6, 30))
    runs = run_annotations(stages, epoch_sec=20.0)
    assert all(isinstance(stage, int) for _, _, stage in runs)
    assert all(a[2] != b[2] for a, b in itertools.pairwise(runs))
    onsets, durations, labels = zip(*runs, strict=True)
    assert epochs_covered(onsets, durations, 20.0) == len(stages)
    grid = epoch_grid(onsets, durations, labels, UNSCORED, epoch_sec=20.0)
    np.testing.assert_array_equal(grid, stages)


def test_epoch_grid_fills_gaps_and_cuts_to_the_signal():
    texts = ["Sleep stage W", "Movement time"]
    grid = epoch_grid([0.0, 90.0], [60.0, 30.0], texts, fill=STAGE_TO_RK[UNSCORED])
    assert grid.tolist() == ["Sleep stage W", "Sleep stage W", "Sleep stage ?", "Movement time"]
    cut = epoch_grid([0.0, 90.0], [60.0, 30.0], [WAKE, N3], fill=UNSCORED, n_epochs=2)
    longer = epoch_grid([0.0, 90.0], [60.0, 30.0], [WAKE, N3], fill=UNSCORED, n_epochs=6)
    assert cut.tolist() == [WAKE, WAKE]
    assert longer.tolist() == [WAKE, WAKE, UNSCORED, N3, UNSCORED, UNSCORED]
    assert epoch_grid([], [], np.array([], dtype=np.int64), UNSCORED).size == 0
