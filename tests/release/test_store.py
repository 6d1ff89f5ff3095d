"""Tests of installed models: install, list, default, and staging without naming a model."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from tinysleepnet.cli import main
from tinysleepnet.errors import PathError, TinySleepNetError
from tinysleepnet.io.edf_writer import EdfChannel, write_edf
from tinysleepnet.prediction.stage import stage
from tinysleepnet.release.store import (
    install_model,
    installed_models,
    models_dir,
    resolve_model,
)

from .conftest import TINY


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """Two minutes of noise on the model's channel."""
    path = tmp_path_factory.mktemp("rec") / "night-PSG.edf"
    signal = np.random.default_rng(0).normal(0, 20, 120 * 100)
    write_edf(path, [EdfChannel(TINY.channel, signal, 100.0)], dt.datetime(2024, 3, 1, 23, 0))
    return path


def test_without_an_installed_model_predict_says_how_to_get_one(recording, tmp_path, capsys):
    assert main(["predict", str(recording), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "tinysleepnet release DATA --out MODEL_DIR" in err
    assert "tinysleepnet models install MODEL_DIR --default" in err
    assert "Traceback" not in err
    with pytest.raises(TinySleepNetError, match="none installed"):
        stage(recording)
    assert main(["models"]) == 0
    assert "no models installed" in capsys.readouterr().out


def test_installed_default_model_stages_without_being_named(released, recording, tmp_path, capsys):
    assert main(["models", "install", str(released)]) == 0  # the first becomes the default
    installed = models_dir() / "toy"
    assert sorted(p.name for p in installed.iterdir()) == ["MODEL.md", "model.json", "model.pt"]
    assert resolve_model(None) == installed / "model.pt"
    result = stage(recording)
    assert result.n_epochs == 40  # 120 s of 3-s epochs
    assert main(["predict", str(recording), "--out", str(tmp_path / "out")]) == 0
    events = json.loads((tmp_path / "out" / "night-PSG_events.json").read_text())
    model = events["GeneratedBy"][0]["Model"]
    assert model["name"] == "toy"
    card = json.loads((released / "model.json").read_text())
    assert model["weights_sha256"] == card["weights"]["sha256"]
    capsys.readouterr()
    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    assert "* toy" in listing and "not cross-validated" in listing


def test_install_default_switches_and_names_resolve(released, tmp_path):
    install_model(released)
    other = tmp_path / "other"
    other.mkdir()
    for file in ("model.pt", "MODEL.md"):
        (other / file).write_bytes((released / file).read_bytes())
    card = json.loads((released / "model.json").read_text()) | {"name": "other"}
    (other / "model.json").write_text(json.dumps(card))
    install_model(other)
    assert [m["default"] for m in installed_models()] == [False, True]  # other, toy
    install_model(other, default=True)
    assert [m["name"] for m in installed_models() if m["default"]] == ["other"]
    assert resolve_model("toy") == models_dir() / "toy" / "model.pt"
    assert resolve_model(released) == released / "model.pt"
    with pytest.raises(PathError, match="checkpoint not found"):
        resolve_model("nothing")
    with pytest.raises(PathError, match="not a released model"):
        install_model(tmp_path)
