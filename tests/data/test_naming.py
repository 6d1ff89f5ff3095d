"""Dataset file names: Sleep-EDF and MASS, parsed and built by one type each."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tinysleepnet.data.naming import MassName, SleepEdfName
from tinysleepnet.data.resources import psg_lengths
from tinysleepnet.errors import PathError, TinySleepNetError


def test_every_official_sleep_edf_name_parses_and_rebuilds():
    for psg, hypnogram in psg_lengths()[["psg_file", "hypnogram_file"]].itertuples(index=False):
        from_psg, from_hypnogram = SleepEdfName.parse(psg), SleepEdfName.parse(hypnogram)
        assert from_psg.psg_file == from_hypnogram.psg_file == psg
        assert from_hypnogram.hypnogram_file == hypnogram
        assert from_psg == dataclasses.replace(from_hypnogram, scorer=None)
        assert SleepEdfName.parse(from_psg.night_name) == from_psg
        assert Path(hypnogram).match(from_psg.hypnogram_glob)


@pytest.mark.parametrize(
    ("name", "fields", "psg", "subject_id"),
    [
        ("SC4001EC-Hypnogram.edf", ("SC", 0, 1, "E", "C"), "SC4001E0-PSG.edf", "00"),
        (Path("data/SC4362FC-Hypnogram.edf"), ("SC", 36, 2, "F", "C"), "SC4362F0-PSG.edf", "36"),
        ("ST7011JP-Hypnogram.edf", ("ST", 1, 1, "J", "P"), "ST7011J0-PSG.edf", "ST01"),
        ("ST7022J0-PSG.edf", ("ST", 2, 2, "J", None), "ST7022J0-PSG.edf", "ST02"),
        ("SC4121E0", ("SC", 12, 1, "E", None), "SC4121E0-PSG.edf", "12"),
    ],
)
def test_sleep_edf_name_fields(name, fields, psg, subject_id):
    parsed = SleepEdfName.parse(name)
    assert dataclasses.astuple(parsed) == fields
    assert parsed.psg_file == psg and parsed.subject_id == subject_id


def test_sleep_edf_name_built_from_fields():
    name = SleepEdfName("SC", 7, 2, scorer="H")
    assert (name.night_name, name.psg_file) == ("SC4072E0", "SC4072E0-PSG.edf")
    assert name.hypnogram_file == "SC4072EH-Hypnogram.edf"
    with pytest.raises(TinySleepNetError, match="SC4072E0: no scorer letter"):
        _ = SleepEdfName("SC", 7, 2).hypnogram_file
    with pytest.raises(TinySleepNetError, match="not a Sleep-EDF name"):
        SleepEdfName("SC", 100, 1)


@pytest.mark.parametrize(
    "name", ["night.edf", "SC4001E0-PSG.EDF", "SC7001E0-PSG.edf", "SC4001e0", "SC4001EC"]
)
def test_foreign_names_are_not_sleep_edf(name):
    with pytest.raises(PathError, match="not a Sleep-EDF name"):
        SleepEdfName.parse(name)


def test_mass_name_round_trips():
    name = MassName(3, 12)
    assert (name.night_name, name.psg_file, name.base_file) == (
        "01-03-0012", "01-03-0012 PSG.edf", "01-03-0012 Base.edf"
    )  # fmt: skip
    assert name.hypnogram_file == name.base_file
    assert (name.subject, name.subject_id, name.night) == (12, "0012", 1)
    for text in (name.psg_file, name.base_file, name.night_name, Path("x") / name.psg_file):
        assert MassName.parse(text) == name


def test_foreign_names_are_not_mass():
    with pytest.raises(PathError, match="not a MASS name"):
        MassName.parse("01-03-0012-PSG.edf")


def test_file_patterns_in_messages_describe_parseable_names():
    psg, hypnogram = SleepEdfName.FILE_PATTERNS
    filled = {"ss": "07", "N": "2", "x": "C"}
    for pattern, expected in ((psg, "SC4072E0-PSG.edf"), (hypnogram, "SC4072EC-Hypnogram.edf")):
        name = pattern
        for placeholder, value in filled.items():
            name = name.replace(placeholder, value, 1)
        assert name == expected and SleepEdfName.parse(name).subject == 7
    psg, base = MassName.file_patterns(4)
    assert (psg, base) == ("01-04-NNNN PSG.edf", "01-04-NNNN Base.edf")
    for pattern, built in ((psg, "psg_file"), (base, "base_file")):
        name = pattern.replace("NNNN", "0012")
        assert getattr(MassName.parse(name), built) == name == getattr(MassName(4, 12), built)
