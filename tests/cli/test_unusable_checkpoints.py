"""A checkpoint that is intact but cannot be used (weights of another shape, settings out
of range) is refused in one line naming it, exit status 2, by every command reading one."""

from __future__ import annotations

import pytest

from tinysleepnet.cli import main
from tinysleepnet.config import Config
from tinysleepnet.nn.checkpoint import save_checkpoint
from tinysleepnet.nn.model import TinySleepNet

from ..conftest import write_prepared
from ..nn.test_checkpoint import intact_copy
from ..training.conftest import toy_night

SMALL = Config(epoch_sec=3.0, n_filters=4, lstm_units=4, seq_len=5, device="cpu")
SMALL_FLAGS = ["--n-filters", "4", "--lstm-units", "4", "--seq-len", "5", "--device", "cpu"]


@pytest.fixture(params=["wider", "sfreq0"])
def unusable(request, tmp_path):
    """``(path, message)``: an intact checkpoint whose weights are of another network's
    shape, or whose sampling rate is 0."""
    good = tmp_path / "good.pt"
    save_checkpoint(good, TinySleepNet(SMALL), SMALL)
    path = tmp_path / f"{request.param}.pt"
    if request.param == "wider":
        intact_copy(good, path, model=TinySleepNet(SMALL.replace(n_filters=8)).state_dict())
        return path, "not a checkpoint of this network (weights differ) (RuntimeError: "
    intact_copy(good, path, config={**SMALL.to_dict(), "sfreq": 0.0})
    return path, "not a usable checkpoint: sfreq=0.0 is out of range"


def one_error_line(capsys) -> str:
    (line,) = capsys.readouterr().err.strip().splitlines()
    return line


def test_export_refuses_it_in_one_line(unusable, tmp_path, capsys):
    path, message = unusable
    out = tmp_path / "model.onnx"
    assert main(["export", "--model", str(path), str(out)]) == 2
    assert one_error_line(capsys).startswith(f"tinysleepnet: error: {path}: {message}")
    assert not out.exists()


def test_finetune_refuses_such_a_parent_in_one_line(unusable, tmp_path, capsys):
    path, message = unusable
    nights = [toy_night(f"{i:02d}", 30, SMALL, seed=i) for i in range(3)]
    prepared = write_prepared(tmp_path / "prepared", nights)
    out = tmp_path / "tuned"
    assert main(["finetune", str(path), str(prepared), "--out", str(out), "--quiet"]) == 2
    assert one_error_line(capsys).startswith(f"tinysleepnet: error: {path}: {message}")
    assert not (out / "model.pt").exists()


def test_train_refuses_to_resume_from_such_a_last_pt_in_one_line(tmp_path, capsys):
    nights = [toy_night(f"{i:02d}", 30, SMALL, seed=i) for i in range(3)]
    prepared = write_prepared(tmp_path / "prepared", nights)
    out = tmp_path / "run"
    argv = ["train", str(prepared), "--out", str(out), "--valid-subjects", "02", *SMALL_FLAGS]
    assert main([*argv, "--epochs", "1", "--quiet"]) == 0
    capsys.readouterr()
    last = out / "last.pt"
    wider = TinySleepNet(SMALL.replace(n_filters=8)).state_dict()
    intact_copy(last, last, model=wider)
    assert main([*argv, "--epochs", "2", "--quiet"]) == 2
    assert one_error_line(capsys).startswith(
        f"tinysleepnet: error: {last}: not a checkpoint of this network (weights differ)"
    )
