"""A stalled run is noticed, logged, recorded and, when asked, restarted with the remedy."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pandas as pd
import pytest
import torch

from tinysleepnet.config import STALL_REMEDY, Config
from tinysleepnet.nn.checkpoint import load_checkpoint
from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.training import loop, objective
from tinysleepnet.training.fit import train
from tinysleepnet.training.run import TrainingRun
from tinysleepnet.training.stall import (
    FLAT_LOSS_PASSES,
    RESTART_AFTER_PASSES,
    guess_loss,
    stall_reason,
    top_stage,
)


def test_top_stage_and_its_share():
    assert top_stage(np.array([2, 2, 2, 0])) == ("N2", 0.75)


@pytest.mark.parametrize(
    ("losses", "share", "expected"),
    [
        ([1.0, 0.9, 0.8], 0.96, "validation predictions are 96 % N2"),
        ([1.0, 0.9, 0.8], 0.94, ""),
        ([1.0] * FLAT_LOSS_PASSES, 0.5, ""),  # too few passes to tell
        ([1.0] * (FLAT_LOSS_PASSES + 1), 0.5, "training loss has not moved"),
        ([1.0 + 0.01 * i for i in range(FLAT_LOSS_PASSES + 1)], 0.5, ""),
    ],
)
def test_stall_reasons(losses, share, expected):
    reason = stall_reason(losses, share, "N2")
    assert (expected in reason) if expected else reason == ""


def test_guess_loss_is_the_lowest_loss_of_a_prediction_that_ignores_the_signal():
    stages = np.array([0, 1, 2, 2, 2, 3, 3, 4, 2, 1])
    weights = torch.tensor([1.0, 1.5, 1.0, 1.0, 1.0])
    guess = guess_loss(stages, weights.tolist())

    def constant_loss(proba):  # the training loop's loss of one constant prediction
        logits = torch.log(torch.as_tensor(proba, dtype=torch.float64)).expand(1, len(stages), 5)
        return float(
            objective.loss(logits, torch.from_numpy(stages)[None], torch.ones(1, 10), weights)
        )

    best = np.bincount(stages, minlength=5) * weights.numpy()
    assert constant_loss(best / best.sum()) == pytest.approx(guess)
    for other in (np.full(5, 0.2), np.bincount(stages, minlength=5) / 10):
        assert constant_loss(other) > guess + 1e-3


def test_a_training_loss_no_better_than_the_guess_is_a_stall():
    assert "no lower than guessing the stages' frequencies (1.508)" in stall_reason(
        [1.9, 1.55], 0.6, "N2", train_guess_loss=1.508
    )
    assert stall_reason([1.9, 1.40], 0.6, "N2", train_guess_loss=1.508) == ""


def test_a_run_that_learns_nothing_from_the_eeg_is_restarted(
    tmp_path, tiny_config, toy_nights, monkeypatch
):
    """Validation spread over stages, training loss above the guess: restarted all the same."""

    def validate(*args):
        return {"loss": 1.6, "acc": 0.3, "mf1": 0.1, "top_stage": "N2", "top_share": 0.6}

    losses = itertools.cycle([10.0, 10.5])  # wavering, so never flat; never below the guess

    def no_better_than_guessing(*args):
        return {"loss": next(losses), "acc": 0.3, "mf1": 0.2, "top_share": 0.5}

    monkeypatch.setattr(loop, "validate", validate)
    monkeypatch.setattr(loop, "_train_one_pass", no_better_than_guessing)
    config = tiny_config.replace(on_stall="rescale", max_passes=RESTART_AFTER_PASSES + 1)
    result = train(*toy_nights, config, tmp_path, progress=False)
    assert result.restarted_after_pass == RESTART_AFTER_PASSES
    assert pd.read_csv(tmp_path / TrainingRun.STALLED / "log.csv")["stalled"].tolist() == [1] * 5


def test_a_run_that_has_the_remedy_already_is_not_restarted(
    tmp_path, tiny_config, toy_nights, one_stage, caplog
):
    config = tiny_config.replace(max_passes=RESTART_AFTER_PASSES + 1, **STALL_REMEDY)
    with caplog.at_level(logging.WARNING, logger="tinysleepnet"):
        result = train(*toy_nights, config, tmp_path, progress=False)
    assert result.restarted_after_pass is None and not (tmp_path / TrainingRun.STALLED).exists()
    assert len(result.log) == RESTART_AFTER_PASSES + 1
    assert "the run already has the stall remedy; early passes often look so" in caplog.text


def test_validation_reports_the_most_predicted_stage(tiny_config, toy_nights):
    model = TinySleepNet(tiny_config).eval()
    with torch.no_grad():
        model.classifier.bias.copy_(torch.tensor([0.0, 0.0, 1e4, 0.0, 0.0]))
    valid = objective.validate(model, toy_nights[1], tiny_config, "float32")
    assert (valid["top_stage"], valid["top_share"]) == ("N2", 1.0)


@pytest.fixture
def one_stage(monkeypatch):
    """Validation that always predicts Wake, as a saturated network does."""

    def validate(*args):
        return {"loss": 1.6, "acc": 0.2, "mf1": 0.07, "top_stage": "W", "top_share": 1.0}

    monkeypatch.setattr(loop, "validate", validate)


def test_a_stalled_pass_is_warned_about_and_recorded(
    tmp_path, tiny_config, toy_nights, one_stage, caplog
):
    config = tiny_config.replace(on_stall="warn")
    with caplog.at_level(logging.INFO, logger="tinysleepnet"):
        result = train(*toy_nights, config, tmp_path / "fold_07", progress=False)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert warnings[0].startswith("fold_07 pass 1: training may have stalled")
    assert "100 % W" in warnings[0] and "without --on-stall warn" in warnings[0]
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert [m.split(":")[0] for m in infos] == ["fold_07 pass 1/2", "fold_07 pass 2/2"]
    assert pd.read_csv(tmp_path / "fold_07" / "log.csv")["stalled"].tolist() == [1, 1]
    assert result.stalled_passes == [1, 2] and result.best_predicts_one_stage
    assert result.restarted_after_pass is None  # "warn" only warns


def test_stall_advice_names_only_settings_not_already_in_use(
    tmp_path, tiny_config, toy_nights, one_stage, caplog
):
    def advice(config, name):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="tinysleepnet"):
            train(*toy_nights, config.replace(max_passes=1), tmp_path / name, progress=False)
        return caplog.records[0].getMessage()

    warn = tiny_config.replace(on_stall="warn")
    assert "--input-scale 0.05 --segment-epochs 360" in advice(warn, "a")
    half = advice(warn.replace(input_scale=0.05), "b")
    assert "--segment-epochs 360" in half and "--input-scale" not in half
    remedied = tiny_config.replace(input_scale=0.05, segment_epochs=360)
    for on_stall in ("warn", "rescale"):
        text = advice(remedied.replace(on_stall=on_stall), f"run-{on_stall}")
        assert text.split("; ", 1)[1] == (
            "the run already has the stall remedy; early passes often look so: if it "
            "persists, train longer (--epochs) or with gradient centralization (--grad-centralize)"
        )
    text = advice(remedied.replace(grad_centralize=True), "centralized")  # as fast is
    assert text.split("; ", 1)[1] == (
        "the run already has the stall remedy; early passes often look so: if it "
        "persists, train longer (--epochs)"
    )


def test_by_default_a_stalled_run_is_restarted_once_with_the_remedy_and_resumes(
    tmp_path, tiny_config, toy_nights, one_stage, caplog
):
    assert Config().on_stall == "rescale"
    config = tiny_config.replace(max_passes=RESTART_AFTER_PASSES + 2)
    with caplog.at_level(logging.WARNING, logger="tinysleepnet"):
        train(*toy_nights, config.replace(max_passes=1), tmp_path, progress=False)
    # told at the first stalled pass what will happen
    assert (
        f"it restarts with input_scale=0.05, segment_epochs=360 after {RESTART_AFTER_PASSES}"
        in caplog.text
    )
    result = train(*toy_nights, config, tmp_path, progress=False)
    assert result.restarted_after_pass == RESTART_AFTER_PASSES
    assert (result.config.input_scale, result.config.segment_epochs) == (0.05, 360)
    assert len(pd.read_csv(tmp_path / TrainingRun.STALLED / "log.csv")) == RESTART_AFTER_PASSES
    # the restart runs its own passes to the end (it restarts once, not again)
    assert len(result.log) == config.max_passes
    assert load_checkpoint(result.best_path)["config"]["input_scale"] == 0.05
    again = train(*toy_nights, config, tmp_path, progress=False)  # finished: returns at once
    assert again.restarted_after_pass == RESTART_AFTER_PASSES
    assert again.config == result.config
    pd.testing.assert_frame_equal(again.log, result.log)
