"""``tinysleepnet train``: what it refuses before training."""

from __future__ import annotations

import pytest

from tinysleepnet.cli import main
from tinysleepnet.config import Config

from ..conftest import write_prepared
from ..training.conftest import toy_night


def test_validation_subject_without_nights_is_one_line_naming_the_data(
    tmp_path, capsys: pytest.CaptureFixture[str]
):
    nights = [toy_night(f"{i:02d}", 30, Config(epoch_sec=3.0), seed=i) for i in range(3)]
    prepared = write_prepared(tmp_path / "prepared", nights)
    argv = ["train", str(prepared), "--out", str(tmp_path / "run"), "--valid-subjects", "01,07"]
    assert main(argv) != 0
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == f"tinysleepnet: error: {prepared}: no nights of validation subject(s) 07"
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_a_full_disk_is_one_line_naming_the_checkpoint_and_the_last_one_is_kept(
    tmp_path, capsys: pytest.CaptureFixture[str], monkeypatch
):
    import torch

    from tinysleepnet.nn.checkpoint import load_checkpoint

    nights = [toy_night(f"{i:02d}", 30, Config(epoch_sec=3.0), seed=i) for i in range(3)]
    prepared = write_prepared(tmp_path / "prepared", nights)
    save, calls = torch.save, []

    def full_disk_after_pass_1(obj, path, *args, **kwargs):
        calls.append(path)
        if len(calls) > 2:  # pass 1 wrote best.pt and last.pt
            raise RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos 64")
        return save(obj, path, *args, **kwargs)

    monkeypatch.setattr(torch, "save", full_disk_after_pass_1)
    out = tmp_path / "run"
    small = ["--n-filters", "4", "--lstm-units", "4", "--seq-len", "5", "--device", "cpu"]
    argv = ["train", str(prepared), "--out", str(out), "--valid-subjects", "02", "--epochs", "3"]
    assert main([*argv, *small, "--quiet"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()[-1:]
    assert line.startswith("tinysleepnet: error: ")
    assert line.endswith(
        "(RuntimeError: [enforce fail at inline_container.cc:603] . unexpected pos 64)"
    )
    assert f"{out}/" in line and ".pt: cannot be written (disk full?)" in line
    assert load_checkpoint(out / "last.pt")["progress"]["passes_done"] == 1  # pass 1's, whole


def test_the_train_command_calibrates_its_best_checkpoint(tmp_path, capsys):
    from tinysleepnet.nn.checkpoint import load_checkpoint

    nights = [toy_night(f"{i:02d}", 30, Config(epoch_sec=3.0), seed=i) for i in range(3)]
    prepared = write_prepared(tmp_path / "prepared", nights)
    out = tmp_path / "run"
    flags = ["--n-filters", "4", "--lstm-units", "4", "--epochs", "1", "--device", "cpu"]
    assert main(["train", str(prepared), "--out", str(out), "--quiet", *flags]) == 0
    assert load_checkpoint(out / "best.pt")["temperature"] > 0
    assert "best checkpoint:" in capsys.readouterr().out
