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
