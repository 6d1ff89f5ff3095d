"""Tests of fine-tuning a released model on another cohort."""

from __future__ import annotations

import json
import logging
import shutil

import pytest
import torch

from tinysleepnet.cli import main
from tinysleepnet.config import Config
from tinysleepnet.errors import PathError, TinySleepNetError
from tinysleepnet.evaluation import cv
from tinysleepnet.nn.checkpoint import file_checksum, load_model
from tinysleepnet.workflows.finetune import CNN_MODULES, FinetuneRun, finetune, finetune_config
from tinysleepnet.workflows.release import release

from ..models.conftest import TINY, write_cohort


@pytest.fixture(scope="module")
def own_nights(tmp_path_factory):
    """The user's own scored nights: three subjects recorded with a third of the gain."""
    return write_cohort(tmp_path_factory.mktemp("own"), subjects=3, gain=0.3, seed=7)


def interrupted(model, nights, out, monkeypatch) -> None:
    """Start a fine-tuning into ``out`` and stop it while it trains its first fold.

    Training stays stopped (``evaluation.cv.fit``, through which the folds train, raises
    KeyboardInterrupt) until ``monkeypatch`` is undone: a rerun that reaches training fails.
    """

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cv, "fit", killed)
    with pytest.raises(KeyboardInterrupt):
        finetune(model, nights, out, max_passes=1, progress=False)


def test_finetune_scores_parent_and_child_and_releases_the_child(released, own_nights, tmp_path):
    out = tmp_path / "tuned"
    argv = ["finetune", str(released), str(own_nights), "--out", str(out), "--quiet"]
    assert main([*argv, "--train", "head", "--epochs", "1"]) == 0
    card = json.loads((out / "model.json").read_text())
    parent_card = json.loads((released / "model.json").read_text())
    assert card["parent"]["name"] == "toy"
    assert card["parent"]["sha256"] == file_checksum(released / "model.pt")
    assert card["parent"]["data_sha256"] == parent_card["data"]["content_sha256"]
    tuning = card["fine_tuning"]
    assert tuning["n_folds"] == 3 and tuning["trainable"] == "head"
    assert tuning["lr"] == pytest.approx(parent_card["config"]["lr"] / 10)
    assert tuning["parent"]["n_epochs"] == tuning["fine_tuned"]["n_epochs"] == 3 * 40
    assert card["cross_validation"]["mf1"] == tuning["fine_tuned"]["mf1"]
    assert card["data"]["nights"] == {f"SC4{s:02d}1E0": 40 for s in range(3)}
    text = (out / "MODEL.md").read_text()
    assert "Fine-tuned from **toy**" in text and "| parent |" in text and "| fine-tuned |" in text
    assert "| parent |" in (out / "FINETUNE.md").read_text()
    # Only the LSTM and classifier moved.
    parent, child = load_model(released / "model.pt"), load_model(out / "model.pt")
    for name, weight in child.state_dict().items():
        same = torch.equal(weight, parent.state_dict()[name])
        assert same == name.startswith(CNN_MODULES), name


def test_finetune_refuses_unknown_parts(released, own_nights, tmp_path):
    with pytest.raises(TinySleepNetError, match="trainable must be one of"):
        finetune(released, own_nights, tmp_path, trainable="cnn")  # type: ignore[arg-type]


def test_finetune_rerun_with_another_parent_or_trainable_is_refused(
    released, cohort, own_nights, tmp_path, monkeypatch, capsys
):
    other = tmp_path / "other"
    release(cohort, other, TINY.replace(seed=1), progress=False)  # same settings, other weights
    out = tmp_path / "tuned"
    interrupted(released, own_nights, out, monkeypatch)
    monkeypatch.undo()
    before = sorted(out.rglob("*"))
    argv = ["finetune", str(other), str(own_nights), "--out", str(out), "--quiet"]
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(
        f"tinysleepnet: error: {out / 'start.json'}: holds a fine-tuning with parent 'toy' "
        f"(SHA-256 {file_checksum(released / 'model.pt')[:12]}...), not 'other' "
    )
    assert "\n" not in error
    with pytest.raises(PathError, match="holds a fine-tuning with trainable 'all', not 'head'"):
        finetune(released, own_nights, out, trainable="head", progress=False)
    assert sorted(out.rglob("*")) == before


def test_finetune_refuses_a_name_that_is_not_one_folder_name(released, own_nights, tmp_path):
    with pytest.raises(PathError, match=r"model name '\.\./x' cannot be a file name"):
        finetune(released, own_nights, tmp_path / "tuned", name="../x", progress=False)
    assert not (tmp_path / "tuned").exists()


def test_finetune_rerun_skips_its_finished_folds_and_refuses_other_folds(
    released, own_nights, tmp_path, monkeypatch
):
    out = tmp_path / "tuned"
    first = finetune(released, own_nights, out, max_passes=1, progress=False)
    assert all((out / "folds" / f"fold_{i:02d}" / "DONE").is_file() for i in range(3))

    def no_training(*args, **kwargs):
        raise AssertionError("a finished fold was trained again")

    monkeypatch.setattr(cv, "fit", no_training)
    moved = shutil.copytree(own_nights, tmp_path / "mounted")  # the nights count, not the path
    again = finetune(released, moved, out, max_passes=1, device="cpu", progress=False)
    assert again["fine_tuning"] == first["fine_tuning"]
    done = out / "folds" / "fold_00" / "DONE"  # as if another split had made fold 0
    done.write_text(json.dumps({**json.loads(done.read_text()), "test_subjects": ["02"]}))
    with pytest.raises(PathError, match="fold_00/DONE: holds a fold of other subjects"):
        finetune(released, own_nights, out, max_passes=1, progress=False)


def test_a_bare_checkpoint_beside_another_models_card_is_its_own_parent(
    released, own_nights, tmp_path, monkeypatch
):
    stray = tmp_path / "stray"
    stray.mkdir()
    shutil.copy(released / "model.pt", stray / "other.pt")
    shutil.copy(released / "model.json", stray / "model.json")  # the card of model.pt, not ours
    out = tmp_path / "tuned"
    interrupted(stray / "other.pt", own_nights, out, monkeypatch)  # start.json is written
    parent = json.loads((out / "start.json").read_text())["parent"]
    assert parent["name"] == "other"
    assert parent["sha256"] == file_checksum(stray / "other.pt")
    assert "data_sha256" not in parent and "n_nights" not in parent


#: A parent as the card's ``parent`` entry names it.
PARENT = {"name": "toy", "sha256": "ab" * 32}

#: Nights as ``start.json`` records them (data_identity, with the content SHA-256).
DATA = {
    "nights": {"SC4001E0": 40, "SC4011E0": 40},
    "channels": ["EEG Fpz-Cz"],
    "sfreq": [100.0],
    "content_sha256": "ef" * 32,
}


def test_finetune_run_names_its_files_and_writes_nothing(tmp_path):
    run = FinetuneRun(str(tmp_path / "tuned"))
    assert run.start_path == tmp_path / "tuned" / "start.json"
    assert run.folds.fold(2).folder == tmp_path / "tuned" / "folds" / "fold_02"
    assert run.comparison_path == tmp_path / "tuned" / "finetune.json"
    assert run.comparison_markdown_path == tmp_path / "tuned" / "FINETUNE.md"
    assert not run.folder.exists()


def test_finetune_run_resumes_the_same_start_and_refuses_other_settings(tmp_path):
    run = FinetuneRun(tmp_path)
    config = finetune_config(TINY)
    run.claim(PARENT, "all", config, DATA)
    record = json.loads(run.start_path.read_text())
    assert record == {
        "parent": PARENT,
        "trainable": "all",
        "config": record["config"],
        "data": DATA,
    }
    assert Config.from_dict(record["config"]) == config
    written = run.start_path.read_bytes()
    run.claim(PARENT, "all", config.replace(device="cuda", threads=2, on_stall="rescale"), DATA)
    assert run.start_path.read_bytes() == written  # call and runtime settings: resumed
    with pytest.raises(PathError) as info:
        run.claim(PARENT, "all", config.replace(lr=1e-2, max_passes=7), DATA)
    assert str(info.value) == (
        f"{run.start_path}: holds a fine-tuning with other settings: lr=0.01 (run has "
        f"{config.lr!r}), max_passes=7 (run has {config.max_passes!r}); rerun with the run's or "
        "use another output folder"
    )
    with pytest.raises(PathError, match=r"with parent 'toy' \(SHA-256 abababababab\.\.\.\)"):
        run.claim({"name": "other", "sha256": "cd" * 32}, "all", config, DATA)
    assert run.start_path.read_bytes() == written


def test_finetune_run_refuses_other_nights_naming_those_added_and_removed(tmp_path):
    run = FinetuneRun(tmp_path)
    config = finetune_config(TINY)
    run.claim(PARENT, "all", config, DATA)
    written = run.start_path.read_bytes()
    other = {**DATA, "nights": {"SC4011E0": 40, "SC4021E0": 40, "SC4022E0": 40}}
    with pytest.raises(PathError) as info:
        run.claim(PARENT, "all", config, {**other, "content_sha256": "01" * 32})
    assert str(info.value) == (
        f"{run.start_path}: holds a fine-tuning on other nights: nights added: SC4021E0, "
        "SC4022E0; nights removed: SC4001E0; rerun on the run's nights or use another output "
        "folder"
    )
    with pytest.raises(PathError, match=r"on other nights: epochs: SC4001E0 39 \(run has 40\)"):
        run.claim(PARENT, "all", config, {**DATA, "nights": {**DATA["nights"], "SC4001E0": 39}})
    with pytest.raises(PathError) as info:  # the same names and epochs, other files
        run.claim(PARENT, "all", config, {**DATA, "content_sha256": "01" * 32})
    assert str(info.value) == (
        f"{run.start_path}: holds a fine-tuning on other nights: the same nights with other "
        "signals or stages (content SHA-256 010101010101..., run has efefefefefef...); rerun "
        "on the run's nights or use another output folder"
    )
    assert run.start_path.read_bytes() == written


def test_a_start_recorded_without_settings_is_checked_on_parent_and_trainable(tmp_path):
    run = FinetuneRun(tmp_path)
    run.start_path.write_text(json.dumps({"parent": PARENT, "trainable": "all"}))
    run.claim(PARENT, "all", finetune_config(TINY).replace(lr=1e-2), DATA)  # none to compare
    with pytest.raises(PathError, match="holds a fine-tuning with trainable 'all', not 'head'"):
        run.claim(PARENT, "head", finetune_config(TINY), DATA)


def test_a_start_recorded_without_nights_resumes_and_says_they_are_unchecked(tmp_path, caplog):
    run = FinetuneRun(tmp_path)
    config = finetune_config(TINY)
    run.start_path.write_text(
        json.dumps({"parent": PARENT, "trainable": "all", "config": config.to_dict()})
    )
    written = run.start_path.read_bytes()
    with caplog.at_level(logging.WARNING, logger="tinysleepnet"):
        run.claim(PARENT, "all", config, DATA)
    assert f"{run.start_path} names no nights" in caplog.text
    assert run.start_path.read_bytes() == written  # the folds trained may be on other nights
    with pytest.raises(PathError, match=r"with other settings: lr=0\.01"):
        run.claim(PARENT, "all", config.replace(lr=1e-2), DATA)


def test_finetune_rerun_with_other_settings_is_refused_before_training(
    released, own_nights, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "tuned"
    interrupted(released, own_nights, out, monkeypatch)
    before = sorted(out.rglob("*"))
    argv = ["finetune", str(released), str(own_nights), "--out", str(out), "--quiet"]
    assert main([*argv, "--epochs", "1", "--lr", "0.01"]) == 2  # killed again if it trained
    error = capsys.readouterr().err.strip()
    assert error == (  # the released parent's settings are TINY's
        f"tinysleepnet: error: {out / 'start.json'}: holds a fine-tuning with other settings: "
        f"lr=0.01 (run has {finetune_config(TINY).lr!r}); rerun with the run's or use another "
        "output folder"
    )
    assert sorted(out.rglob("*")) == before


def test_finetune_rerun_on_other_nights_is_refused_before_training(
    released, own_nights, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "tuned"
    interrupted(released, own_nights, out, monkeypatch)
    before = sorted(out.rglob("*"))
    start = (out / "start.json").read_bytes()
    # A fourth subject added: the first three nights as before (the same seed draws them).
    more = write_cohort(tmp_path / "more", subjects=4, gain=0.3, seed=7)
    argv = ["finetune", str(released), str(more), "--out", str(out), "--quiet", "--epochs", "1"]
    assert main(argv) == 2  # killed again if it trained
    error = capsys.readouterr().err.strip()
    assert error == (
        f"tinysleepnet: error: {out / 'start.json'}: holds a fine-tuning on other nights: "
        "nights added: SC4031E0; rerun on the run's nights or use another output folder"
    )
    # The same subjects and nights, other recordings (another draw of the signals).
    redrawn = write_cohort(tmp_path / "redrawn", subjects=3, gain=0.3, seed=8)
    with pytest.raises(PathError, match="the same nights with other signals or stages"):
        finetune(released, redrawn, out, max_passes=1, progress=False)
    assert sorted(out.rglob("*")) == before
    assert (out / "start.json").read_bytes() == start
