"""Checkpoints: weights, config and training state in one self-describing file."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
import torch

from tinysleepnet.config import Config
from tinysleepnet.core.checkpoint import (
    CHECKSUM_KEY,
    load_checkpoint,
    load_model,
    save_checkpoint,
    weights_checksum,
)
from tinysleepnet.errors import PathError
from tinysleepnet.model import TinySleepNet


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
    with pytest.raises(PathError, match=r"nothing\.pt: checkpoint not found"):
        load_checkpoint(tmp_path / "nothing.pt")
    (tmp_path / "text.pt").write_text("not a checkpoint")
    with pytest.raises(PathError, match=r"text\.pt: not a readable checkpoint"):
        load_model(tmp_path / "text.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(PathError, match="not a tinysleepnet checkpoint"):
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


def test_checkpoint_with_settings_of_another_version_loads(tmp_path, tiny_config):
    model = TinySleepNet(tiny_config)
    save_checkpoint(tmp_path / "net.pt", model, tiny_config)
    payload = torch.load(tmp_path / "net.pt", weights_only=False)
    # an unknown setting (e.g. the boolean "amp" of early versions) is ignored
    torch.save({**payload, "config": {**payload["config"], "amp": True}}, tmp_path / "net.pt")
    assert load_model(tmp_path / "net.pt").config == tiny_config


def _flip_bytes(path, n_bytes, seed=0):
    """Invert ``n_bytes`` bytes of the middle half of a file, as a failing disk might."""
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(seed)
    for i in rng.choice(len(data) // 2, n_bytes, replace=False) + len(data) // 4:
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_damaged_checkpoint_is_refused_in_one_line(tmp_path, tiny_config):
    save_checkpoint(tmp_path / "net.pt", TinySleepNet(tiny_config), tiny_config)
    _flip_bytes(tmp_path / "net.pt", 2000)
    with pytest.raises(PathError) as info:
        load_model(tmp_path / "net.pt")
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'net.pt'}: ") and "\n" not in message
    assert "damaged checkpoint" in message or "not a readable checkpoint" in message


def test_changed_weights_fail_the_checksum(tmp_path, tiny_config):
    save_checkpoint(tmp_path / "net.pt", TinySleepNet(tiny_config), tiny_config)
    payload = torch.load(tmp_path / "net.pt", weights_only=False)
    name = next(iter(payload["model"]))
    payload["model"][name] = payload["model"][name] + 1e-3
    torch.save(payload, tmp_path / "net.pt")
    with pytest.raises(PathError, match="damaged checkpoint: its weights do not match"):
        load_checkpoint(tmp_path / "net.pt")


def test_rewritten_checkpoint_gets_a_fresh_checksum(tmp_path, tiny_config):
    # as calibration rewrites best.pt: the old payload's fields passed back as state
    model = TinySleepNet(tiny_config)
    save_checkpoint(tmp_path / "net.pt", model, tiny_config)
    payload = load_checkpoint(tmp_path / "net.pt")
    state = {k: v for k, v in payload.items() if k not in ("model", "config")}
    with torch.no_grad():
        next(model.parameters()).add_(1.0)
    save_checkpoint(tmp_path / "net.pt", model, tiny_config, **state)
    assert load_checkpoint(tmp_path / "net.pt")[CHECKSUM_KEY] == weights_checksum(
        model.state_dict()
    )


def test_checkpoint_without_checksum_or_reference_amplitude_loads(tmp_path, tiny_config):
    model = TinySleepNet(tiny_config)
    torch.save({"model": model.state_dict(), "config": tiny_config.to_dict()}, tmp_path / "old.pt")
    assert torch.isnan(load_model(tmp_path / "old.pt").reference_amplitude_uv)
    save_checkpoint(tmp_path / "new.pt", model, tiny_config, reference_amplitude_uv=13.5)
    assert float(load_model(tmp_path / "new.pt").reference_amplitude_uv) == 13.5


def test_checkpoint_gets_the_umask_permissions(tmp_path, tiny_config):
    previous = os.umask(0o022)
    try:
        save_checkpoint(tmp_path / "net.pt", TinySleepNet(tiny_config), tiny_config)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "net.pt").stat().st_mode) == 0o644
