"""Tests of the pooled cross-validation report, on hand-made prediction files (no training)."""

from __future__ import annotations

import json

import matplotlib.image
import numpy as np
import pytest

from tinysleepnet.cli import main
from tinysleepnet.data.nights import Night
from tinysleepnet.errors import TinySleepNetError
from tinysleepnet.evaluation.cv import fold_dir, save_predictions
from tinysleepnet.evaluation.report import evaluate_run
from tinysleepnet.evaluation.run import CvRun
from tinysleepnet.stages import N_STAGES
from tinysleepnet.training.run import TrainingRun

#: Expert and predicted stages of the test night of each fold of the fake run.
FOLD_STAGES = [
    ([0, 0, 0, 1, 2, 2, 2, 3, 4, 4], [0, 0, 1, 1, 2, 2, 3, 3, 4, 2]),
    ([0, 1, 1, 2, 2, 3, 3, 4], [0, 2, 1, 2, 2, 3, 2, 4]),
    ([0, 0, 2, 2, 2, 4], [0, 4, 2, 2, 1, 4]),
]


def write_fake_run(run_dir, finished):
    """A run directory of len(FOLD_STAGES) one-subject folds; only ``finished`` are done."""
    plan = {
        "data_dir": "/data",
        "n_folds": len(FOLD_STAGES),
        "folds": [
            {"fold": i, "test_subjects": [f"{i:02d}"], "valid_subjects": [], "train_subjects": []}
            for i in range(len(FOLD_STAGES))
        ],
    }
    (run_dir / CvRun.FOLDS).write_text(json.dumps(plan))
    for i in finished:
        expert, predicted = (np.array(s) for s in FOLD_STAGES[i])
        night = Night(
            signal_uv=np.zeros((len(expert), 1), np.float32),
            stages=expert,
            sfreq=100.0,
            channel="EEG Fpz-Cz",
            subject=f"{i:02d}",
            night=1,
            start="",
            name=f"SC4{i:02d}1E0",
        )
        out = fold_dir(run_dir, i)
        one_hot = np.eye(N_STAGES)[predicted]
        save_predictions(out / "predictions" / f"{night.name}.npz", night, one_hot)
        (out / TrainingRun.DONE).write_text(json.dumps({"scores": {"n_epochs": len(expert)}}))


def hand_confusion(folds):
    confusion = np.zeros((N_STAGES, N_STAGES), int)
    for i in folds:
        for true, pred in zip(*FOLD_STAGES[i], strict=True):
            confusion[true, pred] += 1
    return confusion


def test_pooled_scores_match_hand_computed_confusion(tmp_path):
    write_fake_run(tmp_path, finished=[0, 1, 2])
    result = evaluate_run(tmp_path)

    expected = hand_confusion([0, 1, 2])
    assert np.array_equal(result["pooled"]["confusion"], expected)
    assert result["pooled"]["acc"] == pytest.approx(np.trace(expected) / expected.sum())
    assert not result["partial"] and result["missing_folds"] == []
    assert [row["n_epochs"] for row in result["folds"]] == [len(s[0]) for s in FOLD_STAGES]
    fold_acc = [np.mean(np.equal(*s)) for s in FOLD_STAGES]
    assert [row["acc"] for row in result["folds"]] == pytest.approx(fold_acc)


def test_outputs_written_and_consistent(tmp_path):
    write_fake_run(tmp_path, finished=[0, 1, 2])
    result = evaluate_run(tmp_path)

    saved = json.loads((tmp_path / "evaluation" / "scores.json").read_text())
    assert saved["pooled"]["confusion"] == result["pooled"]["confusion"]
    assert saved["pooled"]["mf1"] == pytest.approx(result["pooled"]["mf1"])

    markdown = (tmp_path / "evaluation" / "scores.md").read_text()
    pooled = result["pooled"]
    headline = f"| {100 * pooled['acc']:.1f} | {100 * pooled['mf1']:.1f} | {pooled['kappa']:.2f} |"
    assert headline in markdown
    n_wake_as_wake = hand_confusion([0, 1, 2])[0, 0]
    assert f"| W | {n_wake_as_wake} (" in markdown
    assert "PARTIAL" not in markdown

    image = matplotlib.image.imread(tmp_path / "evaluation" / "confusion.png")
    assert image.ndim == 3 and min(image.shape[:2]) > 100
    assert not list((tmp_path / "evaluation").glob(".*tmp*"))


def test_missing_fold_is_named(tmp_path):
    write_fake_run(tmp_path, finished=[0, 2])
    with pytest.raises(TinySleepNetError, match="fold 1 missing"):
        evaluate_run(tmp_path)
    assert not (tmp_path / "evaluation").exists()


def test_partial_run_is_marked(tmp_path):
    write_fake_run(tmp_path, finished=[0])
    result = evaluate_run(tmp_path, allow_partial=True)

    assert result["partial"] and result["missing_folds"] == [1, 2]
    assert np.array_equal(result["pooled"]["confusion"], hand_confusion([0]))
    assert "**PARTIAL: folds 1, 2 missing**" in (tmp_path / "evaluation" / "scores.md").read_text()
    assert json.loads((tmp_path / "evaluation" / "scores.json").read_text())["partial"] is True


def test_run_without_finished_fold_or_plan_is_refused(tmp_path):
    with pytest.raises(TinySleepNetError, match="not a cross-validation run"):
        evaluate_run(tmp_path)
    write_fake_run(tmp_path, finished=[])
    with pytest.raises(TinySleepNetError, match="no fold has finished"):
        evaluate_run(tmp_path, allow_partial=True)


def test_cli_names_missing_folds(tmp_path, capsys):
    write_fake_run(tmp_path, finished=[1])
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "folds 0, 2 missing" in capsys.readouterr().err

    assert main(["evaluate", str(tmp_path), "--allow-partial"]) == 0
    printed = capsys.readouterr().out
    assert "**PARTIAL: folds 0, 2 missing**" in printed
    assert str(tmp_path / "evaluation" / "confusion.png") in printed


def test_folds_whose_best_checkpoint_predicts_one_stage_are_listed(tmp_path, monkeypatch):
    stalled = ([0, 1, 2, 2, 3, 4, 2, 2, 0, 2], [2] * 10)  # all N2: a saturated network
    monkeypatch.setitem(globals(), "FOLD_STAGES", [FOLD_STAGES[0], stalled, FOLD_STAGES[2]])
    write_fake_run(tmp_path, finished=[0, 1, 2])
    result = evaluate_run(tmp_path)
    assert result["one_stage_folds"] == [1]
    assert [row["top_share"] for row in result["folds"]][1] == 1.0
    report = (tmp_path / "evaluation" / "scores.md").read_text()
    assert "Training stalled" in report and "fold 1 (100 % N2)" in report
    assert json.loads((tmp_path / "evaluation" / "scores.json").read_text())["one_stage_folds"] == [
        1
    ]


def test_a_finished_fold_with_a_damaged_predictions_file_counts_as_missing(tmp_path, capsys):
    write_fake_run(tmp_path, finished=[0, 1, 2])
    damaged = next((fold_dir(tmp_path, 1) / "predictions").glob("*.npz"))
    damaged.write_bytes(damaged.read_bytes()[:100])  # truncated
    assert main(["evaluate", str(tmp_path)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(
        f"tinysleepnet: error: {tmp_path}: fold 1 missing; fold 1: {damaged}: not a readable "
        "predictions file (BadZipFile"
    )
    assert not (tmp_path / "evaluation").exists()
    result = evaluate_run(tmp_path, allow_partial=True)
    assert result["partial"] and result["missing_folds"] == [1]
    assert np.array_equal(result["pooled"]["confusion"], hand_confusion([0, 2]))


def test_a_finished_fold_missing_a_predictions_file_counts_as_missing(tmp_path):
    write_fake_run(tmp_path, finished=[0, 1, 2])
    # fold 0 scored a second night of 5 epochs whose predictions file is gone
    (fold_dir(tmp_path, 0) / TrainingRun.DONE).write_text(json.dumps({"scores": {"n_epochs": 15}}))
    with pytest.raises(TinySleepNetError, match=r"fold 0 missing; fold 0: .*predictions: holds 10 "
                       r"test epochs, the fold scored 15 when it finished"):  # fmt: skip
        evaluate_run(tmp_path)
    result = evaluate_run(tmp_path, allow_partial=True)
    assert result["partial"] and result["missing_folds"] == [0]
    assert "**PARTIAL: fold 0 missing**" in (tmp_path / "evaluation" / "scores.md").read_text()


def test_a_fold_whose_best_checkpoint_has_an_unusable_temperature_is_one_line(tmp_path, capsys):
    import torch

    from tinysleepnet.config import Config
    from tinysleepnet.nn.checkpoint import CHECKSUM_KEY, outputs_checksum
    from tinysleepnet.nn.model import TinySleepNet

    write_fake_run(tmp_path, finished=[0, 1, 2])
    config = Config(n_filters=4, lstm_units=4)
    payload = {"model": TinySleepNet(config).state_dict(), "config": config.to_dict()}
    payload |= {"temperature": float("nan")}
    best = fold_dir(tmp_path, 1) / "best.pt"
    torch.save({**payload, CHECKSUM_KEY: outputs_checksum(payload)}, best)  # intact, unusable
    assert main(["evaluate", str(tmp_path)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (
        f"tinysleepnet: error: {best}: calibration temperature nan must be a positive finite "
        "number"
    )
