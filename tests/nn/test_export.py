"""ONNX export: the graph computes the network's logits and state; ONNX Runtime stages with it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from tinysleepnet.cli import main
from tinysleepnet.config import Config
from tinysleepnet.errors import PathError
from tinysleepnet.nn.checkpoint import save_checkpoint
from tinysleepnet.nn.export import REFERENCE_KEY, TEMPERATURE_KEY, export_onnx
from tinysleepnet.nn.inference import predict_proba
from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.nn.onnx_backend import OnnxModel

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module", params=[True, False], ids=["peephole-lstm", "fused-lstm"])
def network(request) -> TinySleepNet:
    """The paper's peephole LSTM (ONNX's LSTM operator with peepholes) and the fused one."""
    torch.manual_seed(2)
    net = TinySleepNet(Config(n_filters=16, lstm_units=16, peepholes=request.param))
    with torch.no_grad():  # scales and shifts away from the identity, as after training
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return net.eval()


@pytest.fixture(scope="module")
def onnx_path(network: TinySleepNet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_onnx(network, tmp_path_factory.mktemp("onnx") / "model.onnx")


@pytest.mark.parametrize(("nights", "epochs"), [(1, 1), (3, 7), (2, 40)])
def test_graph_equals_the_network_for_any_nights_and_epochs(network, onnx_path, nights, epochs):
    x = 30 * torch.randn(nights, epochs, network.epoch_samples)
    state = (0.2 * torch.randn(1, nights, 16), 0.2 * torch.randn(1, nights, 16))
    with torch.inference_mode():
        expected, (h, c) = network(x, state)
    logits, (h_onnx, c_onnx) = OnnxModel(onnx_path)(x, state)
    torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(h_onnx, h, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(c_onnx, c, rtol=1e-4, atol=1e-5)


def test_export_leaves_the_network_as_it_was(network, tmp_path):
    x = 30 * torch.randn(1, 3, network.epoch_samples)
    with torch.inference_mode():
        before, _ = network(x)
        export_onnx(network, tmp_path / "again.onnx")
        after, _ = network(x)
    assert not network.training
    torch.testing.assert_close(after, before)


def test_predict_proba_runs_on_onnx_runtime(network, onnx_path):
    rng = np.random.default_rng(0)
    nights = [rng.normal(0, 30, (n, network.epoch_samples)).astype(np.float32) for n in (50, 12)]
    expected = predict_proba(network, nights, chunk_epochs=16)
    onnx_model = OnnxModel(onnx_path, threads=1)
    assert onnx_model.config == network.config
    assert onnx_model.epoch_samples == network.epoch_samples
    for got, want in zip(predict_proba(onnx_model, nights, chunk_epochs=16), expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_cli_exports_a_checkpoint(network, tmp_path, capsys):
    checkpoint = tmp_path / "model.pt"
    save_checkpoint(checkpoint, network, network.config)
    out = tmp_path / "model.onnx"
    assert main(["export", "--model", str(checkpoint), "--format", "onnx", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    x = torch.zeros(1, 2, network.epoch_samples)
    assert OnnxModel(out)(x)[0].shape == (1, 2, 5)


def test_cli_reports_a_missing_checkpoint(tmp_path, capsys):
    assert main(["export", "--model", str(tmp_path / "none.pt"), str(tmp_path / "m.onnx")]) == 2
    assert "none.pt: checkpoint not found" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()


def test_unreadable_onnx_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a graph")
    with pytest.raises(PathError, match=r"bad\.onnx: not a readable ONNX model"):
        OnnxModel(bad)
    with pytest.raises(PathError, match="not found"):
        OnnxModel(tmp_path / "missing.onnx")


@pytest.mark.parametrize(
    ("key", "value"),
    [(TEMPERATURE_KEY, "nan"), (TEMPERATURE_KEY, "-1.5"), (REFERENCE_KEY, "0.0")],
    ids=["nan-temperature", "negative-temperature", "zero-reference"],
)
def test_onnx_file_with_an_unusable_temperature_or_amplitude_is_refused(
    network, onnx_path, tmp_path, key, value
):
    onnx = pytest.importorskip("onnx")
    graph = onnx.load(onnx_path)
    props = {prop.key: prop.value for prop in graph.metadata_props} | {key: value}
    del graph.metadata_props[:]
    onnx.helper.set_model_props(graph, props)
    onnx.save(graph, tmp_path / "changed.onnx")
    with pytest.raises(PathError, match=r"changed\.onnx: .* must be a positive finite number"):
        OnnxModel(tmp_path / "changed.onnx")


def test_export_without_a_reference_amplitude_stages_without_the_check(network, onnx_path):
    # a network never trained by train() has no training nights: NaN, staging skips the check
    assert math.isnan(OnnxModel(onnx_path).reference_amplitude_uv)
