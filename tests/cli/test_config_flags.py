"""Every Config field is a command-line flag with the right type and choices."""

from __future__ import annotations

import argparse

import pytest

from tinysleepnet.cli._config import add_config_arguments, config_from_args, config_if_given
from tinysleepnet.config import Config, preset


@pytest.fixture
def parser():
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    return parser


def test_flags_are_typed(parser):
    args = parser.parse_args(
        ["--epochs", "7", "--lr", "3e-4", "--class-weights", "1,2,1,1,1",
         "--no-peepholes", "--precision", "float32", "--seq-len", "15"]
    )  # fmt: skip
    config = config_from_args(args)
    assert config == Config(
        max_passes=7, lr=3e-4, class_weights=(1.0, 2.0, 1.0, 1.0, 1.0), peepholes=False,
        precision="float32", seq_len=15, extra={"preset": "paper"},
    )  # fmt: skip


@pytest.mark.parametrize(
    "flags", [["--precision", "fp16"], ["--batch-norm", "layer"], ["--peepholes", "maybe"]]
)
def test_bad_values_are_refused(parser, flags):
    with pytest.raises(SystemExit):
        parser.parse_args(flags)


def test_boolean_settings_are_switches(parser):
    assert config_from_args(parser.parse_args(["--peepholes"])).peepholes is True
    assert config_from_args(parser.parse_args(["--no-peepholes"])).peepholes is False
    assert config_if_given(parser.parse_args([])) is None  # neither: the preset's


def test_presets_and_no_settings(parser):
    assert config_if_given(parser.parse_args([])) is None
    fast = config_from_args(parser.parse_args(["--preset", "fast", "--epochs", "3"]))
    assert fast == preset("fast", max_passes=3)


def test_threads_flag_alone_keeps_a_runs_settings_and_sets_torch(parser, monkeypatch):
    import torch

    from tinysleepnet.cli import _config, build_parser
    from tinysleepnet.nn import device

    args = parser.parse_args(["--threads", "1"])
    assert config_if_given(args) is None  # a rerun keeps the run's own settings
    assert config_from_args(parser.parse_args(["--threads", "1", "--lr", "1e-3"])).threads == 1
    before = torch.get_num_threads()
    try:
        assert _config.use_threads(1) == 1 == torch.get_num_threads()
        monkeypatch.setattr(device, "default_threads", lambda: 2)
        assert _config.use_threads(None) == 2 == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    for command in (["train", "d", "--out", "o"], ["cv", "d", "--out", "o"], ["demo"]):
        assert build_parser().parse_args([*command, "--threads", "3"]).config_threads == 3
    predict = build_parser().parse_args(["predict", "n.edf", "--out", "o", "--threads", "3"])
    assert predict.threads == 3
