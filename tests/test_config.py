"""The paper preset is the authors' recipe, value by value (RECIPE.md and their TF code)."""

from __future__ import annotations

import dataclasses

import pytest

from tinysleepnet.config import DATA_FIELDS, PRESETS, STALL_REMEDY, Config, preset

#: Every field of the paper preset, as the authors' code sets it (RECIPE.md, "Model" and
#: "Training"); the data fields are Sleep-EDF's, and are replaced by the nights' in training.
AUTHORS = {
    "sfreq": 100.0,
    "epoch_sec": 30.0,
    "channel": "EEG Fpz-Cz",
    "n_filters": 128,
    "lstm_units": 128,
    "dropout": 0.5,
    "batch_norm": "affine",  # their BN layers never leave inference mode
    "peepholes": True,  # LSTMCell(use_peepholes=True, forget_bias=1.0)
    "init": "authors",  # TF defaults
    "input_scale": 1.0,  # raw microvolts
    "batch_nights": 15,
    "seq_len": 20,
    "segment_epochs": 0,  # whole nights
    "lr": 1e-4,
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "adam_eps": 1e-8,
    "class_weights": (1.0, 1.5, 1.0, 1.0, 1.0),
    "l2_weight": 1e-3,
    "clip_norm": 5.0,
    "schedule": "constant",
    "max_skip_epochs": 4,  # B_seq = 5: drop 0..4 epochs
    "max_shift_frac": 0.1,  # B_sig = 10 % of an epoch
    "max_passes": 200,
    "patience": 50,
    "monitor": "authors",
    "on_stall": "rescale",  # not the recipe: what happens once it has stalled for 5 passes
    "valid_frac": 0.1,
    "seed": 42,
    "device": "auto",
    "precision": "float32",  # also on CUDA, as they trained
    "extra": {"preset": "paper"},
}


def test_paper_preset_is_the_authors_recipe_field_by_field():
    paper = preset("paper").to_dict()
    assert set(paper) == set(AUTHORS), "a Config field has no pinned paper value"
    for name, value in AUTHORS.items():
        assert paper[name] == value, name
    assert Config().replace(extra={"preset": "paper"}) == preset("paper")


def test_every_preset_deviation_is_named_and_the_fast_one_includes_the_stall_remedy():
    names = {f.name for f in dataclasses.fields(Config)}
    for changes in PRESETS.values():
        assert set(changes) <= names
    assert STALL_REMEDY.items() <= PRESETS["fast"].items()
    assert set(STALL_REMEDY) == {"input_scale", "segment_epochs"}


def test_data_fields_are_config_fields():
    assert set(DATA_FIELDS) <= {f.name for f in dataclasses.fields(Config)}


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match="unknown preset 'slow'"):
        preset("slow")
