"""A training run's folder: its file names and which settings a resume may change."""

from __future__ import annotations

from tinysleepnet.training.run import TrainingRun, resumable_fields


def test_a_training_run_names_its_files(tmp_path):
    run = TrainingRun(tmp_path / "fold_03")
    assert run.name == "fold_03"
    assert run.best_path == tmp_path / "fold_03" / "best.pt"
    assert run.prediction_path("SC4001E0") == tmp_path / "fold_03/predictions/SC4001E0.npz"
    assert run.stalled_dir.name == "stalled" and run.done_path.name == "DONE"
    assert not run.is_done and run.restarted_after_pass is None
    assert not (tmp_path / "fold_03").exists()  # nothing is written by naming it


def test_a_resume_may_change_when_to_stop_but_not_the_recipe(tiny_config):
    free = resumable_fields(tiny_config)
    assert free == {"max_passes", "patience", "threads", "on_stall", "device", "extra"}
    # the one-cycle schedule's length depends on max_passes
    assert resumable_fields(tiny_config.replace(schedule="onecycle")) == free - {"max_passes"}
