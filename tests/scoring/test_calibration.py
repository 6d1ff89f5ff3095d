"""Tests of temperature scaling: fitting, ECE, storage in checkpoints, the CV report."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import softmax

from tinysleepnet.config import Config
from tinysleepnet.data.nights import Night
from tinysleepnet.nn.checkpoint import load_model, save_checkpoint
from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.prediction.stage import stage
from tinysleepnet.scoring.calibration import (
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    plot_reliability,
    reliability_table,
)
from tinysleepnet.training.calibrate import calibrate_checkpoint, checkpoint_temperature


def over_confident_cohort(n_epochs: int, sharpen: float, seed: int):
    """Stages drawn from known probabilities, and a model's that are ``sharpen`` x sharper."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1.5, (n_epochs, 5))
    true_proba = softmax(logits, axis=1)
    stages = np.array([rng.choice(5, p=p) for p in true_proba])
    return softmax(sharpen * logits, axis=1).astype(np.float32), stages


def test_calibration_lowers_the_ece_of_an_over_confident_model():
    valid_proba, valid_stages = over_confident_cohort(3000, sharpen=3.0, seed=0)
    test_proba, test_stages = over_confident_cohort(3000, sharpen=3.0, seed=1)
    temperature = fit_temperature(valid_proba, valid_stages)
    assert temperature == pytest.approx(3.0, rel=0.15)
    before = expected_calibration_error(test_proba, test_stages)
    after = expected_calibration_error(apply_temperature(test_proba, temperature), test_stages)
    assert before > 0.1
    assert after < before / 3


def test_temperature_keeps_the_most_probable_stage():
    proba, _ = over_confident_cohort(200, sharpen=2.0, seed=2)
    softened = apply_temperature(proba, 4.0)
    np.testing.assert_array_equal(softened.argmax(axis=1), proba.argmax(axis=1))
    np.testing.assert_allclose(softened.sum(axis=1), 1.0, rtol=1e-5)
    assert softened.max(axis=1).mean() < proba.max(axis=1).mean()
    np.testing.assert_array_equal(apply_temperature(proba, 1.0), proba)


def test_ece_by_hand():
    # Two epochs at confidence 0.9 (one right), two at 0.6 (both right): bins 0.9 and 0.6.
    proba = np.array(
        [[0.9, 0.1, 0, 0, 0], [0.9, 0.1, 0, 0, 0], [0.6, 0.4, 0, 0, 0], [0.4, 0.6, 0, 0, 0]]
    )
    stages = np.array([0, 1, 0, 1])
    # |0.5 - 0.9| * 2/4 + |1.0 - 0.6| * 2/4
    assert expected_calibration_error(proba, stages) == pytest.approx(0.4)
    table = reliability_table(proba, stages)
    assert table["count"].sum() == 4


def test_reliability_diagram_is_written(tmp_path):
    proba, stages = over_confident_cohort(300, sharpen=3.0, seed=3)
    path = tmp_path / "reliability.png"
    plot_reliability(proba, stages, 3.0, path)
    assert path.stat().st_size > 1000


def test_calibrate_checkpoint_stores_the_temperature_and_load_model_carries_it(tmp_path):
    config = Config(n_filters=4, lstm_units=4, device="cpu")
    torch.manual_seed(0)
    model = TinySleepNet(config)
    path = tmp_path / "best.pt"
    save_checkpoint(path, model, config, pass_number=3)
    assert checkpoint_temperature(path) == 1.0
    assert float(load_model(path).temperature) == 1.0
    rng = np.random.default_rng(0)
    nights = [
        Night(
            signal_uv=rng.normal(0, 20, (20, config.epoch_samples)).astype(np.float32),
            stages=rng.integers(0, 5, 20),
            sfreq=config.sfreq,
            channel=config.channel,
            subject="00",
            night=1,
            start="",
            name="SC4001E0",
        )
    ]
    temperature = calibrate_checkpoint(path, nights)
    assert temperature != 1.0
    assert checkpoint_temperature(path) == pytest.approx(temperature)
    loaded = load_model(path)
    assert float(loaded.temperature) == pytest.approx(temperature)
    for name, value in model.state_dict().items():  # the weights are those saved
        torch.testing.assert_close(loaded.state_dict()[name], value)


def test_calibrating_a_checkpoint_lowers_the_ece_of_its_staging_on_unseen_nights(tmp_path):
    """A network made over-confident (its logits scaled x20) stages random-stage nights at
    chance with near-certain probabilities; the temperature fitted on validation nights
    brings the confidence of its staging of other nights down to its accuracy."""
    # a small input scale keeps the untrained LSTM out of saturation, so its outputs vary
    config = Config(n_filters=4, lstm_units=4, device="cpu", input_scale=0.05)
    torch.manual_seed(1)
    model = TinySleepNet(config)
    with torch.no_grad():
        model.classifier.weight.mul_(20.0)
        model.classifier.bias.mul_(20.0)
    path = tmp_path / "best.pt"
    save_checkpoint(path, model, config)
    rng = np.random.default_rng(1)

    def night(name: str) -> Night:
        return Night(
            signal_uv=rng.normal(0, 20, (60, config.epoch_samples)).astype(np.float32),
            stages=rng.integers(0, 5, 60),
            sfreq=config.sfreq,
            channel=config.channel,
            subject=name,
            night=1,
            start="",
            name=name,
        )

    valid, test = [night(f"v{i}") for i in range(3)], [night(f"t{i}") for i in range(3)]
    stages = np.concatenate([n.stages for n in test])

    def test_proba() -> np.ndarray:  # staged as a user stages a recording
        results = [stage((n.signal_uv.reshape(-1), config.sfreq), path) for n in test]
        return np.concatenate([result.proba for result in results])

    before = expected_calibration_error(test_proba(), stages)
    temperature = calibrate_checkpoint(path, valid)
    after = expected_calibration_error(test_proba(), stages)
    assert temperature > 5 and before > 0.5
    assert after < before / 3


def test_reliability_diagram_labels_each_bin_with_its_epoch_count(monkeypatch, tmp_path):
    from tinysleepnet.scoring import calibration

    figures = []
    monkeypatch.setattr(calibration, "write_figure", lambda path, fig, **_: figures.append(fig))
    rng = np.random.default_rng(0)
    proba = softmax(rng.normal(0, 2, (300, 5)), axis=1)
    stages = rng.integers(0, 5, 300)
    plot_reliability(proba, stages, 1.5, tmp_path / "r.png")
    (figure,) = figures
    counts = calibration.reliability_table(
        calibration.apply_temperature(proba, 1.5), stages
    )["count"]
    labels = [text.get_text() for text in figure.axes[0].texts]
    assert labels == [str(n) for n in counts[counts > 0]]
    assert sum(map(int, labels)) == 300
