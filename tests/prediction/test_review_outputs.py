"""The review queue and calibration through staging: CSV, EDF+, PNG, statistics, agreement."""

from __future__ import annotations

import json
from pathlib import Path

import mne
import numpy as np
import pandas as pd
import pytest

from tinysleepnet.cli import main
from tinysleepnet.nn.checkpoint import load_checkpoint, load_model, save_checkpoint
from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.prediction.backends import as_model
from tinysleepnet.prediction.online import replay
from tinysleepnet.prediction.sources import read_recording
from tinysleepnet.prediction.stage import stage
from tinysleepnet.scoring.calibration import apply_temperature


def test_review_flags_reach_every_output(recording: Path, model: TinySleepNet, tmp_path: Path):
    result = stage(recording, model=model, review="25%")
    assert result.review is not None and result.review.sum() == 4  # 25% of 16 epochs
    confidence = result.proba.max(axis=1)
    assert confidence[result.review].max() <= confidence[~result.review].min()
    expert = result.stages.copy()
    expert[np.flatnonzero(result.review)[0]] = (expert[np.flatnonzero(result.review)[0]] + 1) % 5
    paths = result.save(tmp_path, "night", expert_stages=expert).paths

    frame = pd.read_csv(paths["csv"])
    np.testing.assert_array_equal(frame["review"], result.review.astype(int))
    annotations = mne.read_annotations(paths["edf"])
    flagged = annotations[annotations.description == "Review"]
    assert flagged.duration.sum() == pytest.approx(4 * 30.0)
    assert (annotations.description != "Review").sum() >= 1  # the stages are still there
    stats = json.loads(paths["statistics"].read_text())
    assert stats["review_min"] == 2.0
    assert sum(stats["review_min_per_stage"].values()) == 2.0
    assert "Flagged for review (min)" in paths["statistics_txt"].read_text()
    agreement = json.loads(paths["agreement"].read_text())
    assert agreement["acc"] == pytest.approx(15 / 16)
    assert agreement["review"]["acc_unflagged"] == 1.0  # the one error is flagged
    assert agreement["review"]["acc_after_review"] == 1.0
    assert "Accuracy on the unflagged epochs   100.0%" in paths["agreement_txt"].read_text()
    events = pd.read_csv(paths["events"], sep="\t")
    np.testing.assert_array_equal(events["review"], result.review.astype(int))
    assert "review" in json.loads(paths["events_json"].read_text())


def test_staging_applies_the_checkpoint_temperature(
    recording: Path, checkpoint: Path, tmp_path: Path
):
    payload = load_checkpoint(checkpoint)
    hot = tmp_path / "calibrated.pt"
    network = load_model(checkpoint)
    save_checkpoint(hot, network, network.config, temperature=2.5)
    plain, calibrated = stage(recording, model=checkpoint), stage(recording, model=hot)
    np.testing.assert_allclose(calibrated.proba, apply_temperature(plain.proba, 2.5), atol=1e-5)
    np.testing.assert_array_equal(calibrated.stages, plain.stages)
    assert "temperature" not in payload  # the fixture's checkpoint was left alone


def test_predict_review_option(recording: Path, checkpoint: Path, tmp_path: Path, capsys):
    argv = ["predict", str(recording), "--model", str(checkpoint), "--out", str(tmp_path)]
    assert main([*argv, "--review", "0.99"]) == 0
    frame = pd.read_csv(tmp_path / "night-PSG_hypnogram.csv")
    np.testing.assert_array_equal(frame["review"], frame["confidence"] < 0.99)
    with pytest.raises(SystemExit):
        main([*argv, "--review", "lots"])
    assert "review rule 'lots'" in capsys.readouterr().err


def test_online_staging_is_calibrated_like_whole_night_staging(
    recording: Path, checkpoint: Path, tmp_path: Path
):
    network = load_model(checkpoint)
    hot = tmp_path / "calibrated.pt"
    save_checkpoint(hot, network, network.config, temperature=0.5)
    calibrated = as_model(hot)
    online = replay(read_recording(recording, None, calibrated), calibrated)
    np.testing.assert_allclose(online.proba, stage(recording, model=hot).proba, atol=1e-5)


def test_onnx_staging_keeps_the_temperature(recording: Path, checkpoint: Path, tmp_path: Path):
    pytest.importorskip("onnxruntime")
    network = load_model(checkpoint)
    hot = tmp_path / "calibrated.pt"
    save_checkpoint(hot, network, network.config, temperature=2.0)
    torch_result = stage(recording, model=hot)
    onnx_result = stage(recording, model=hot, backend="onnx")
    np.testing.assert_allclose(onnx_result.proba, torch_result.proba, atol=1e-4)
