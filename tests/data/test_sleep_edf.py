"""Sleep-EDF file pairing, subject lists, and the download (fetcher mocked: no network)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mne.datasets.sleep_physionet import age

from tinysleepnet.data.sleep_edf import download_sleep_edf, find_sleep_edf_pairs, parse_subjects
from tinysleepnet.errors import PathError, TinySleepNetError


def _touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).touch()


def test_pairs_each_psg_with_its_hypnogram(tmp_path):
    _touch(tmp_path / "sleep-cassette", "SC4012E0-PSG.edf", "SC4012EC-Hypnogram.edf")
    _touch(tmp_path / "sleep-cassette", "SC4001E0-PSG.edf", "SC4001EC-Hypnogram.edf")
    _touch(tmp_path / "sleep-telemetry", "ST7022J0-PSG.edf", "ST7022JM-Hypnogram.edf")
    _touch(tmp_path, "notes-PSG.edf", "SC4001E0-PSG.edf.md5")  # not Sleep-EDF names: ignored
    pairs = find_sleep_edf_pairs(tmp_path)
    assert pairs[["name", "subject", "night"]].values.tolist() == [
        ["SC4001E0", "00", 1],
        ["SC4012E0", "01", 2],
        ["ST7022J0", "ST02", 2],
    ]
    assert [p.name for p in pairs["hypnogram"]] == [
        "SC4001EC-Hypnogram.edf",
        "SC4012EC-Hypnogram.edf",
        "ST7022JM-Hypnogram.edf",
    ]
    assert pairs["psg"][0] == tmp_path / "sleep-cassette" / "SC4001E0-PSG.edf"


def test_empty_folder_has_no_pairs(tmp_path):
    pairs = find_sleep_edf_pairs(tmp_path)
    assert pairs.empty and list(pairs.columns) == ["name", "subject", "night", "psg", "hypnogram"]


def test_psg_without_hypnogram(tmp_path):
    _touch(tmp_path, "SC4001E0-PSG.edf", "SC4002EC-Hypnogram.edf")
    with pytest.raises(PathError, match=r"SC4001E0-PSG\.edf: needs exactly one .* found none"):
        find_sleep_edf_pairs(tmp_path)


def test_psg_with_two_hypnograms(tmp_path):
    _touch(tmp_path, "SC4001E0-PSG.edf", "SC4001EC-Hypnogram.edf", "SC4001EH-Hypnogram.edf")
    with pytest.raises(PathError, match=r"found SC4001EC-Hypnogram\.edf, SC4001EH-Hyp"):
        find_sleep_edf_pairs(tmp_path)


@pytest.mark.parametrize(
    ("text", "subjects"),
    [("0-19", list(range(20))), ("0,3,5-7", [0, 3, 5, 6, 7]), ("7, 2,2", [2, 7]), ("5", [5])],
)
def test_parse_subjects(text, subjects):
    assert parse_subjects(text) == subjects


@pytest.mark.parametrize("text", ["", "a", "1-", "3:5", "-2", "7-3"])
def test_parse_subjects_rejects_other_text(text):
    with pytest.raises(TinySleepNetError, match="expected numbers and ranges"):
        parse_subjects(text)


def test_download_calls_mne_fetcher(tmp_path, monkeypatch):
    calls = []

    def fetch_data(**kwargs):
        calls.append(kwargs)
        folder = Path(kwargs["path"]) / "physionet-sleep-data"
        return [[str(folder / "SC4001E0-PSG.edf"), str(folder / "SC4001EC-Hypnogram.edf")]]

    monkeypatch.setattr(age, "fetch_data", fetch_data)
    files = download_sleep_edf([0, 1], tmp_path / "dest", recording=(1,))
    assert calls == [
        {"subjects": [0, 1], "recording": [1], "path": tmp_path / "dest", "on_missing": "warn"}
    ]
    folder = tmp_path / "dest" / "physionet-sleep-data"
    assert files == [(folder / "SC4001E0-PSG.edf", folder / "SC4001EC-Hypnogram.edf")]


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (ValueError("Requested recording 2 for subject 13"), "Sleep-EDF download: Requested"),
        (ConnectionError("unreachable"), r"download failed \(unreachable\); rerun to resume"),
    ],
)
def test_download_errors_are_one_line(tmp_path, monkeypatch, error, message):
    def fetch_data(**kwargs):
        raise error

    monkeypatch.setattr(age, "fetch_data", fetch_data)
    with pytest.raises(TinySleepNetError, match=message):
        download_sleep_edf([13], tmp_path, on_missing="raise")
