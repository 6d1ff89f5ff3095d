"""MASS on the command line: prepare --dataset, channel specs, predict in 20-s epochs."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from tinysleepnet.cli import main
from tinysleepnet.config import Config
from tinysleepnet.data.simulate.mass import simulate_mass_cohort
from tinysleepnet.nn.checkpoint import save_checkpoint
from tinysleepnet.nn.model import TinySleepNet

F4_EOG = "EEG F4-CLE|EEG F4-LER minus EOG Left Horiz"


@pytest.fixture(scope="module")
def ss5(tmp_path_factory):
    """Two MASS-SS5 nights (20-s epochs): subject 1 has "EEG F4-CLE", subject 2 "EEG F4-LER"."""
    folder = tmp_path_factory.mktemp("ss5")
    simulate_mass_cohort(folder, 5, [1, 2], n_epochs=45)
    return folder


@pytest.fixture(scope="module")
def model_20s(tmp_path_factory):
    """A narrow random-weight network of 20-s epochs at 256 Hz on the derived F4 channel."""
    torch.manual_seed(0)
    config = Config(sfreq=256.0, epoch_sec=20.0, channel=F4_EOG, n_filters=8, lstm_units=16)
    path = tmp_path_factory.mktemp("model") / "ss5.pt"
    model = TinySleepNet(config).eval()
    save_checkpoint(path, model, config)
    return path


def test_prepare_mass_dataset_defaults(ss5, tmp_path, capsys):
    assert main(["prepare", str(ss5), str(tmp_path / "out"), "--dataset", "mass-ss5"]) == 0
    manifest = pd.read_csv(tmp_path / "out" / "manifest.csv", dtype={"subject": str})
    assert list(manifest["subject"]) == ["0001", "0002"]
    assert set(manifest["channel"]) == {F4_EOG} and set(manifest["sfreq"]) == {256.0}
    err = capsys.readouterr().err
    assert "01-05-0001 PSG.edf: channel 'EEG F4-CLE' used for" in err
    assert "01-05-0002 PSG.edf: channel 'EEG F4-LER' used for" in err


def test_prepare_flags_override_the_dataset(ss5, tmp_path, capsys):
    # one explicit name: the subject whose EEG is named otherwise is reported
    args = ["prepare", str(ss5), str(tmp_path / "one"), "--dataset", "mass-ss5"]
    args += ["--channel", "EEG F4-CLE", "--reference", "EOG Left Horiz"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "01-05-0002 PSG.edf: channel 'EEG F4-CLE' not found; EEG channels present: " in err
    # SS5 is scored in 20-s epochs: 30-s epochs are refused, naming the Base file
    args = ["prepare", str(ss5), str(tmp_path / "thirty"), "--dataset", "mass-ss5"]
    assert main([*args, "--epoch-sec", "30"]) == 2
    assert "Base.edf: stage annotation" in capsys.readouterr().err


def test_predict_with_the_models_derived_channel_in_20_s_epochs(ss5, model_20s, tmp_path):
    psgs = sorted(str(p) for p in ss5.glob("* PSG.edf"))
    assert main(["predict", *psgs, "--model", str(model_20s), "--out", str(tmp_path)]) == 0
    for psg in psgs:
        name = psg.rsplit("/", 1)[1].removesuffix(".edf")
        frame = pd.read_csv(tmp_path / f"{name}_hypnogram.csv")
        assert frame["duration_sec"].eq(20).all()
        assert frame["onset_sec"].diff().dropna().eq(20).all()


def test_predict_reference_flag(ss5, model_20s, tmp_path, capsys):
    psg = str(ss5 / "01-05-0002 PSG.edf")
    args = ["predict", psg, "--model", str(model_20s), "--out", str(tmp_path)]
    assert main([*args, "--channel", "EEG F4-LER", "--reference", "EOG Left Horiz"]) == 0
    assert (tmp_path / "01-05-0002 PSG_hypnogram.csv").is_file()
    assert main([*args, "--reference", "EOG Left Horiz"]) == 2
    assert "--reference needs --channel" in capsys.readouterr().err
