"""A cross-validation run's folder: its files, which settings its folds may differ in, and how
other data is told."""

from __future__ import annotations

import logging

import pytest

from tinysleepnet.config import Config
from tinysleepnet.errors import PathError
from tinysleepnet.evaluation.run import CONTENT, SHOWN_NIGHTS, CvRun, data_differences

DATA = {"sfreq": 100.0, "epoch_sec": 30.0, "channel": "EEG Fpz-Cz"}


def test_a_cv_run_names_its_folds_and_files(tmp_path):
    run = CvRun(tmp_path)
    assert run.fold(7).folder == tmp_path / "fold_07"
    assert run.folds_path.name == "folds.json" and run.evaluation_dir.name == "evaluation"
    with pytest.raises(PathError, match="not a cross-validation run"):
        run.read_plan()


def test_folds_may_differ_in_call_and_runtime_settings_a_release_in_runtime_only(tmp_path):
    run = CvRun(tmp_path)
    stored = run.settings(Config(threads=2), DATA)
    run.begin(stored, {"n_folds": 2})
    other_call = Config(threads=4, on_stall="warn", device="cpu", extra={"note": 1})
    assert run.settings(other_call, DATA) == other_call
    assert run.settings(None, DATA) == stored
    with pytest.raises(PathError, match=r"config\.json: settings differ.*lr=0\.001"):
        run.settings(Config(threads=2, lr=1e-3), DATA)
    run.check_release(Config(threads=2, device="cpu", extra={"note": 1}))
    with pytest.raises(PathError, match="cross-validated with other settings: threads=4"):
        run.check_release(Config(threads=4))


def test_data_differences_name_the_nights_added_removed_and_recounted():
    earlier = {"nights": {"SC4001E0": 841, "SC4002E0": 841}, "channels": ["EEG Fpz-Cz"]}
    assert data_differences(earlier, dict(earlier)) == ""
    now = {"nights": {"SC4002E0": 839, "SC4011E0": 900}, "channels": ["EEG Pz-Oz"]}
    assert data_differences(now, earlier) == (
        "nights added: SC4011E0; nights removed: SC4001E0; epochs: SC4002E0 839 (run has "
        "841); channels ['EEG Pz-Oz'] (run has ['EEG Fpz-Cz'])"
    )
    many = {"nights": {f"SC4{i:02d}1E0": 10 for i in range(SHOWN_NIGHTS + 2)}}
    assert data_differences(many, None) == (
        "nights added: SC4001E0, SC4011E0, SC4021E0, SC4031E0, SC4041E0 and 2 more"
    )


def test_data_differences_tell_other_contents_only_when_the_nights_agree():
    earlier = {"nights": {"SC4001E0": 841}, "channels": ["EEG Fpz-Cz"], CONTENT: "ef" * 32}
    assert data_differences(dict(earlier), earlier) == ""
    redrawn = {**earlier, CONTENT: "01" * 32}
    assert data_differences(redrawn, earlier) == (
        "the same nights with other signals or stages (content SHA-256 010101010101..., run "
        "has efefefefefef...)"
    )
    recounted = {**redrawn, "nights": {"SC4001E0": 839}}
    assert data_differences(recounted, earlier) == "epochs: SC4001E0 839 (run has 841)"
    unhashed = {k: v for k, v in earlier.items() if k != CONTENT}  # an earlier version's
    assert data_differences(redrawn, unhashed) == ""


def test_a_plan_recorded_without_contents_is_checked_on_the_rest_and_kept(tmp_path, caplog):
    run = CvRun(tmp_path)
    plan = {"data": {"nights": {"SC4001E0": 40}, CONTENT: "ef" * 32}, "n_folds": 2}
    run.begin(Config(), {**plan, "data": {"nights": {"SC4001E0": 40}}})
    earlier = run.folds_path.read_bytes()
    with caplog.at_level(logging.WARNING, logger="tinysleepnet"):
        run.check_plan(plan)
    assert f"{run.folds_path} records no contents of the nights" in caplog.text
    run.begin(Config(), plan)
    assert run.folds_path.read_bytes() == earlier  # not rewritten to vouch for its folds
    with pytest.raises(PathError, match=r"other data \(epochs: SC4001E0 39 \(run has 40\)\)"):
        run.check_plan({**plan, "data": {"nights": {"SC4001E0": 39}, CONTENT: "ef" * 32}})
