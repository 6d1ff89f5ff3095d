"""Tests of releasing a model: training on all subjects, the model card, the CV scores."""

from __future__ import annotations

import json

import pytest

from tinysleepnet.cli import main
from tinysleepnet.config import Config
from tinysleepnet.data.nights import content_hash, load_nights
from tinysleepnet.errors import PathError, TinySleepNetError
from tinysleepnet.evaluation.cv import cross_validate
from tinysleepnet.evaluation.report import evaluate_run
from tinysleepnet.models.card import NOT_CROSS_VALIDATED
from tinysleepnet.models.folder import ModelFolder
from tinysleepnet.models.store import resolve_model
from tinysleepnet.nn.checkpoint import file_checksum
from tinysleepnet.training import fit as fit_module
from tinysleepnet.training.calibrate import checkpoint_temperature
from tinysleepnet.workflows.release import release

from ..models.conftest import TINY, write_cohort


@pytest.fixture(scope="module")
def cv_run(cohort, tmp_path_factory):
    """A finished 2-fold cross-validation of the cohort with the release's settings."""
    run = tmp_path_factory.mktemp("run")
    cross_validate(cohort, run, n_folds=2, config=TINY, progress=False)
    return run


def test_cv_folds_are_calibrated_and_evaluate_reports_the_ece(cv_run):
    result = evaluate_run(cv_run)
    calibration = result["calibration"]
    assert set(calibration["temperatures"]) == {"0", "1"}
    assert all(t != 1.0 for t in calibration["temperatures"].values())
    for fold in (0, 1):
        temperature = checkpoint_temperature(cv_run / f"fold_{fold:02d}" / "best.pt")
        assert temperature == calibration["temperatures"][str(fold)]
    assert 0 <= calibration["ece_after"] <= 1
    assert (cv_run / "evaluation" / "reliability.png").stat().st_size > 1000
    assert "## Calibration" in (cv_run / "evaluation" / "scores.md").read_text()


def test_release_without_cv_says_so(cohort, tmp_path):
    card = release(cohort, tmp_path / "model", TINY, progress=False)
    model_dir = tmp_path / "model"
    assert json.loads(json.dumps(card)) == json.loads((model_dir / "model.json").read_text())
    assert card["name"] == "model"
    assert card["cross_validation"] is None
    assert NOT_CROSS_VALIDATED in (model_dir / "MODEL.md").read_text()
    assert card["weights"]["sha256"] == file_checksum(model_dir / "model.pt")
    assert card["temperature"] == pytest.approx(checkpoint_temperature(model_dir / "model.pt"))
    data = card["data"]
    assert data["nights"] == {f"SC4{s:02d}1E0": 40 for s in range(4)}
    assert data["channels"] == [TINY.channel] and data["sfreq"] == [100.0]
    assert data["epoch_sec"] == [3.0]
    assert data["content_sha256"] == content_hash(load_nights(cohort))
    assert len(data["valid_subjects"]) == 1  # 25 % of 4 subjects
    assert set(card["validation"]["per_stage_f1"]) == {"W", "N1", "N2", "N3", "REM"}
    assert card["config"]["n_filters"] == TINY.n_filters
    assert {"tinysleepnet", "torch", "python"} <= set(card["versions"])


def test_release_with_cv_run_carries_its_scores(cohort, cv_run, tmp_path, capsys):
    out = tmp_path / "released"
    argv = ["release", str(cohort), "--out", str(out), "--cv-run", str(cv_run), "--quiet"]
    assert main(argv) == 0
    card = json.loads((out / "model.json").read_text())
    pooled = evaluate_run(cv_run)["pooled"]
    assert card["cross_validation"]["mf1"] == pooled["mf1"]
    assert card["cross_validation"]["n_folds"] == 2
    assert card["config"] == json.loads((cv_run / "config.json").read_text())  # the run's recipe
    text = (out / "MODEL.md").read_text()
    assert "Subject-wise cross-validation of the same settings (2 folds" in text
    assert NOT_CROSS_VALIDATED not in text
    assert "released released" in capsys.readouterr().out


def test_release_refuses_a_cv_run_of_other_settings(cohort, cv_run, tmp_path):
    with pytest.raises(TinySleepNetError, match="cross-validated with other settings: lr="):
        release(cohort, tmp_path / "m", TINY.replace(lr=1e-2), cv_run=cv_run, progress=False)


def test_release_api_takes_the_cv_runs_settings(cohort, cv_run, tmp_path):
    card = release(cohort, tmp_path / "m", cv_run=cv_run, progress=False)
    assert Config.from_dict(card["config"]) == Config.load(cv_run / "config.json")
    with pytest.raises(PathError, match="not a cross-validation run"):
        release(cohort, tmp_path / "n", cv_run=tmp_path, progress=False)


@pytest.mark.parametrize("name", ["../../escaped", "/abs/model", ".hidden"])
def test_release_refuses_a_name_that_is_not_one_folder_name(cohort, tmp_path, capsys, name):
    argv = ["release", str(cohort), "--out", str(tmp_path / "m"), "--name", name, "--quiet"]
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"tinysleepnet: error: {tmp_path / 'm'}: model name {name!r} cannot")
    assert "\n" not in error
    assert list(tmp_path.iterdir()) == []  # refused before training: nothing written


@pytest.mark.parametrize("crash", ["calibrate_checkpoint", "write_card"])
def test_killed_release_leaves_no_folder_predict_accepts(
    cohort, recording, tmp_path, monkeypatch, capsys, crash
):
    out = tmp_path / "model"

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the release stops there, as a kill would

    # the engine calibrates the release's training run; the model folder writes its card
    owner = fit_module if crash == "calibrate_checkpoint" else ModelFolder
    monkeypatch.setattr(owner, crash, killed)
    with pytest.raises(KeyboardInterrupt):
        release(cohort, out, TINY, progress=False)
    assert not (out / "model.json").exists()
    if crash == "calibrate_checkpoint":  # no uncalibrated model.pt, and no partial file
        assert sorted(p.name for p in out.iterdir()) == ["training"]
    argv = ["predict", str(recording), "--model", str(out), "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    problem = "not a released model (no model.json)" if crash == "write_card" else "not found"
    assert error.startswith(f"tinysleepnet: error: {out}: ") and problem in error
    assert "\n" not in error
    monkeypatch.undo()
    card = release(cohort, out, TINY, progress=False)  # the rerun finishes it
    assert resolve_model(out) == out / "model.pt"
    assert card["weights"]["sha256"] == file_checksum(out / "model.pt")


def test_a_release_again_into_its_folder_from_other_recordings_of_the_same_nights_is_refused(
    cohort, tmp_path
):
    out = tmp_path / "toy"
    release(cohort, out, TINY, progress=False)
    card = (out / "model.json").read_bytes()
    redrawn = write_cohort(tmp_path / "redrawn", subjects=4, seed=1)  # same names and lengths
    with pytest.raises(PathError, match="same nights with other signals or stages"):
        release(redrawn, out, TINY, progress=False)
    assert (out / "model.json").read_bytes() == card  # the card still vouches for the first
