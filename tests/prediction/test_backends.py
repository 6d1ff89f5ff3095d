"""Staging through ONNX Runtime and in bfloat16 gives the PyTorch float32 result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tinysleepnet.cli import main
from tinysleepnet.errors import PathError, TinySleepNetError
from tinysleepnet.io.recordings import read_eeg
from tinysleepnet.nn.checkpoint import load_model, save_checkpoint
from tinysleepnet.nn.export import export_onnx
from tinysleepnet.prediction.backends import as_model
from tinysleepnet.prediction.online import Stager
from tinysleepnet.prediction.stage import stage

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def recording(make_recording, tmp_path_factory):
    return make_recording(tmp_path_factory.mktemp("rec") / "night.edf", n_epochs=30)


def test_onnx_backend_matches_torch(recording, checkpoint, tmp_path, model):
    reference = stage(recording, model=checkpoint)
    from_checkpoint = stage(recording, model=checkpoint, backend="onnx")
    from_file = stage(recording, model=export_onnx(model, tmp_path / "model.onnx"))
    for result in (from_checkpoint, from_file):
        np.testing.assert_allclose(result.proba, reference.proba, atol=1e-5)


def test_online_stager_runs_on_onnx(recording, checkpoint):
    reference = stage(recording, model=checkpoint)
    stager = Stager(checkpoint, backend="onnx")
    samples = read_eeg(recording).signal_uv
    for block in np.array_split(samples, 17):
        stager.push(block)
    np.testing.assert_allclose(stager.result().proba, reference.proba, atol=1e-5)


@pytest.fixture(scope="module")
def calibrated(model, tmp_path_factory):
    """The model with a temperature and the median |x| of 20-uV noise (its training nights')."""
    path = tmp_path_factory.mktemp("calibrated") / "model.pt"
    save_checkpoint(path, model, model.config, temperature=1.8, reference_amplitude_uv=13.5)
    return path


def test_onnx_models_carry_the_temperature_and_reference_amplitude(calibrated, tmp_path):
    exported = export_onnx(load_model(calibrated), tmp_path / "model.onnx")
    for network in (as_model(exported), as_model(calibrated, backend="onnx")):
        assert network.temperature == pytest.approx(1.8)
        assert network.reference_amplitude_uv == pytest.approx(13.5)


@pytest.mark.parametrize(("scale", "refused"), [(10.0, False), (47.0, True)])
def test_onnx_backend_checks_the_amplitude_as_torch_does(
    make_recording, calibrated, tmp_path, scale, refused
):
    path = make_recording(tmp_path / "gain.edf", n_epochs=4, scale=scale)
    exported = export_onnx(load_model(calibrated), tmp_path / "model.onnx")
    runs = {"torch": {}, "onnx": {"backend": "onnx"}, "file": {}}
    for name, options in runs.items():
        model = exported if name == "file" else calibrated
        if refused:
            with pytest.raises(PathError, match=r"times larger .* refused \(a gain or unit"):
                stage(path, model=model, **options)
        else:
            (warning,) = stage(path, model=model, **options).warnings
            assert "times larger than the model's training nights'" in warning


def test_bfloat16_agrees_with_float32(recording, checkpoint):
    reference = stage(recording, model=checkpoint)
    reduced = stage(recording, model=checkpoint, precision="bfloat16")
    assert np.abs(reduced.proba - reference.proba).max() < 0.02


def test_unknown_backend_is_refused(checkpoint):
    with pytest.raises(TinySleepNetError, match="unknown backend"):
        as_model(checkpoint, backend="tensorrt")


def test_predict_cli_with_onnx_backend(recording, checkpoint, tmp_path):
    torch_out, onnx_out = tmp_path / "torch", tmp_path / "onnx"
    assert (
        main(["predict", str(recording), "--model", str(checkpoint), "--out", str(torch_out)]) == 0
    )
    assert (
        main(
            [
                "predict",
                str(recording),
                "--model",
                str(checkpoint),
                "--out",
                str(onnx_out),
                "--backend",
                "onnx",
            ]
        )
        == 0
    )
    a = pd.read_csv(torch_out / "night_hypnogram.csv")
    b = pd.read_csv(onnx_out / "night_hypnogram.csv")
    assert (a["stage"] == b["stage"]).all()
    np.testing.assert_allclose(a["prob_W"], b["prob_W"], atol=1e-5)
