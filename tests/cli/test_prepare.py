"""``tinysleepnet prepare``: flags reach the Python API, the class-count table is printed."""

from __future__ import annotations

import datetime as dt

import numpy as np

from tinysleepnet.cli import main
from tinysleepnet.data.nights import load_nights
from tinysleepnet.io.edf_writer import EdfChannel, write_annotations_edf, write_edf

START = dt.datetime(1989, 4, 24, 16, 13)


def _sleep_edf_night(folder):
    """SC4001E0: 2 W, 2 N2, 1 REM epochs of a 200 Hz EEG channel, and its hypnogram."""
    eeg = np.random.default_rng(0).normal(0, 20, 5 * 30 * 200)
    write_edf(folder / "SC4001E0-PSG.edf", [EdfChannel("EEG Fpz-Cz", eeg, 200.0)], START)
    runs = [(0, 60, "Sleep stage W"), (60, 60, "Sleep stage 2"), (120, 30, "Sleep stage R")]
    write_annotations_edf(folder / "SC4001EC-Hypnogram.edf", runs, START)


def test_prepare_prints_the_class_counts(tmp_path, capsys):
    _sleep_edf_night(tmp_path)
    out = tmp_path / "prepared"
    argv = ["prepare", str(tmp_path), str(out), "--sfreq", "50", "--trim", "deepsleepnet"]
    assert main([*argv, "--wake-edge-min", "0.5", "--jobs", "1"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[2] == "| SC4001E0 | 1 | 0 | 2 | 0 | 1 | 4 |"
    assert printed[-1] == f"wrote 1 nights to {out}"
    night = load_nights(out)[0]
    assert night.sfreq == 50.0 and night.signal_uv.shape == (4, 1500)


def test_prepare_reports_bad_input_in_one_line(tmp_path, capsys):
    _sleep_edf_night(tmp_path)
    assert main(["prepare", str(tmp_path), str(tmp_path / "out"), "--channel", "C3"]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error == (
        f"tinysleepnet: error: {tmp_path / 'SC4001E0-PSG.edf'}: channel 'C3' not found; "
        "EEG channels present: 'EEG Fpz-Cz'"
    )
