"""Tests of installed models: install, list, default, and staging without naming a model."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys

import pytest
import torch

from tinysleepnet.cli import main
from tinysleepnet.errors import PathError, TinySleepNetError
from tinysleepnet.io.atomic import partial_path
from tinysleepnet.models import store
from tinysleepnet.models.store import (
    install_model,
    installed_models,
    models_dir,
    resolve_model,
)
from tinysleepnet.nn.checkpoint import CHECKSUM_KEY, outputs_checksum
from tinysleepnet.prediction.stage import stage


def test_without_an_installed_model_predict_says_how_to_get_one(recording, tmp_path, capsys):
    assert main(["predict", str(recording), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "tinysleepnet release DATA --out MODEL_DIR" in err
    assert "tinysleepnet models install MODEL_DIR --default" in err
    assert "Traceback" not in err
    with pytest.raises(TinySleepNetError, match="none installed"):
        stage(recording)
    assert main(["models"]) == 0
    assert "no models installed" in capsys.readouterr().out


def test_installed_default_model_stages_without_being_named(released, recording, tmp_path, capsys):
    assert main(["models", "install", str(released)]) == 0  # the first becomes the default
    installed = models_dir() / "toy"
    assert sorted(p.name for p in installed.iterdir()) == ["MODEL.md", "model.json", "model.pt"]
    assert resolve_model(None) == installed / "model.pt"
    result = stage(recording)
    assert result.n_epochs == 40  # 120 s of 3-s epochs
    assert main(["predict", str(recording), "--out", str(tmp_path / "out")]) == 0
    events = json.loads((tmp_path / "out" / "night-PSG_events.json").read_text())
    model = events["GeneratedBy"][0]["Model"]
    assert model["name"] == "toy"
    card = json.loads((released / "model.json").read_text())
    assert model["weights_sha256"] == card["weights"]["sha256"]
    capsys.readouterr()
    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    assert "* toy" in listing and "not cross-validated" in listing


def test_install_default_switches_and_names_resolve(released, tmp_path):
    install_model(released)
    other = tmp_path / "other"
    other.mkdir()
    for file in ("model.pt", "MODEL.md"):
        (other / file).write_bytes((released / file).read_bytes())
    card = json.loads((released / "model.json").read_text()) | {"name": "other"}
    (other / "model.json").write_text(json.dumps(card))
    install_model(other)
    assert [m["default"] for m in installed_models()] == [False, True]  # other, toy
    install_model(other, default=True)
    assert [m["name"] for m in installed_models() if m["default"]] == ["other"]
    assert resolve_model("toy") == models_dir() / "toy" / "model.pt"
    assert resolve_model(released) == released / "model.pt"
    with pytest.raises(PathError, match="checkpoint not found"):
        resolve_model("nothing")
    with pytest.raises(PathError, match="not a released model"):
        install_model(tmp_path)


def _copy_with_card(released, folder, **card_changes):
    """A copy of the released model folder whose card has ``card_changes``."""
    shutil.copytree(released, folder, ignore=shutil.ignore_patterns("training"))
    card = json.loads((folder / "model.json").read_text()) | card_changes
    (folder / "model.json").write_text(json.dumps(card))
    return folder


def _tree(folder):
    return sorted((str(p), p.stat().st_mtime_ns) for p in folder.rglob("*"))


@pytest.mark.parametrize("name", ["../../victim", "/abs", "..", ".hidden", "a/b"])
def test_install_refuses_a_card_name_that_is_not_one_folder_name(
    released, tmp_path, model_home, capsys, name
):
    victim = tmp_path / "victim"  # where models_dir() / "../../victim" points
    (victim / "keep").mkdir(parents=True)
    (victim / "keep" / "data.txt").write_text("precious")
    name = name.replace("/abs", str(victim))
    bad = _copy_with_card(released, tmp_path / "bad", name=name)
    install_model(released)  # an installed model that must survive too
    before = _tree(tmp_path)
    assert main(["models", "install", str(bad)]) == 2
    error = capsys.readouterr().err.strip()
    assert error == (
        f"tinysleepnet: error: {bad / 'model.json'}: model name {name!r} cannot be a file "
        f"name: it {store.name_problem(name)} (use one name of letters, digits, '-', '_' and "
        "'.', not starting with a dot)"
    )
    assert _tree(tmp_path) == before  # nothing deleted, moved or written, in the store or out
    assert (victim / "keep" / "data.txt").read_text() == "precious"


def test_models_default_refuses_names_outside_the_store(released, tmp_path, capsys):
    install_model(released)
    (tmp_path / "model.pt").write_bytes((released / "model.pt").read_bytes())
    assert main(["models", "default", "../.."]) == 2  # home/models/../../model.pt exists
    assert "no installed model named '../..'" in capsys.readouterr().err
    with pytest.raises(PathError, match="checkpoint not found"):
        resolve_model("..")  # never models_dir() / ".."


def test_install_puts_the_new_model_in_place_before_deleting_the_old(
    released, tmp_path, monkeypatch, capsys
):
    install_model(released)
    newer = _copy_with_card(released, tmp_path / "newer", created="2030-01-01T00:00:00+00:00")

    def killed(path):
        raise KeyboardInterrupt  # the install stops as it deletes the model it replaced

    monkeypatch.setattr(store, "_remove", killed)
    with pytest.raises(KeyboardInterrupt):
        install_model(newer)
    # the new model is in place whole; the old one waits in a hidden folder
    (model,) = installed_models()
    assert model["created"] == "2030-01-01T00:00:00+00:00"
    assert resolve_model("toy") == models_dir() / "toy" / "model.pt"
    assert any(p.name.startswith(".toy.") for p in models_dir().iterdir())
    assert main(["models"]) == 0 and "* toy" in capsys.readouterr().out


def test_install_killed_while_copying_keeps_the_old_model(released, tmp_path, monkeypatch):
    install_model(released)
    before = (models_dir() / "toy" / "model.json").read_bytes()
    newer = _copy_with_card(released, tmp_path / "newer", created="2030-01-01T00:00:00+00:00")
    copies = []

    def copy_then_fail(src, dst):
        copies.append(dst)
        if len(copies) == 2:
            raise OSError(28, "No space left on device")
        return shutil.copyfile(src, dst)

    monkeypatch.setattr(store.shutil, "copyfile", copy_then_fail)
    with pytest.raises(OSError, match="No space left"):
        install_model(newer)
    assert (models_dir() / "toy" / "model.json").read_bytes() == before
    assert sorted(p.name for p in models_dir().iterdir()) == ["DEFAULT", "toy"]


def test_leftover_of_a_killed_install_is_skipped_then_removed(released, capsys):
    install_model(released)
    # what kill -9 during a copy leaves: a hidden folder of a process that is gone
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    leftover = partial_path(models_dir() / ".toy")
    leftover = leftover.with_name(
        leftover.name.replace(f"-{os.getpid()}-", f"-{gone.stdout.strip()}-")
    )
    leftover.mkdir()
    (leftover / "model.json").write_text('{"name": "to')  # cut short
    assert main(["models"]) == 0
    assert "* toy" in capsys.readouterr().out
    assert [m["name"] for m in installed_models()] == ["toy"]
    install_model(released)  # the next install of the name clears it
    assert not leftover.exists()


def test_installed_folder_gets_the_umask_permissions(released):
    previous = os.umask(0o022)
    try:
        target = install_model(released)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    for file in target.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o644


def _flip_temperature(model_file):
    """Flip the temperature's sign in model.pt with a fresh checksum inside the file,
    so that only the card's SHA-256 can tell."""
    payload = torch.load(model_file, weights_only=True)
    payload["temperature"] = -payload["temperature"]
    payload[CHECKSUM_KEY] = outputs_checksum(payload)
    torch.save(payload, model_file)


def test_released_model_that_does_not_match_its_card_is_refused(
    released, recording, tmp_path, capsys
):
    changed = _copy_with_card(released, tmp_path / "changed")
    _flip_temperature(changed / "model.pt")
    expected = f"{changed / 'model.pt'}: does not match the SHA-256 in model.json"
    for model in (changed, changed / "model.pt"):
        with pytest.raises(PathError, match=r"does not match the SHA-256 in model\.json"):
            resolve_model(model)
        argv = ["predict", str(recording), "--model", str(model), "--out", str(tmp_path / "o")]
        assert main(argv) == 2
        error = capsys.readouterr().err.strip()
        assert error.startswith(f"tinysleepnet: error: {expected}") and "\n" not in error
    assert main(["export", "--model", str(changed), str(tmp_path / "m.onnx")]) == 2
    assert capsys.readouterr().err.startswith(f"tinysleepnet: error: {expected}")
    with pytest.raises(PathError, match="does not match the SHA-256"):
        install_model(changed)
    assert not (tmp_path / "o").exists() and not models_dir().exists()
    assert not (tmp_path / "m.onnx").exists()
