"""Tests of ModelFolder: a released model's file names, its card round trip and its check."""

from __future__ import annotations

import json

import pytest

from tinysleepnet.errors import PathError
from tinysleepnet.models.card import card_markdown
from tinysleepnet.models.folder import ModelFolder


def test_the_folder_names_its_files_and_writes_nothing(tmp_path):
    model = ModelFolder(str(tmp_path / "m"))
    assert model.folder == tmp_path / "m"
    assert model.model_path == tmp_path / "m" / "model.pt"
    assert model.card_path == tmp_path / "m" / "model.json"
    assert model.card_markdown_path == tmp_path / "m" / "MODEL.md"
    assert model.training_dir == tmp_path / "m" / "training"
    assert ModelFolder.INSTALLED == ("model.pt", "model.json", "MODEL.md")
    assert not model.has_card and not model.folder.exists()


def test_written_model_and_card_read_back_verified_and_as_release_wrote_them(released, tmp_path):
    source = ModelFolder(released)
    copy = ModelFolder(tmp_path / "copy")
    copy.folder.mkdir()
    copy.write_model(source.model_path)
    copy.write_card(source.read_card())
    assert copy.verified_card() == source.verified_card()
    assert copy.card_markdown_path.read_text() == card_markdown(source.read_card())
    for name in ModelFolder.INSTALLED:  # byte for byte what the release wrote
        assert (copy.folder / name).read_bytes() == (released / name).read_bytes(), name
    assert sorted(p.name for p in copy.folder.iterdir()) == sorted(ModelFolder.INSTALLED)


def test_a_folder_missing_its_card_or_weights_is_not_a_model(released, tmp_path):
    model = ModelFolder(tmp_path / "m")
    model.folder.mkdir()
    model.write_model(released / "model.pt")  # a release killed before its card
    for read in (model.read_card, model.verified_card):
        with pytest.raises(PathError) as info:
            read()
        assert str(info.value) == f"{model.folder}: not a released model (no model.json)"
    model.write_card(ModelFolder(released).read_card())
    model.model_path.unlink()
    with pytest.raises(PathError) as info:
        model.verified_card()
    assert str(info.value) == f"{model.folder}: not a released model (no model.pt)"


def test_weights_other_than_the_cards_are_refused_naming_the_file(released, tmp_path):
    model = ModelFolder(tmp_path / "m")
    model.folder.mkdir()
    model.write_model(released / "training" / "last.pt")  # a checkpoint, not the card's
    model.write_card(ModelFolder(released).read_card())
    assert model.read_card()["name"] == "toy"  # the card alone reads, unchecked
    with pytest.raises(PathError) as info:
        model.verified_card()
    assert str(info.value).startswith(
        f"{model.model_path}: does not match the SHA-256 in model.json (damaged or replaced"
    )
    assert "\n" not in str(info.value)


def test_a_damaged_card_or_a_name_that_is_not_a_file_name_is_refused(released, tmp_path):
    model = ModelFolder(tmp_path / "m")
    model.folder.mkdir()
    model.write_model(released / "model.pt")
    model.card_path.write_text('{"name": "to')  # cut short
    with pytest.raises(PathError, match="not a readable model card"):
        model.verified_card()
    card = ModelFolder(released).read_card()
    model.card_path.write_text(json.dumps(card | {"name": "../x"}))
    with pytest.raises(PathError) as info:
        model.verified_card()
    assert str(info.value).startswith(f"{model.card_path}: model name '../x' cannot be a file")


def test_holding_finds_the_folder_of_a_released_models_weights_only(released, tmp_path):
    assert ModelFolder.holding(released / "model.pt") == ModelFolder(released)
    assert ModelFolder.holding(str(released / "model.pt")) == ModelFolder(released)
    assert ModelFolder.holding(released / "training" / "best.pt") is None  # a checkpoint
    bare = tmp_path / "model.pt"  # the same weights without their card
    bare.write_bytes((released / "model.pt").read_bytes())
    assert ModelFolder.holding(bare) is None
