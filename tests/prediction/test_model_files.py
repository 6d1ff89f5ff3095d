"""Checkpoints that cannot stage are refused in one line naming them, before any output."""

from __future__ import annotations

import pytest
import torch

from tinysleepnet.cli import main
from tinysleepnet.config import Config
from tinysleepnet.errors import PathError
from tinysleepnet.nn.checkpoint import CHECKSUM_KEY, outputs_checksum, save_checkpoint
from tinysleepnet.prediction.backends import as_model


def test_a_checkpoint_of_another_shape_is_refused_naming_it(model, tmp_path):
    path = tmp_path / "wider.pt"
    save_checkpoint(path, model, model.config.replace(n_filters=16))  # settings != weights
    with pytest.raises(PathError, match=rf"^{path}: not a checkpoint of this network "
                       r"\(weights differ\) \(RuntimeError: "):  # fmt: skip
        as_model(path)


def test_a_checkpoint_with_settings_out_of_range_is_refused_naming_it(model, tmp_path):
    path = tmp_path / "sfreq0.pt"
    weights = model.state_dict()
    config = {**model.config.to_dict(), "sfreq": 0.0}
    payload = {"model": weights, "config": config}
    torch.save({**payload, CHECKSUM_KEY: outputs_checksum(payload)}, path)  # an intact file
    with pytest.raises(PathError, match=rf"^{path}: not a usable checkpoint: sfreq=0.0 is out "
                       "of range"):  # fmt: skip
        as_model(path)


def test_predict_refuses_them_in_one_line(model, recording, tmp_path, capsys):
    path = tmp_path / "wider.pt"
    save_checkpoint(path, model, Config(n_filters=16, lstm_units=16))
    out = tmp_path / "out"
    assert main(["predict", str(recording), "--model", str(path), "--out", str(out)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"tinysleepnet: error: {path}: not a checkpoint of this network")
    assert not out.exists() or not any(out.iterdir())
