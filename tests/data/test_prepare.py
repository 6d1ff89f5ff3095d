"""Preparing nights: the published Sleep-EDF counts, wake trim, rerun, resampling, bad input."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tinysleepnet.data import prepare as prepare_module
from tinysleepnet.data.naming import SleepEdfName
from tinysleepnet.data.nights import load_night, load_nights
from tinysleepnet.data.prepare import class_counts_table, prepare, trim_wake
from tinysleepnet.data.resources import official_hypnograms, official_n_epochs
from tinysleepnet.errors import PathError, TinySleepNetError
from tinysleepnet.io.edf_writer import EdfChannel, write_annotations_edf, write_edf
from tinysleepnet.io.recordings import edf_start
from tinysleepnet.stages import STAGE_TO_ANNOTATION, STAGES, UNSCORED

START = dt.datetime(1989, 4, 24, 16, 13)

#: Sleep-EDF cassette channels and their rates in Hz.
SLEEP_EDF_CHANNELS = {
    "EEG Fpz-Cz": 100.0,
    "EEG Pz-Oz": 100.0,
    "EOG horizontal": 100.0,
    "Resp oro-nasal": 1.0,
    "EMG submental": 1.0,
    "Temp rectal": 1.0,
    "Event marker": 1.0,
}

#: W, N1, N2, N3, REM per night after the authors' preparation (docs/method.md,
#: "Preparation of Sleep-EDF").
AUTHORS_COUNTS = {
    "SC4001E0": (188, 58, 250, 220, 125),
    "SC4002E0": (183, 59, 373, 297, 215),
    "SC4011E0": (157, 109, 562, 105, 170),
    "SC4012E0": (1241, 92, 660, 96, 176),
    "SC4021E0": (128, 94, 545, 95, 163),
    "SC4022E0": (125, 184, 402, 119, 179),
    "SC4031E0": (140, 61, 485, 57, 209),
    "SC4032E0": (136, 45, 400, 131, 199),
    "SC4041E0": (200, 166, 620, 53, 196),
    "SC4042E0": (185, 137, 514, 94, 270),
    "SC4051E0": (208, 44, 217, 135, 68),
    "SC4052E0": (222, 114, 616, 114, 180),
    "SC4061E0": (142, 56, 407, 136, 102),
    "SC4062E0": (193, 90, 417, 129, 187),
    "SC4071E0": (124, 89, 403, 162, 198),
    "SC4072E0": (407, 84, 392, 222, 168),
}
AUTHORS_TOTAL = (3979, 1482, 7263, 2165, 2805)  # 17,694 epochs

#: The DeepSleepNet order changes only SC4012E0, whose `?` run lies far after the last sleep:
#: 1,186 epochs with 162 W (the recipe's example) instead of 2,265 with 1,241 W.
DEEPSLEEPNET_COUNTS = {**AUTHORS_COUNTS, "SC4012E0": (162, 92, 660, 96, 176)}
DEEPSLEEPNET_TOTAL = (2900, 1482, 7263, 2165, 2805)  # 16,615 epochs


#: 30 s of low-amplitude noise at 100 Hz, repeated to fill every signal: the content of the
#: signal does not matter to these tests, and drawing 8 hours of noise per night is slow.
NOISE = np.random.default_rng(0).normal(0, 5, 3000)


def write_psg(
    path: Path, n_epochs: float, channels=None, record_sec: float = 30.0, start=START
) -> None:
    """A Sleep-EDF-shaped PSG of ``n_epochs`` 30-s epochs of noise, starting at ``start``."""
    signals = [
        EdfChannel(label, np.resize(NOISE, round(n_epochs * 30 * sfreq)), sfreq, "uV", (-100, 100))
        for label, sfreq in (channels or SLEEP_EDF_CHANNELS).items()
    ]
    write_edf(path, signals, start, record_sec=record_sec)


def write_hypnogram(path: Path, stages) -> None:
    """A Sleep-EDF-style hypnogram: one annotation per run of equal stages (-1 = `?`)."""
    runs, onset = [], 0.0
    for stage, run in itertools.groupby(stages):
        duration = 30.0 * len(list(run))
        text = "Sleep stage ?" if stage == UNSCORED else STAGE_TO_ANNOTATION[stage]
        runs.append((onset, duration, text))
        onset += duration
    write_annotations_edf(path, runs, START)


def write_night(folder: Path, name: str, stages, channels=None, record_sec=30.0) -> None:
    """``<name>-PSG.edf`` as long as ``stages`` and its hypnogram scored by ``C``."""
    night = SleepEdfName.parse(name)
    write_psg(folder / night.psg_file, len(stages), channels, record_sec)
    write_hypnogram(folder / dataclasses.replace(night, scorer="C").hypnogram_file, stages)


#: A short night of 14 epochs: 3 W, sleep, 2 `?`, 4 W (12 scored epochs).
SHORT_NIGHT = [0, 0, 0, 1, 2, 2, 3, 4, UNSCORED, UNSCORED, 0, 0, 0, 0]


@pytest.fixture(scope="module")
def sleep_edf_16(tmp_path_factory) -> Path:
    """The 16 official hypnograms of subjects 0-7, each with a PSG of its official length."""
    folder = tmp_path_factory.mktemp("sleep-edf")
    for hypnogram in official_hypnograms():
        shutil.copy(hypnogram, folder)
        psg = SleepEdfName.parse(hypnogram).psg_file
        # as in Sleep-EDF, the recording starts when its hypnogram does
        write_psg(folder / psg, official_n_epochs(hypnogram), start=edf_start(hypnogram))
    return folder


@pytest.fixture(scope="module")
def prepared_16(sleep_edf_16, tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    out = tmp_path_factory.mktemp("prepared")
    return out, prepare(sleep_edf_16, out, progress=False)


def _counts(manifest: pd.DataFrame) -> dict[str, tuple[int, ...]]:
    """W, N1, N2, N3, REM epochs per night of a manifest."""
    return {name: tuple(row) for name, *row in manifest[["name", *STAGES]].to_numpy().tolist()}


def test_sleep_edf_counts_match_the_published_preparation(prepared_16):
    manifest = prepared_16[1]
    assert _counts(manifest) == AUTHORS_COUNTS
    assert tuple(manifest[list(STAGES)].sum()) == AUTHORS_TOTAL
    assert manifest["n_epochs"].sum() == 17_694
    assert list(manifest["subject"]) == [f"{s:02d}" for s in range(8) for _ in (1, 2)]
    assert list(manifest["night"]) == [1, 2] * 8
    assert (manifest["sfreq"] == 100.0).all() and (manifest["channel"] == "EEG Fpz-Cz").all()


def test_prepared_nights_are_consistent_with_the_manifest(prepared_16):
    out, manifest = prepared_16
    nights = load_nights(out)
    assert [n.name for n in nights] == list(manifest["name"])
    night = nights[0]
    assert night.signal_uv.shape == (841, 3000) and night.signal_uv.dtype == np.float32
    assert night.stages.dtype == np.int64 and set(np.unique(night.stages)) <= set(range(5))
    assert night.start == "1989-04-24T16:13:00+00:00"
    assert pd.read_csv(out / "manifest.csv", dtype={"subject": str}).equals(manifest)


def test_class_counts_table(prepared_16):
    table = class_counts_table(prepared_16[1]).splitlines()
    assert table[0] == "| night | W | N1 | N2 | N3 | REM | total |"
    assert table[2] == "| SC4001E0 | 188 | 58 | 250 | 220 | 125 | 841 |"
    assert table[-1] == "| all 16 | 3,979 | 1,482 | 7,263 | 2,165 | 2,805 | 17,694 |"


def test_deepsleepnet_rule_drops_unscored_epochs_before_the_window(sleep_edf_16, tmp_path):
    manifest = prepare(sleep_edf_16, tmp_path, trim="deepsleepnet", progress=False)
    assert _counts(manifest) == DEEPSLEEPNET_COUNTS
    assert tuple(manifest[list(STAGES)].sum()) == DEEPSLEEPNET_TOTAL
    assert manifest.set_index("name").loc["SC4012E0", "n_epochs"] == 1186


def test_rerun_skips_nights_already_prepared(sleep_edf_16, prepared_16, monkeypatch):
    out, manifest = prepared_16

    def fail(*args, **kwargs):
        raise AssertionError("a prepared night was prepared again")

    monkeypatch.setattr(prepare_module, "prepare_night", fail)
    rerun = prepare(sleep_edf_16, out, progress=False)
    pd.testing.assert_frame_equal(rerun, manifest)


def test_trim_wake_rules():
    labels = np.array([0] * 5 + [2, 0, UNSCORED] + [0] * 5 + [UNSCORED, 0, 0])
    # authors: window from 2 before the first to 2 after the last not-W epoch, `?` included
    np.testing.assert_array_equal(
        trim_wake(labels, 2, "authors"), [3, 4, 5, 6, 8, 9, 10, 11, 12, 14, 15]
    )
    # deepsleepnet: `?` dropped first, so the window ends 2 scored epochs after the sleep
    np.testing.assert_array_equal(trim_wake(labels, 2, "deepsleepnet"), [3, 4, 5, 6, 8])
    assert trim_wake(np.array([0, 0, UNSCORED, 0]), 2).size == 0
    # none (MASS): every scored epoch, wake included
    np.testing.assert_array_equal(trim_wake(labels, 2, "none"), np.flatnonzero(labels != UNSCORED))
    with pytest.raises(TinySleepNetError, match="unknown wake-trim rule 'sideways'"):
        trim_wake(labels, 2, "sideways")


def test_sixty_second_records_still_give_thirty_second_epochs(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_night(src, "SC4362F0", SHORT_NIGHT, record_sec=60.0)
    prepare(src, tmp_path / "out", wake_edge_min=0.5, progress=False)
    night = load_night(tmp_path / "out" / "SC4362F0.npz")
    # 1 W before the first sleep epoch, 1 W after the `?` run, `?` dropped
    np.testing.assert_array_equal(night.stages, [0, 1, 2, 2, 3, 4, 0])
    assert night.signal_uv.shape == (7, 3000)
    assert night.subject == "36" and night.night == 2


def test_faster_files_are_resampled(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_night(src, "SC4001E0", SHORT_NIGHT, channels={"EEG Fpz-Cz": 200.0})
    prepare(src, tmp_path / "out", progress=False)
    night = load_night(tmp_path / "out" / "SC4001E0.npz")
    assert night.sfreq == 100.0 and night.signal_uv.shape == (12, 3000)


def test_pairs_csv_for_other_datasets(tmp_path):
    src = tmp_path / "src"
    (src / "recordings").mkdir(parents=True)
    write_psg(src / "recordings" / "p1.edf", len(SHORT_NIGHT), {"C4-M1": 256.0})
    write_hypnogram(src / "p1-stages.edf", SHORT_NIGHT)
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("psg,hypnogram,subject,night\nrecordings/p1.edf,p1-stages.edf,007,3\n")
    manifest = prepare(
        src, tmp_path / "out", channel="C4-M1", sfreq=128.0, pairs_csv=pairs, progress=False
    )
    assert manifest[["name", "subject", "night", "n_epochs"]].values.tolist() == [
        ["p1", "007", 3, 12]
    ]
    night = load_nights(tmp_path / "out")[0]
    assert night.channel == "C4-M1" and night.signal_uv.shape == (12, 128 * 30)


def test_pairs_csv_errors(tmp_path):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("psg,hypnogram,subject\na.edf,b.edf,1\n")
    with pytest.raises(PathError, match=r"pairs.csv: missing column\(s\) night"):
        prepare(tmp_path, tmp_path / "out", pairs_csv=pairs, progress=False)
    pairs.write_text("psg,hypnogram,subject,night\na/x.edf,h1.edf,1,1\nb/x.edf,h2.edf,2,1\n")
    with pytest.raises(PathError, match=r"night names must be unique; repeated: \['x'\]"):
        prepare(tmp_path, tmp_path / "out", pairs_csv=pairs, progress=False)
    pairs.write_text("psg,hypnogram,subject,night\na.edf,h1.edf,1,1\n,h2.edf,2,1\n")
    with pytest.raises(PathError, match=r"pairs.csv: data row 2: empty 'psg' cell"):
        prepare(tmp_path, tmp_path / "out", pairs_csv=pairs, progress=False)
    pairs.write_bytes(b'psg,hypnogram\n"a.edf,b\n\xff\xfe')
    with pytest.raises(PathError, match=r"pairs.csv: not a readable CSV \("):
        prepare(tmp_path, tmp_path / "out", pairs_csv=pairs, progress=False)


@pytest.mark.parametrize("name", ["../../escaped_night", "/abs/escaped_night", ".hidden"])
def test_pairs_csv_night_name_must_be_one_file_name(tmp_path, name):
    src = tmp_path / "deep" / "er" / "src"
    src.mkdir(parents=True)
    write_psg(src / "p1.edf", len(SHORT_NIGHT), {"C4-M1": 100.0})
    write_hypnogram(src / "p1-stages.edf", SHORT_NIGHT)
    pairs = tmp_path / "pairs.csv"
    name = name.replace("/abs", str(tmp_path / "abs"))
    pairs.write_text(f"psg,hypnogram,subject,night,name\np1.edf,p1-stages.edf,1,1,{name}\n")
    out = tmp_path / "deep" / "er" / "out"
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(PathError) as info:
        prepare(src, out, channel="C4-M1", pairs_csv=pairs, progress=False)
    message = str(info.value)
    assert message.startswith(f"{pairs}: night name {name!r} cannot be a file name: it ")
    assert "\n" not in message
    assert sorted(tmp_path.rglob("*")) == before  # nothing written, inside OUT or out of it


def test_folder_without_sleep_edf_files(tmp_path):
    with pytest.raises(PathError, match=r"no sleep-edf night found \(SC4ssNE0-PSG.edf"):
        prepare(tmp_path, tmp_path / "out", progress=False)


def test_other_settings_need_another_folder(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_night(src, "SC4001E0", SHORT_NIGHT, channels={"EEG Fpz-Cz": 100.0})
    prepare(src, tmp_path / "out", progress=False)
    with pytest.raises(PathError, match="prepared with other settings"):
        prepare(src, tmp_path / "out", trim="deepsleepnet", progress=False)


def test_folder_recorded_before_epoch_settings_is_still_resumed(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_night(src, "SC4001E0", SHORT_NIGHT, channels={"EEG Fpz-Cz": 100.0})
    first = prepare(src, tmp_path / "out", progress=False)
    settings = tmp_path / "out" / "prepare.json"
    earlier = {"channel": "EEG Fpz-Cz", "sfreq": 100.0, "wake_edge_min": 30.0, "trim": "authors"}
    settings.write_text(json.dumps(earlier))  # as written before epoch_sec was a setting
    pd.testing.assert_frame_equal(prepare(src, tmp_path / "out", progress=False), first)
    with pytest.raises(PathError, match="prepared with other settings"):
        prepare(src, tmp_path / "out", epoch_sec=20.0, progress=False)


def test_damaged_night_file_is_prepared_again(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_night(src, "SC4001E0", SHORT_NIGHT, channels={"EEG Fpz-Cz": 100.0})
    first = prepare(src, tmp_path / "out", progress=False)
    (tmp_path / "out" / "SC4001E0.npz").write_bytes(b"damaged")
    pd.testing.assert_frame_equal(prepare(src, tmp_path / "out", progress=False), first)
    assert load_night(tmp_path / "out" / "SC4001E0.npz").n_epochs == first["n_epochs"][0]


def _without_the_channel(src: Path) -> None:
    write_psg(src / "SC4002E0-PSG.edf", len(SHORT_NIGHT), {"EEG Pz-Oz": 100.0})


def _at_a_lower_rate(src: Path) -> None:
    write_psg(src / "SC4002E0-PSG.edf", len(SHORT_NIGHT), {"EEG Fpz-Cz": 50.0})


def _with_a_corrupt_header(src: Path) -> None:
    psg = src / "SC4002E0-PSG.edf"
    psg.write_bytes(psg.read_bytes()[:300])


def _empty(src: Path) -> None:
    write_psg(src / "SC4002E0-PSG.edf", 0.5, {"EEG Fpz-Cz": 100.0}, record_sec=15.0)


def _with_a_short_hypnogram(src: Path) -> None:
    write_hypnogram(src / "SC4002EC-Hypnogram.edf", SHORT_NIGHT[:12])


@pytest.mark.parametrize(
    ("damage", "culprit", "problem"),
    [
        (_without_the_channel, "E0-PSG", "channel 'EEG Fpz-Cz' not found"),
        (_at_a_lower_rate, "E0-PSG", "sampled at 50 Hz, below the 100 Hz"),
        (_with_a_corrupt_header, "E0-PSG", "not a readable recording"),
        (_empty, "E0-PSG", "empty recording: 15 s of signal"),
        (_with_a_short_hypnogram, "EC-Hypnogram", "hypnogram covers 12 epochs of 30 s, shorter"),
    ],
)
def test_bad_input_gives_one_line_and_no_partial_output(tmp_path, damage, culprit, problem):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    for name in ("SC4001E0", "SC4002E0"):
        write_night(src, name, SHORT_NIGHT, channels={"EEG Fpz-Cz": 100.0})
    damage(src)
    with pytest.raises(PathError) as info:
        prepare(src, out, n_jobs=1, progress=False)
    message = str(info.value)
    assert message.startswith(f"{src / 'SC4002'}{culprit}.edf: ") and "\n" not in message
    assert problem in message
    # the good night is complete, the bad one absent, and there is no manifest yet
    assert sorted(p.name for p in out.iterdir()) == ["SC4001E0.npy", "SC4001E0.npz", "prepare.json"]
    assert load_night(out / "SC4001E0.npz").n_epochs == 12
