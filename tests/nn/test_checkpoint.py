"""Checkpoints: weights, config and training state in one self-describing file."""

from __future__ import annotations

import math
import os
import stat

import numpy as np
import pytest
import torch

from tinysleepnet.config import Config
from tinysleepnet.errors import PathError
from tinysleepnet.nn.checkpoint import (
    CHECKSUM_KEY,
    WEIGHTS_CHECKSUM_KEY,
    checkpoint_config,
    load_checkpoint,
    load_model,
    load_weights,
    outputs_checksum,
    save_checkpoint,
    weights_checksum,
)
from tinysleepnet.nn.model import TinySleepNet


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
    payload = torch.load(tmp_path / "net.pt", weights_only=True)
    # an unknown setting (e.g. the boolean "amp" of early versions) is ignored
    payload = {**payload, "config": {**payload["config"], "amp": True}}
    torch.save({**payload, CHECKSUM_KEY: outputs_checksum(payload)}, tmp_path / "net.pt")
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
    payload = torch.load(tmp_path / "net.pt", weights_only=True)
    name = next(iter(payload["model"]))
    payload["model"][name] = payload["model"][name] + 1e-3
    torch.save(payload, tmp_path / "net.pt")
    with pytest.raises(PathError, match="damaged checkpoint: its weights, settings"):
        load_checkpoint(tmp_path / "net.pt")


@pytest.mark.parametrize(
    "change",
    [
        {"temperature": -1.7},  # the temperature's sign flipped
        {"reference_amplitude_uv": 1300.0},
        {"config": {"sfreq": 200.0}},
    ],
    ids=["temperature-sign", "reference-amplitude", "settings"],
)
def test_changed_temperature_amplitude_or_settings_fail_the_checksum(tmp_path, tiny_config, change):
    model = TinySleepNet(tiny_config)
    save_checkpoint(
        tmp_path / "net.pt", model, tiny_config, temperature=1.7, reference_amplitude_uv=13.0
    )
    payload = torch.load(tmp_path / "net.pt", weights_only=True)
    if "config" in change:
        change = {"config": {**payload["config"], **change["config"]}}
    torch.save({**payload, **change}, tmp_path / "net.pt")
    with pytest.raises(PathError, match="damaged checkpoint") as info:
        load_model(tmp_path / "net.pt")
    assert str(info.value).startswith(f"{tmp_path / 'net.pt'}: ") and "\n" not in str(info.value)


@pytest.mark.parametrize("temperature", [math.nan, -1.0, 0.0, math.inf, "warm"])
def test_temperature_that_is_not_a_positive_number_is_refused(tmp_path, tiny_config, temperature):
    # written with a fresh checksum: the file is intact, its temperature is not usable
    save_checkpoint(
        tmp_path / "net.pt", TinySleepNet(tiny_config), tiny_config, temperature=temperature
    )
    with pytest.raises(
        PathError, match=r"calibration temperature .* (must be a positive finite|is not a) "
    ):
        load_model(tmp_path / "net.pt")


@pytest.mark.parametrize("reference", [-20.0, 0.0, math.inf])
def test_reference_amplitude_that_is_not_positive_is_refused(tmp_path, tiny_config, reference):
    save_checkpoint(
        tmp_path / "net.pt",
        TinySleepNet(tiny_config),
        tiny_config,
        reference_amplitude_uv=reference,
    )
    with pytest.raises(PathError, match=r"reference amplitude .* must be a positive finite number"):
        load_model(tmp_path / "net.pt")


def test_a_checkpoint_holding_code_is_refused_and_never_runs_it(
    tmp_path, tiny_config, hostile_copy
):
    save_checkpoint(tmp_path / "good.pt", TinySleepNet(tiny_config), tiny_config)
    path = hostile_copy(tmp_path / "good.pt", tmp_path / "net.pt", tmp_path / "ran")
    for load in (load_checkpoint, load_model):
        with pytest.raises(PathError) as info:
            load(path)
        message = str(info.value)
        assert message.startswith(f"{path}: refused: it holds the Python object ")
        assert "\n" not in message and "weights_only=False" not in message
    assert not (tmp_path / "ran").exists()


def test_checkpoint_of_the_earlier_checksum_loads_and_is_still_verified(tmp_path, tiny_config):
    # files written before the checksum covered the settings held the weights' one only
    model = TinySleepNet(tiny_config)
    weights = model.state_dict()
    old = {
        "model": weights,
        "config": tiny_config.to_dict(),
        "temperature": 1.3,
        "reference_amplitude_uv": 12.0,
        WEIGHTS_CHECKSUM_KEY: weights_checksum(weights),
    }
    torch.save(old, tmp_path / "old.pt")
    loaded = load_model(tmp_path / "old.pt")
    assert float(loaded.temperature) == pytest.approx(1.3)
    x = torch.randn(1, 3, tiny_config.epoch_samples)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x)[0], model.eval()(x)[0], rtol=0, atol=0)
    name = next(iter(weights))
    torch.save({**old, "model": {**weights, name: weights[name] + 1.0}}, tmp_path / "old.pt")
    with pytest.raises(PathError, match="damaged checkpoint"):
        load_model(tmp_path / "old.pt")


def test_rewritten_checkpoint_gets_a_fresh_checksum(tmp_path, tiny_config):
    # as calibration rewrites best.pt: the old payload's fields passed back as state
    model = TinySleepNet(tiny_config)
    save_checkpoint(tmp_path / "net.pt", model, tiny_config)
    payload = load_checkpoint(tmp_path / "net.pt")
    state = {k: v for k, v in payload.items() if k not in ("model", "config")}
    with torch.no_grad():
        next(model.parameters()).add_(1.0)
    save_checkpoint(tmp_path / "net.pt", model, tiny_config, **state)
    rewritten = load_checkpoint(tmp_path / "net.pt")
    assert rewritten[CHECKSUM_KEY] == outputs_checksum(rewritten)
    assert torch.equal(
        next(iter(rewritten["model"].values())), next(iter(model.state_dict().values()))
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


def intact_copy(checkpoint, path, **entries):
    """A copy of ``checkpoint`` at ``path`` with ``entries`` replaced, its checksum redone:
    a file that is not damaged, but cannot be used as the model its settings describe."""
    payload = {**torch.load(checkpoint, weights_only=True), **entries}
    payload[CHECKSUM_KEY] = outputs_checksum(payload)
    torch.save(payload, path)
    return path


def test_weights_of_another_shape_are_refused_naming_the_file(tmp_path, tiny_config):
    save_checkpoint(tmp_path / "net.pt", TinySleepNet(tiny_config), tiny_config)
    wider = TinySleepNet(tiny_config.replace(n_filters=16)).state_dict()
    path = intact_copy(tmp_path / "net.pt", tmp_path / "wider.pt", model=wider)
    with pytest.raises(PathError, match=rf"^{path}: not a checkpoint of this network "
                       r"\(weights differ\) \(RuntimeError: [^\n]*\)$"):  # fmt: skip
        load_model(path)
    with pytest.raises(PathError, match=rf"^{path}: not a checkpoint of this network"):
        load_weights(path, TinySleepNet(tiny_config), load_checkpoint(path))


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"sfreq": 0.0}, "not a usable checkpoint: sfreq=0.0 is out of range"),
        ({"n_filters": -8}, "not a usable checkpoint: n_filters=-8 is out of range"),
        ({"class_weights": 3}, r"not a usable checkpoint \(TypeError: "),
    ],
)
def test_settings_out_of_range_are_refused_naming_the_file(tmp_path, tiny_config, setting, message):
    save_checkpoint(tmp_path / "net.pt", TinySleepNet(tiny_config), tiny_config)
    path = tmp_path / "bad.pt"
    intact_copy(tmp_path / "net.pt", path, config={**tiny_config.to_dict(), **setting})
    with pytest.raises(PathError, match=rf"^{path}: {message}"):
        load_model(path)
    with pytest.raises(PathError, match=rf"^{path}: {message}"):
        checkpoint_config(path, load_checkpoint(path))
