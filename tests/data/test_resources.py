"""Packaged Sleep-EDF files: official hypnograms, PSG lengths, name lookups."""

from __future__ import annotations

from pathlib import Path

import tinysleepnet
from tinysleepnet.data.naming import SleepEdfName
from tinysleepnet.data.resources import (
    official_hypnograms,
    official_n_epochs,
    psg_lengths,
    resource_dir,
)
from tinysleepnet.io.hypnogram import epoch_labels, read_hypnogram
from tinysleepnet.stages import UNSCORED


def test_resources_ship_inside_the_package_with_their_licence():
    assert resource_dir().is_relative_to(Path(tinysleepnet.__file__).parent)
    assert "ODC-By" in (resource_dir() / "LICENSE").read_text()


def test_sixteen_official_hypnograms_of_subjects_0_to_7():
    paths = official_hypnograms()
    assert [p.name[:6] for p in paths] == [f"SC40{s}{n}" for s in range(8) for n in (1, 2)]
    assert paths[0].name == "SC4001EC-Hypnogram.edf"
    labels = epoch_labels(read_hypnogram(paths[0]), 2880)  # 24 h, past the 2650-epoch PSG
    assert labels[0] == 0 and set(labels.tolist()) == {0, 1, 2, 3, 4, UNSCORED}


def test_psg_lengths_table_covers_the_sleep_cassette_study():
    lengths = psg_lengths()
    assert len(lengths) == 153
    assert list(lengths.columns) == [
        "psg_file", "hypnogram_file", "psg_sha256", "psg_bytes", "epochs_30s"
    ]  # fmt: skip
    # Every SC PSG: a 2048-byte header then 18,240-byte 30-s data records.
    assert ((lengths["psg_bytes"] - 2048) / 18240 == lengths["epochs_30s"]).all()
    lengths.loc[0, "epochs_30s"] = 0  # a copy: the package's table stays intact
    assert psg_lengths().loc[0, "epochs_30s"] == 2650


def test_every_official_hypnogram_has_its_psg_in_the_table():
    table = psg_lengths().set_index("hypnogram_file")["psg_file"]
    for path in official_hypnograms():
        assert table[path.name] == SleepEdfName.parse(path).psg_file


def test_official_lengths_by_psg_or_hypnogram_name():
    assert official_n_epochs("SC4001EC-Hypnogram.edf") == 2650
    assert official_n_epochs(Path("x") / "SC4001E0-PSG.edf") == 2650
    assert official_n_epochs("SC4362FC-Hypnogram.edf") == 2266  # the 60-s-record night
    assert official_n_epochs("SC4991EC-Hypnogram.edf") is None
