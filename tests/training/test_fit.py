"""The engine: training, then the kept checkpoint calibrated once, in one call."""

from __future__ import annotations

import pytest

from tinysleepnet.nn.checkpoint import load_checkpoint
from tinysleepnet.training import fit as fit_module
from tinysleepnet.training import loop
from tinysleepnet.training.calibrate import calibrate_checkpoint, checkpoint_temperature
from tinysleepnet.training.fit import fit, train


def test_fit_calibrates_the_kept_checkpoint_once(tmp_path, tiny_config, toy_nights, monkeypatch):
    trained = train(*toy_nights, tiny_config, tmp_path / "run", progress=False)
    assert trained.temperature is None and "temperature" not in load_checkpoint(trained.best_path)

    def no_training(*args):
        raise AssertionError("trained again")

    monkeypatch.setattr(loop, "_train_one_pass", no_training)
    fitted = fit(*toy_nights, tiny_config, tmp_path / "run", progress=False)
    assert fitted.temperature == checkpoint_temperature(fitted.best_path) != 1.0
    assert fitted.best_score == trained.best_score
    best = load_checkpoint(fitted.best_path)
    assert best["reference_amplitude_uv"] == fitted.reference_amplitude_uv
    # the same temperature as calibrating the checkpoint by hand on the validation nights
    assert calibrate_checkpoint(fitted.best_path, toy_nights[1]) == fitted.temperature

    def no_calibration(*args, **kwargs):
        raise AssertionError("calibrated again")

    monkeypatch.setattr(fit_module, "calibrate_checkpoint", no_calibration)
    again = fit(*toy_nights, tiny_config, tmp_path / "run", progress=False)
    assert again.temperature == pytest.approx(fitted.temperature)
