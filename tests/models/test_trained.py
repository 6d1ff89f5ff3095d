"""Tests of TrainedModel: one load from a checkpoint, an ONNX graph, a folder or a name."""

from __future__ import annotations

import math

import pytest
import torch

from tinysleepnet.errors import PathError, TinySleepNetError
from tinysleepnet.models.folder import ModelFolder
from tinysleepnet.models.store import install_model, models_dir
from tinysleepnet.models.trained import TrainedModel
from tinysleepnet.nn.checkpoint import file_checksum, load_model, save_checkpoint
from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.prediction.stage import stage

from .conftest import TINY


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory):
    """A bare checkpoint with a temperature and a reference amplitude."""
    torch.manual_seed(0)
    network = TinySleepNet(TINY).eval()
    path = tmp_path_factory.mktemp("bare") / "best.pt"
    save_checkpoint(path, network, TINY, temperature=1.7, reference_amplitude_uv=13.0)
    return path


def test_a_checkpoint_loads_with_its_calibration_and_checksum(checkpoint):
    trained = TrainedModel.load(checkpoint)
    assert isinstance(trained.network, TinySleepNet) and not trained.network.training
    assert trained.temperature == pytest.approx(1.7)
    assert trained.reference_amplitude_uv == pytest.approx(13.0)
    assert trained.card is None
    assert trained.path == checkpoint and trained.sha256 == file_checksum(checkpoint)
    assert trained.config == TINY and trained.epoch_samples == TINY.epoch_samples
    assert trained.provenance() == {"model": str(checkpoint), "model_sha256": trained.sha256}


def test_an_onnx_graph_and_a_checkpoint_on_onnx_load_alike(checkpoint, tmp_path):
    pytest.importorskip("onnxruntime")
    from tinysleepnet.nn.export import export_onnx
    from tinysleepnet.nn.onnx_backend import OnnxModel

    exported = export_onnx(load_model(checkpoint), tmp_path / "best.onnx")
    from_file = TrainedModel.load(exported)
    on_onnx = TrainedModel.load(checkpoint, backend="onnx")
    for trained in (from_file, on_onnx):
        assert isinstance(trained.network, OnnxModel)
        assert trained.temperature == pytest.approx(1.7)
        assert trained.reference_amplitude_uv == pytest.approx(13.0)
        assert trained.config == TINY and trained.card is None
    assert from_file.path == exported and from_file.sha256 == file_checksum(exported)
    assert on_onnx.path == checkpoint and on_onnx.sha256 == file_checksum(checkpoint)


def test_a_released_folder_loads_with_its_verified_card(released):
    trained = TrainedModel.load(released)
    card = ModelFolder(released).read_card()
    assert trained.card == card
    assert trained.path == released / "model.pt"
    assert trained.sha256 == card["weights"]["sha256"] == file_checksum(released / "model.pt")
    assert trained.temperature == pytest.approx(card["temperature"])
    assert not math.isnan(trained.reference_amplitude_uv)  # training stored its nights'


def test_an_installed_name_and_the_default_load_from_the_store(released, model_home):
    assert models_dir() == model_home / "models"  # TINYSLEEPNET_HOME, never the user's
    install_model(released)
    for name in ("toy", None):
        trained = TrainedModel.load(name)
        assert trained.path == model_home / "models" / "toy" / "model.pt"
        assert trained.card is not None and trained.card["name"] == "toy"


def test_stage_verifies_a_released_model_once(released, recording, monkeypatch):
    calls = []

    def counting(model):
        calls.append(model.folder)
        return verified_card(model)

    verified_card = ModelFolder.verified_card
    monkeypatch.setattr(ModelFolder, "verified_card", counting)
    result = stage(recording, model=released)
    assert calls == [released]
    assert result.provenance["model"] == str(released / "model.pt")
    card = ModelFolder(released).read_card()
    assert result.provenance["model_sha256"] == card["weights"]["sha256"]


def test_a_network_in_memory_carries_no_file():
    trained = TrainedModel.of(TinySleepNet(TINY).eval())
    assert trained.temperature == 1.0 and math.isnan(trained.reference_amplitude_uv)
    assert trained.provenance() == {"model": None, "model_sha256": None}


def test_an_unknown_backend_is_refused_before_loading(tmp_path):
    with pytest.raises(TinySleepNetError, match="unknown backend 'tensorrt'"):
        TrainedModel.load(tmp_path / "missing.pt", backend="tensorrt")
    with pytest.raises(PathError, match="checkpoint not found"):
        TrainedModel.load(tmp_path / "missing.pt")
