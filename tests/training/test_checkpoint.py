"""Checkpoints: weights, config and training state in one self-describing file."""

from __future__ import annotations

import pytest
import torch

from tinysleepnet.config import Config
from tinysleepnet.errors import RecordingError
from tinysleepnet.model import TinySleepNet
from tinysleepnet.training.checkpoint import load_checkpoint, load_model, save_checkpoint


def test_round_trip_gives_the_same_network(tmp_path, tiny_config):
    torch.manual_seed(1)
    config = tiny_config.replace(batch_norm="batch", peepholes=True)
    model = TinySleepNet(config)
    with torch.no_grad():  # make the running statistics differ from their initial values
        model.convs[0].norm.running_mean.uniform_()
    save_checkpoint(tmp_path / "net.pt", model, config, pass_number=3, scores={"acc": 0.5})

    loaded = load_model(tmp_path / "net.pt")
    assert not loaded.training
    assert loaded.config == config
    x = torch.randn(2, 4, config.epoch_samples)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x)[0], model.eval()(x)[0], rtol=0, atol=0)
    payload = load_checkpoint(tmp_path / "net.pt")
    assert payload["pass_number"] == 3 and payload["scores"] == {"acc": 0.5}
    assert Config.from_dict(payload["config"]) == config


def test_missing_or_foreign_files_are_clear_errors(tmp_path):
    with pytest.raises(RecordingError, match=r"nothing\.pt: checkpoint not found"):
        load_checkpoint(tmp_path / "nothing.pt")
    (tmp_path / "text.pt").write_text("not a checkpoint")
    with pytest.raises(RecordingError, match=r"text\.pt: not a readable checkpoint"):
        load_model(tmp_path / "text.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(RecordingError, match="not a tinysleepnet checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


class Unsavable:
    def __reduce__(self):
        raise ValueError("cannot be saved")


def test_failed_save_leaves_the_previous_file(tmp_path, tiny_config):
    model = TinySleepNet(tiny_config)
    save_checkpoint(tmp_path / "net.pt", model, tiny_config, marker=1)
    with pytest.raises(ValueError, match="cannot be saved"):
        save_checkpoint(tmp_path / "net.pt", model, tiny_config, marker=Unsavable())
    assert load_checkpoint(tmp_path / "net.pt")["marker"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["net.pt"]


@pytest.mark.parametrize(("amp", "precision"), [(True, "auto"), (False, "float32")])
def test_checkpoint_of_an_earlier_version_with_amp_loads(tmp_path, tiny_config, amp, precision):
    model = TinySleepNet(tiny_config)
    save_checkpoint(tmp_path / "net.pt", model, tiny_config)
    payload = torch.load(tmp_path / "net.pt", weights_only=False)
    legacy = {k: v for k, v in payload["config"].items() if k != "precision"}
    torch.save({**payload, "config": {**legacy, "amp": amp}}, tmp_path / "net.pt")
    assert load_model(tmp_path / "net.pt").config == tiny_config.replace(precision=precision)
