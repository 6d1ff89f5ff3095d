"""The paper preset is the authors' recipe, value by value (docs/method.md and their TF code)."""

from __future__ import annotations

import dataclasses

import pytest

from tinysleepnet.config import (
    DATA_FIELDS,
    PRESETS,
    RANGES,
    ROLES,
    STALL_REMEDY,
    Config,
    fields_with_role,
    preset,
)
from tinysleepnet.errors import PathError, TinySleepNetError

#: Every field of the paper preset, as the authors' code sets it (docs/method.md, "Network"
#: and "Training"); the data fields are Sleep-EDF's, and are replaced by the nights' in training.
AUTHORS = {
    "sfreq": 100.0,
    "epoch_sec": 30.0,
    "channel": "EEG Fpz-Cz",
    "highpass_hz": 0.5,  # Sleep-EDF's EEG: HP:0.5Hz in its EDF header
    "n_filters": 128,
    "lstm_units": 128,
    "dropout": 0.5,
    "batch_norm": "affine",  # their BN layers never leave inference mode
    "batch_norm_eps": 1e-3,  # TF's default: the scale is gamma / sqrt(1 + 0.001)
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
    "adam": "tf",  # tf.train.AdamOptimizer: epsilon hat
    "class_weights": (1.0, 1.5, 1.0, 1.0, 1.0),
    "l2_weight": 1e-3,
    "clip_norm": 5.0,
    "grad_centralize": False,  # the authors' gradients as backpropagated
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
    "threads": 0,  # the machine's choice: how fast, not what is computed
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


#: Every change of the fast preset from paper (benchmarks/README.md, "Time to accuracy" and
#: "Why `fast` collapses on the whole night"): what was measured is what it runs.
FAST = {
    "peepholes": False,  # the fused nn.LSTM
    "init": "pytorch",
    "adam": "torch",
    "batch_norm_eps": 0.0,
    "monitor": "mf1",
    "schedule": "onecycle",
    "lr": 5e-4,  # the one-cycle peak; at 1e-3 the LSTM saturated on one real night
    "grad_centralize": True,  # the conv channels stay alive on one real night
    "batch_nights": 2,
    "input_scale": 0.05,  # the stall remedy
    "segment_epochs": 360,
    "max_passes": 12,
    "patience": 12,
    "precision": "bfloat16",
}


def test_fast_preset_is_its_measured_recipe_field_by_field():
    assert PRESETS["fast"] == FAST
    fast = preset("fast")
    for name, value in {**AUTHORS, **FAST, "extra": {"preset": "fast"}}.items():
        assert getattr(fast, name) == value, name


def test_data_fields_are_config_fields():
    assert set(DATA_FIELDS) <= {f.name for f in dataclasses.fields(Config)}


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match="unknown preset 'slow'"):
        preset("slow")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_passes": 0}, "max_passes=0 is out of range: must be a whole number >= 1"),
        ({"max_passes": -1}, "max_passes=-1 is out of range"),
        ({"lr": -1.0}, "lr=-1.0 is out of range: must be a number >= 0"),
        ({"lr": float("nan")}, "lr=nan is out of range"),
        ({"n_filters": 0}, "n_filters=0 is out of range: must be a whole number >= 1"),
        ({"n_filters": 2.5}, "n_filters=2.5 is out of range: must be a whole number"),
        ({"lstm_units": 0}, "lstm_units=0 is out of range"),
        ({"seq_len": 0}, "seq_len=0 is out of range"),
        ({"dropout": 1.5}, "dropout=1.5 is out of range: must be a number >= 0 and < 1"),
        ({"valid_frac": 1.5}, "valid_frac=1.5 is out of range: must be a number > 0 and < 1"),
        ({"sfreq": 0.0}, "sfreq=0.0 is out of range: must be a number >= 2"),
        ({"epoch_sec": -30.0}, "epoch_sec=-30.0 is out of range"),
        ({"epoch_sec": 0.001}, "gives 0 samples per epoch"),
        ({"class_weights": (1.0, 1.0)}, r"class_weights=\(1.0, 1.0\) is out of range: must be 5"),
        ({"class_weights": (0.0,) * 5}, "not all 0"),
        ({"class_weights": (1.0, -1.0, 1.0, 1.0, 1.0)}, "class_weights="),
        ({"monitor": "loss"}, "monitor='loss' is not one of authors, mf1, acc"),
        ({"peepholes": "yes"}, "peepholes='yes' must be true or false"),
        ({"channel": " "}, "channel=' ' must be a non-empty text"),
        ({"seed": -1}, "seed=-1 is out of range"),
        ({"highpass_hz": 60.0}, "highpass_hz=60 is out of range: must be below half of sfreq=100"),
    ],
)
def test_settings_out_of_range_are_refused_in_one_line(changes, message):
    with pytest.raises(TinySleepNetError, match=message) as refused:
        Config(**changes)
    assert "\n" not in str(refused.value)
    with pytest.raises(TinySleepNetError, match=message):  # every way of making one
        Config().replace(**changes)


def test_every_numeric_setting_has_a_range():
    numeric = {f.name for f in dataclasses.fields(Config) if f.type in ("int", "float")}
    assert numeric == set(RANGES)


def test_a_saved_settings_file_out_of_range_is_refused_naming_it(tmp_path):
    path = tmp_path / "config.json"
    Config().save(path)
    path.write_text(path.read_text().replace('"lr": 0.0001', '"lr": -1'))
    with pytest.raises(PathError, match=f"^{path}: not usable settings: lr=-1 is out of range"):
        Config.load(path)
def test_settings_saved_before_the_tf_forms_keep_pytorch_s_forms():
    saved = Config().to_dict()
    del saved["adam"], saved["batch_norm_eps"]  # as versions before these fields wrote them
    old = Config.from_dict(saved)
    assert (old.adam, old.batch_norm_eps) == ("torch", 0.0)
    batch = Config.from_dict({**saved, "batch_norm": "batch"})
    assert batch.batch_norm_eps == 1e-3  # ordinary batch norm always had TF's epsilon
    assert Config.from_dict({"lr": 1e-3}).adam == "tf"  # a few settings: today's defaults
    assert Config.from_dict(Config().to_dict()) == Config()


def test_every_setting_declares_one_role_and_the_resume_rules_follow_from_it():
    roles = {f.name: f.metadata["role"] for f in dataclasses.fields(Config)}
    assert set(roles.values()) == set(ROLES)
    assert DATA_FIELDS == fields_with_role("data") == ("sfreq", "epoch_sec", "channel")
    assert set(fields_with_role("resumable")) == {"max_passes", "patience"}
    assert set(fields_with_role("call")) == {"threads", "on_stall"}
    assert set(fields_with_role("runtime")) == {"device", "extra"}
    assert roles["precision"] == roles["seed"] == roles["lr"] == "recipe"
    with pytest.raises(ValueError, match="unknown roles"):
        fields_with_role("machine")
