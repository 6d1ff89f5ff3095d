"""Tests of the cross-validation runner on tiny random nights with a tiny network (one pass)."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pandas as pd
import pytest

from tinysleepnet.cli import main
from tinysleepnet.config import Config
from tinysleepnet.data.nights import MANIFEST, Night, content_hash, load_nights
from tinysleepnet.errors import TinySleepNetError
from tinysleepnet.evaluation import cv
from tinysleepnet.evaluation.report import evaluate_run
from tinysleepnet.evaluation.run import CvRun
from tinysleepnet.training import loop
from tinysleepnet.training.run import TrainingRun
from tinysleepnet.training.stall import RESTART_AFTER_PASSES

from ..conftest import write_prepared

#: Subjects and their nights; subject "01" has two nights, which must share a fold.
NIGHTS = [("00", 1), ("01", 1), ("01", 2), ("02", 1), ("03", 1), ("04", 1), ("05", 1)]
N_EPOCHS = 12
TINY = Config(
    n_filters=4,
    lstm_units=4,
    batch_nights=4,
    seq_len=4,
    max_passes=1,
    patience=1,
    device="cpu",
    precision="float32",
)


def random_nights(seed: int) -> list[Night]:
    """Short nights of random signal and random stages: the same names and epoch counts for
    every ``seed``, other contents."""
    rng = np.random.default_rng(seed)
    return [
        Night(
            signal_uv=rng.normal(0, 20, (N_EPOCHS, TINY.epoch_samples)).astype(np.float32),
            stages=rng.integers(0, 5, N_EPOCHS),
            sfreq=TINY.sfreq,
            channel=TINY.channel,
            subject=subject,
            night=number,
            start="",
            name=f"SC4{subject}{number}E0",
        )
        for subject, number in NIGHTS
    ]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A prepared folder of :func:`random_nights`."""
    return write_prepared(tmp_path_factory.mktemp("prepared"), random_nights(0))


@pytest.fixture(scope="module")
def half_run(data_dir, tmp_path_factory):
    """A 2-fold run of which only fold 0 has run (copy it before changing it)."""
    run_dir = tmp_path_factory.mktemp("half") / "run"
    cv.cross_validate(data_dir, run_dir, 2, TINY, folds=[0], progress=False)
    return run_dir


@pytest.fixture(scope="module")
def two_fold_run(data_dir, tmp_path_factory):
    """A 2-fold run whose folds ran one at a time, with folds.json as each call left it."""
    run_dir = tmp_path_factory.mktemp("run")
    plans = []
    for fold in (1, 0):
        cv.cross_validate(data_dir, run_dir, 2, TINY, folds=[fold], progress=False)
        plans.append((run_dir / CvRun.FOLDS).read_bytes())
    return run_dir, plans


def test_folds_json_is_identical_from_every_fold(two_fold_run, data_dir):
    _, plans = two_fold_run
    assert plans[0] == plans[1]
    plan = json.loads(plans[0])
    assert plan["n_folds"] == 2
    assert plan["data"]["nights"] == {f"SC4{s}{n}E0": N_EPOCHS for s, n in NIGHTS}
    assert plan["data"]["content_sha256"] == content_hash(load_nights(data_dir))
    tested = [s for fold in plan["folds"] for s in fold["test_subjects"]]
    assert sorted(tested) == sorted({s for s, _ in NIGHTS})
    for fold in plan["folds"]:
        groups = [set(fold[k]) for k in ("test_subjects", "valid_subjects", "train_subjects")]
        assert all(groups[1:]), "every fold needs training and validation subjects"
        assert set.union(*groups) == set(tested) and sum(map(len, groups)) == len(tested)


def test_fold_predicts_only_its_test_nights(two_fold_run):
    run_dir, _ = two_fold_run
    for fold in cv.read_folds(run_dir)["folds"]:
        folder = cv.fold_dir(run_dir, fold["fold"])
        subjects = set()
        for file in (folder / TrainingRun.PREDICTIONS).glob("*.npz"):
            with np.load(file) as night:
                subjects.add(str(night["subject"]))
                assert night["proba"].shape == (N_EPOCHS, 5)
                assert np.array_equal(night["predicted"], night["proba"].argmax(axis=1))
        assert subjects == set(fold["test_subjects"])
        done = json.loads((folder / TrainingRun.DONE).read_text())
        assert done["scores"]["n_epochs"] == N_EPOCHS * sum(s in subjects for s, _ in NIGHTS)
        assert (folder / "best.pt").is_file() and (folder / "log.csv").is_file()
        # the fold's summary says whether training stalled (random nights: it may well)
        assert done["stalled_passes"] in ([], [1]) and done["restarted_after_pass"] is None
        assert isinstance(done["best_predicts_one_stage"], bool)


def test_done_fold_is_skipped(two_fold_run, data_dir, monkeypatch, caplog):
    run_dir, _ = two_fold_run
    done = cv.fold_dir(run_dir, 1) / TrainingRun.DONE
    before = done.stat().st_mtime_ns

    def no_training(*args, **kwargs):
        raise AssertionError("a finished fold was trained again")

    monkeypatch.setattr(cv, "fit", no_training)
    with caplog.at_level(logging.WARNING, logger="tinysleepnet"):
        cv.cross_validate(data_dir, run_dir, n_folds=2, config=TINY, progress=False)
    assert done.stat().st_mtime_ns == before
    assert "records no contents" not in caplog.text  # the contents were checked


def test_evaluate_merges_folds_run_separately(two_fold_run):
    run_dir, _ = two_fold_run
    result = evaluate_run(run_dir)
    assert not result["partial"]
    assert [row["fold"] for row in result["folds"]] == [0, 1]
    assert result["pooled"]["n_epochs"] == N_EPOCHS * len(NIGHTS)
    assert np.sum(result["pooled"]["confusion"]) == N_EPOCHS * len(NIGHTS)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_folds": 3}, "n_folds=3"),
        ({"config": TINY.replace(lr=0.5)}, "lr=0.5"),
        ({"folds": [2]}, "fold 2 out of range"),
    ],
)
def test_conflicting_request_is_refused(two_fold_run, data_dir, change, message):
    run_dir, plans = two_fold_run
    request = {"n_folds": 2, "config": TINY, "folds": None, **change}
    with pytest.raises(TinySleepNetError, match=message):
        cv.cross_validate(data_dir, run_dir, progress=False, **request)
    assert (run_dir / CvRun.FOLDS).read_bytes() == plans[0]


def test_other_data_is_refused(two_fold_run, data_dir, tmp_path):
    run_dir, plans = two_fold_run
    other = tmp_path / "prepared"
    shutil.copytree(data_dir, other)
    manifest = pd.read_csv(other / MANIFEST, dtype={"subject": str})
    manifest.loc[0, "n_epochs"] = N_EPOCHS - 1  # e.g. prepared with another wake trim
    manifest.to_csv(other / MANIFEST, index=False)
    with pytest.raises(TinySleepNetError) as info:
        cv.cross_validate(other, run_dir, n_folds=2, config=TINY, progress=False)
    assert str(info.value) == (
        f"{run_dir / CvRun.FOLDS}: this run was made with other data or folds: other data "
        f"(epochs: SC4001E0 {N_EPOCHS - 1} (run has {N_EPOCHS})); choose another run directory"
    )
    assert (run_dir / CvRun.FOLDS).read_bytes() == plans[0]


def test_the_same_nights_with_other_contents_are_refused_before_any_fold_trains(
    half_run, data_dir, tmp_path, monkeypatch, capsys
):
    """E.g. nights prepared again with another channel filter, or a cohort drawn again."""
    run_dir = shutil.copytree(half_run, tmp_path / "run")
    before = {path: path.read_bytes() for path in run_dir.rglob("*") if path.is_file()}
    (redrawn := tmp_path / "redrawn").mkdir()
    write_prepared(redrawn, random_nights(1))

    def no_training(*args, **kwargs):
        raise AssertionError("a fold was trained on the other nights")

    monkeypatch.setattr(cv, "fit", no_training)
    assert main(["cv", str(redrawn), "--out", str(run_dir), "--quiet"]) == 2
    now, ran = (content_hash(load_nights(folder)) for folder in (redrawn, data_dir))
    assert capsys.readouterr().err.strip() == (
        f"tinysleepnet: error: {run_dir / CvRun.FOLDS}: this run was made with other data or "
        f"folds: other data (the same nights with other signals or stages (content SHA-256 "
        f"{now[:12]}..., run has {ran[:12]}...)); choose another run directory"
    )
    assert {path: path.read_bytes() for path in run_dir.rglob("*") if path.is_file()} == before


def test_a_plan_without_the_nights_contents_resumes_with_a_warning_and_is_kept(
    half_run, data_dir, tmp_path, caplog
):
    """A folds.json of an earlier version: its folds are not vouched for by a new record."""
    run_dir = shutil.copytree(half_run, tmp_path / "run")
    plan = json.loads((run_dir / CvRun.FOLDS).read_text())
    del plan["data"]["content_sha256"]
    (run_dir / CvRun.FOLDS).write_text(json.dumps(plan, indent=2))
    earlier = (run_dir / CvRun.FOLDS).read_bytes()
    with caplog.at_level(logging.WARNING, logger="tinysleepnet"):
        cv.cross_validate(data_dir, run_dir, progress=False)
    assert (
        f"{run_dir / CvRun.FOLDS} records no contents of the nights (an earlier version's): "
        "the folds already trained are not checked to be on these signals and stages"
    ) in caplog.text
    assert cv.is_done(run_dir, 0) and cv.is_done(run_dir, 1)
    assert (run_dir / CvRun.FOLDS).read_bytes() == earlier


def test_same_data_at_another_path_continues_the_run(two_fold_run, data_dir, tmp_path):
    """Machines of a cluster may mount the data elsewhere: the nights, not the path, count."""
    run_dir, plans = two_fold_run
    shutil.copytree(data_dir, tmp_path / "mounted")
    done = cv.cross_validate(tmp_path / "mounted", run_dir, n_folds=2, config=TINY, progress=False)
    assert [cv.is_done(run_dir, i) for i in range(2)] == [True, True] and len(done) == 2
    assert (run_dir / CvRun.FOLDS).read_bytes() == plans[0]


def test_interrupted_fold_resumes_without_retraining(data_dir, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(cv, "predict_proba", interrupted)
        with pytest.raises(KeyboardInterrupt):
            cv.cross_validate(data_dir, tmp_path, 2, TINY, folds=[0], progress=False)
    assert not cv.is_done(tmp_path, 0)

    log = cv.fold_dir(tmp_path, 0) / "log.csv"
    trained = log.read_bytes()
    # no settings given: the run's own config.json applies
    cv.cross_validate(data_dir, tmp_path, 2, None, folds=[0], progress=False)
    assert cv.is_done(tmp_path, 0)
    assert log.read_bytes() == trained


def test_cli_runs_the_folds_asked_for(data_dir, tmp_path, capsys):
    tiny = ["--n-filters", "4", "--lstm-units", "4", "--seq-len", "4", "--epochs", "1"]
    command = ["cv", str(data_dir), "--folds", "2", "--out", str(tmp_path), "--quiet", *tiny]
    assert main([*command, "--device", "cpu", "--fold", "1"]) == 0
    assert "still to run: [0]" in capsys.readouterr().out
    assert cv.is_done(tmp_path, 1) and not cv.is_done(tmp_path, 0)

    assert main([*command, "--lr", "0.5"]) == 2
    assert "lr=0.5" in capsys.readouterr().err


@pytest.mark.slow
def test_parallel_folds_give_the_sequential_result(two_fold_run, data_dir, tmp_path):
    sequential, _ = two_fold_run
    parallel = tmp_path / "parallel"
    cv.cross_validate(data_dir, parallel, n_folds=2, config=TINY, progress=False, n_parallel=2)
    for fold in (0, 1):
        for path in (cv.fold_dir(sequential, fold) / TrainingRun.PREDICTIONS).glob("*.npz"):
            twin = cv.fold_dir(parallel, fold) / TrainingRun.PREDICTIONS / path.name
            np.testing.assert_array_equal(np.load(path)["proba"], np.load(twin)["proba"])


def test_refused_request_leaves_nothing_behind(data_dir, tmp_path, capsys):
    run = tmp_path / "run"
    command = ["cv", str(data_dir), "--out", str(run), "--quiet", "--device", "cpu"]
    assert main([*command, "--folds", "10"]) == 2  # 6 subjects cannot make 10 folds
    assert "cannot make 10 folds of 6 subjects" in capsys.readouterr().err
    assert not run.exists() or not any(run.iterdir())
    assert main([*command, "--folds", "2", "--fold", "5"]) == 2
    assert not run.exists() or not any(run.iterdir())


def test_run_settings_carry_the_nights_channel_rate_and_epoch(data_dir, tmp_path):
    cv.cross_validate(
        data_dir, tmp_path, n_folds=2, config=TINY.replace(sfreq=256.0), folds=[0], progress=False
    )
    saved = Config.load(tmp_path / CvRun.CONFIG)
    assert (saved.sfreq, saved.epoch_sec, saved.channel) == (100.0, 30.0, "EEG Fpz-Cz")
    fold = Config.load(cv.fold_dir(tmp_path, 0) / "config.json")
    assert fold == saved.replace(extra={**saved.extra, "world_size": 1})


def test_cli_offers_no_flags_it_does_not_read(capsys):
    for command in ("cv", "train"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        for flag in ("--wake-edge-min", "--sfreq", "--epoch-sec", "--channel"):
            assert flag not in text, (command, flag)
        assert "--on-stall" in text and "--monitor" in text


def test_cli_rerun_without_settings_continues_the_run(data_dir, tmp_path):
    run = tmp_path / "run"
    tiny_flags = [
        "--n-filters", "4", "--lstm-units", "4", "--batch-nights", "4",
        "--seq-len", "4", "--epochs", "1", "--patience", "1", "--device", "cpu",
    ]  # fmt: skip
    args = ["cv", str(data_dir), "--out", str(run), "--quiet"]
    assert main([*args, "--folds", "2", "--fold", "0", *tiny_flags]) == 0
    # no flags, not even --folds: the run's own settings and number of folds
    assert main([*args, "--fold", "1"]) == 0
    assert cv.is_done(run, 1)


def test_a_stalled_fold_is_restarted_with_the_remedy_and_named(
    data_dir, tmp_path, monkeypatch, caplog
):
    """cv's default: a fold stalled for 5 passes restarts once; the log and report say so."""

    def one_stage(*args):
        return {"loss": 1.6, "acc": 0.2, "mf1": 0.07, "top_stage": "N2", "top_share": 1.0}

    monkeypatch.setattr(loop, "validate", one_stage)
    config = TINY.replace(max_passes=RESTART_AFTER_PASSES + 1, patience=10)
    with caplog.at_level(logging.WARNING, logger="tinysleepnet"):
        cv.cross_validate(data_dir, tmp_path, 2, config, folds=[0], progress=False)
    done = json.loads((tmp_path / "fold_00" / TrainingRun.DONE).read_text())
    assert done["restarted_after_pass"] == RESTART_AFTER_PASSES
    assert f"fold 0: stalled, and was restarted after pass {RESTART_AFTER_PASSES}" in caplog.text
    assert "rerun the fold with --preset fast" in caplog.text  # the remedy did not help here
    result = evaluate_run(tmp_path, allow_partial=True)
    assert result["restarted_folds"] == [{"fold": 0, "after_pass": RESTART_AFTER_PASSES}]
    report = (tmp_path / "evaluation" / "scores.md").read_text()
    assert "1 of 1 folds stalled and were restarted with the stall remedy" in report
