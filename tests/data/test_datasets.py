"""Every row of the paper's table, as docs/method.md gives it, is the protocol the package runs."""

from __future__ import annotations

import pytest

from tinysleepnet.data.datasets import DATASETS, PROTOCOLS, dataset, protocol
from tinysleepnet.errors import TinySleepNetError
from tinysleepnet.io.channels import ChannelSpec
from tinysleepnet.workflows.reproduce import paper_config

#: docs/method.md, "The paper's table": set, manual, channel, Fs, epoch (s), folds,
#: test epochs, ACC, MF1, kappa, F1 W / N1 / N2 / N3 / REM.
PAPER_TABLE = {
    "sleep-edf-20": ("R&K", "Fpz-Cz", 100, 30, 20, 44_220, 85.4, 80.5, 0.80,
                     (90.1, 51.4, 88.5, 88.3, 84.3)),
    "sleep-edf-78": ("R&K", "Fpz-Cz", 100, 30, 10, 199_352, 83.1, 78.1, 0.77,
                     (92.8, 51.0, 85.3, 81.1, 80.3)),
    "mass-ss1": ("AASM", "F4-EOG(L)", 256, 30, 27, 51_293, 83.1, 79.3, 0.76,
                 (90.0, 60.6, 87.4, 73.2, 85.1)),
    "mass-ss2": ("R&K", "F4-EOG(L)", 256, 30, 19, 26_711, 82.6, 75.5, 0.75,
                 (76.6, 48.2, 87.8, 80.5, 84.3)),
    "mass-ss3": ("AASM", "F4-EOG(L)", 256, 30, 31, 59_317, 87.5, 83.2, 0.82,
                 (87.3, 62.7, 91.8, 85.5, 88.6)),
    "mass-ss4": ("R&K", "C4-EOG(L)", 256, 20, 20, 55_310, 84.0, 78.0, 0.77,
                 (79.8, 50.2, 88.9, 82.4, 88.5)),
    "mass-ss5": ("R&K", "F4-EOG(L)", 256, 20, 26, 36_409, 86.6, 80.9, 0.81,
                 (85.5, 55.0, 89.9, 86.6, 87.7)),
}  # fmt: skip

#: What the paper's channel names mean in the files (docs/method.md: F4 or C4 EEG, named with
#: either reference, minus the left horizontal EOG).
FILE_CHANNELS = {
    "Fpz-Cz": ChannelSpec(("EEG Fpz-Cz",)),
    "F4-EOG(L)": ChannelSpec(("EEG F4-CLE", "EEG F4-LER"), "EOG Left Horiz"),
    "C4-EOG(L)": ChannelSpec(("EEG C4-CLE", "EEG C4-LER"), "EOG Left Horiz"),
}


def test_the_rows_are_the_papers():
    assert list(PROTOCOLS) == list(PAPER_TABLE)


@pytest.mark.parametrize("row", PAPER_TABLE)
def test_protocol_matches_the_recipe_table(row):
    manual, channel, sfreq, epoch_sec, n_folds, test_epochs, acc, mf1, kappa, f1 = PAPER_TABLE[row]
    spec = protocol(row)
    assert (spec.manual, spec.paper_channel, spec.n_folds, spec.test_epochs) == (
        manual,
        channel,
        n_folds,
        test_epochs,
    )
    assert (spec.acc, spec.mf1, spec.kappa, spec.f1) == (acc, mf1, kappa, f1)
    assert (spec.data.sfreq, spec.data.epoch_sec) == (sfreq, epoch_sec)
    assert ChannelSpec.parse(spec.data.channel) == FILE_CHANNELS[channel]
    # the folds run with exactly these settings
    config = paper_config(spec)
    assert (config.sfreq, config.epoch_sec, config.channel) == (
        sfreq,
        epoch_sec,
        spec.data.channel,
    )
    assert config.epoch_samples == sfreq * epoch_sec  # 5,120 for SS4/SS5


def test_sleep_edf_rows_take_their_subjects():
    assert protocol("sleep-edf-20").subjects == tuple(range(20))
    subjects = protocol("sleep-edf-78").subjects
    assert subjects is not None and len(subjects) == 78
    assert not {39, 68, 69, 78, 79} & set(subjects)


def test_wake_trim_only_where_the_authors_applied_it():
    assert dataset("sleep-edf").trim == "authors"
    assert {DATASETS[f"mass-ss{i}"].trim for i in range(1, 6)} == {"none"}


def test_unknown_names_are_refused():
    with pytest.raises(TinySleepNetError, match="unknown protocol 'mass-ss6'"):
        protocol("mass-ss6")
    with pytest.raises(TinySleepNetError, match="unknown dataset 'shhs'"):
        dataset("shhs")


def test_the_registry_holds_every_adapter_once():
    assert list(DATASETS) == ["sleep-edf", *(f"mass-ss{i}" for i in range(1, 6))]
    assert all(DATASETS[name].name == name for name in DATASETS)
    assert [name for name, data in DATASETS.items() if data.downloadable] == ["sleep-edf"]
    assert dataset("sleep-edf").epochs_from == "signal"
    assert {DATASETS[f"mass-ss{i}"].epochs_from for i in range(1, 6)} == {"annotations"}


def test_adapters_name_subjects_as_their_nights_do():
    assert dataset("sleep-edf").subject_ids([0, 12]) == ["00", "12"]
    assert dataset("mass-ss3").subject_ids([1, 12]) == ["0001", "0012"]
    assert protocol("sleep-edf-20").subject_ids == [f"{s:02d}" for s in range(20)]
    assert protocol("mass-ss1").subject_ids is None  # every subject the files hold


def test_missing_sleep_edf_subjects_by_psg_file_name(tmp_path):
    for name in ("SC4001E0-PSG.edf", "SC4002E0-PSG.edf", "SC4011E0-PSG.edf"):
        (tmp_path / name).touch()
    # subject 0 has both nights, subject 1 one of two, subject 13 no night 2 in the corpus
    assert dataset("sleep-edf").missing_subjects(tmp_path, [0, 1, 2]) == [1, 2]
    assert dataset("sleep-edf").missing_subjects(tmp_path / "absent", [0]) == [0]


def test_mass_is_not_downloaded_and_says_where_it_comes_from(tmp_path):
    with pytest.raises(TinySleepNetError, match=r"MASS is obtained from http://ceams-carsm\.ca"):
        dataset("mass-ss2").download([1], tmp_path)
    assert (
        protocol("mass-ss2")
        .requirements()
        .startswith(
            "mass-ss2 needs the MASS recordings (credentialed access, not downloadable here)"
        )
    )
