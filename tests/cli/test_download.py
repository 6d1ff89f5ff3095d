"""``tinysleepnet download sleep-edf``: subject ranges and nights reach MNE's fetcher."""

from __future__ import annotations

from mne.datasets.sleep_physionet import age

from tinysleepnet.cli import main


def test_download_passes_subjects_and_nights(tmp_path, monkeypatch, capsys):
    calls = []

    def fetch_data(**kwargs):
        calls.append(kwargs)
        return [["SC4001E0-PSG.edf", "SC4001EC-Hypnogram.edf"]]

    monkeypatch.setattr(age, "fetch_data", fetch_data)
    argv = ["download", "sleep-edf", "--subjects", "0-2,5", "--dest", str(tmp_path)]
    assert main([*argv, "--nights", "1"]) == 0
    assert calls[0]["subjects"] == [0, 1, 2, 5] and calls[0]["recording"] == [1]
    assert calls[0]["path"] == tmp_path
    assert capsys.readouterr().out.startswith(f"1 nights in {tmp_path}")


def test_bad_subject_list_is_a_one_line_error(tmp_path, capsys):
    assert main(["download", "sleep-edf", "--subjects", "all", "--dest", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("tinysleepnet: error: subjects 'all': expected")
