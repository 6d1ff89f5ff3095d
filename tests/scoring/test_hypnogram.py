"""The Hypnogram value: crop, statistics, agreement, unscorable epochs, annotations."""

from __future__ import annotations

import datetime as dt

import matplotlib.dates as mdates
import mne
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from tinysleepnet.io.edf_writer import write_annotations_edf
from tinysleepnet.scoring.hypnogram import Hypnogram
from tinysleepnet.scoring.in_bed import InBedWindow
from tinysleepnet.scoring.metrics import scores
from tinysleepnet.scoring.statistics import sleep_statistics
from tinysleepnet.stages import N1, N2, N3, REM, UNSCORED, WAKE

START = dt.datetime(2020, 1, 1, 22, 0, 0)
#: A night with a wake run, every stage, an unscored epoch and two unscorable ones.
NIGHT = np.array([0, 0, 1, 2, 2, UNSCORED, 3, 3, 2, 4, 4, 0, UNSCORED, UNSCORED, 2, 4, 0, 0])
UNSCORABLE = np.zeros(NIGHT.size, bool)
UNSCORABLE[[12, 13]] = True


def night() -> Hypnogram:
    return Hypnogram(NIGHT, 30.0, START, UNSCORABLE)


def test_values_and_their_checks():
    hypnogram = night()
    assert hypnogram.n_epochs == len(hypnogram) == NIGHT.size
    assert hypnogram.stage_names[:6] == ["W", "W", "N1", "N2", "N2", "?"]
    np.testing.assert_array_equal(hypnogram.scored, NIGHT != UNSCORED)
    with pytest.raises(ValueError):  # a value, not a view of the caller's array
        hypnogram.stages[0] = REM
    assert hypnogram == night() and hypnogram != Hypnogram(NIGHT, 20.0, START, UNSCORABLE)
    with pytest.raises(ValueError, match=r"stage ids must be 0..4 or -1, got \[5\]"):
        Hypnogram([0, 5])
    with pytest.raises(ValueError, match="unscorable mask has 1 epochs"):
        Hypnogram([0, 2], unscorable=[True])
    with pytest.raises(ValueError, match="an unscorable epoch has a stage"):
        Hypnogram([0, 2], unscorable=[False, True])


def test_crop_to_epochs_or_an_in_bed_window_moves_the_start():
    cropped = night().crop(slice(2, 10))
    np.testing.assert_array_equal(cropped.stages, NIGHT[2:10])
    assert cropped.start == START + dt.timedelta(minutes=1)
    in_bed = night().crop(InBedWindow(10, 16, "given"))
    np.testing.assert_array_equal(in_bed.stages, NIGHT[10:16])
    np.testing.assert_array_equal(in_bed.unscorable, UNSCORABLE[10:16])
    assert in_bed.start == START + dt.timedelta(minutes=5)
    assert Hypnogram(NIGHT).crop(slice(3, None)).start is None
    with pytest.raises(ValueError, match="ends at epoch 40, hypnogram has 18"):
        night().crop(InBedWindow(0, 40))
    with pytest.raises(ValueError, match="slice step 1"):
        night().crop(slice(0, 10, 2))


def test_statistics_are_sleep_statistics_with_the_unscorable_epochs_excluded():
    stats = night().statistics(min_awakening_sec=60.0)
    assert stats == sleep_statistics(NIGHT, 30.0, excluded=UNSCORABLE, min_awakening_sec=60.0)
    assert stats["excluded_epochs"] == 2 and stats["unscored_min"] == 0.5
    assert Hypnogram(NIGHT, 20.0).statistics() == sleep_statistics(NIGHT, 20.0)


def test_agreement_is_scores_on_the_epochs_both_scored():
    expert = NIGHT.copy()
    expert[5], expert[12] = N2, N2  # scored by the expert, not by the staging
    expert[[0, 8]] = [UNSCORED, N3]  # left unscored by the expert; a disagreement
    agreement = night().agreement(Hypnogram(expert, 30.0, START))
    both = (NIGHT != UNSCORED) & (expert != UNSCORED)
    assert {k: agreement[k] for k in agreement if not k.startswith("n_un")} == scores(
        expert[both], NIGHT[both]
    )
    assert agreement["n_epochs"] == both.sum() == 14
    assert agreement["n_unscored"] == 2  # epochs 0 and 13
    assert agreement["n_unscorable"] == 2  # epochs 5 and 12: the expert staged them
    assert agreement["confusion"][N3][N2] == 1 and agreement["acc"] == pytest.approx(13 / 14)


def test_agreement_refuses_other_lengths_and_nothing_to_compare():
    with pytest.raises(ValueError, match="reference hypnogram has 3 epochs, this one 18"):
        night().agreement(Hypnogram([0, 0, 0]))
    with pytest.raises(ValueError, match="scores no epoch"):
        night().agreement(Hypnogram(np.full(NIGHT.size, UNSCORED)))


def test_annotations_round_trip():
    hypnogram = Hypnogram(NIGHT, 30.0, START)
    runs = hypnogram.to_annotations()
    assert runs[:3] == [(0.0, 60.0, "Sleep stage W"), (60.0, 30.0, "Sleep stage N1"),
                        (90.0, 60.0, "Sleep stage N2")]  # fmt: skip
    assert all(text.startswith("Sleep stage") for _, _, text in runs)  # unscored: none
    back = Hypnogram.from_annotations(runs, NIGHT.size, 30.0, START)
    assert back == hypnogram
    # as MNE reads them, texts of other events ignored, R&K stage 4 as N3, the end unscored
    annotations = mne.Annotations(
        [0.0, 30.0, 45.0, 60.0], [30.0, 30.0, 0.0, 30.0],
        ["Sleep stage W", "Sleep stage 4", "Arousal", "Sleep stage R"],
    )  # fmt: skip
    read = Hypnogram.from_annotations(annotations, n_epochs=4)
    np.testing.assert_array_equal(read.stages, [WAKE, N3, REM, UNSCORED])
    assert Hypnogram.from_annotations(annotations).n_epochs == 3  # up to the last stage


def test_read_lays_an_expert_file_on_the_recording(tmp_path):
    path = tmp_path / "expert.edf"
    later = START + dt.timedelta(seconds=30)
    write_annotations_edf(
        path, [(0.0, 60.0, "Sleep stage 1"), (60.0, 30.0, "Sleep stage 2")], later
    )
    expert = Hypnogram.read(path, 4, 30.0, START)
    np.testing.assert_array_equal(expert.stages, [UNSCORED, N1, N1, N2])
    assert expert.start == START and expert.epoch_sec == 30.0


def test_plot_draws_the_hypnogram_alone_or_above_its_hypnodensity():
    alone = night().plot(title="expert")
    assert isinstance(alone, Figure) and len(alone.axes) == 1
    assert alone.get_suptitle() == "expert"
    assert [t.get_text() for t in alone.axes[0].get_yticklabels()] == ["W", "REM", "N1", "N2", "N3"]
    bands = [p for p in alone.axes[0].patches if isinstance(p, Rectangle)]
    assert len(bands) == 1  # the grey band over the unscorable epochs 12-13
    epoch_days = 30 / 86400
    assert bands[0].get_x() == pytest.approx(mdates.date2num(START) + 12 * epoch_days)
    assert bands[0].get_width() == pytest.approx(2 * epoch_days)
    proba = np.eye(5)[np.where(NIGHT == UNSCORED, 0, NIGHT)]
    staged = night().plot(proba, reference=Hypnogram(NIGHT))
    assert len(staged.axes) == 2
    legend = [t.get_text() for t in staged.axes[0].get_legend().get_texts()]
    assert "disagree (0 epochs)" in legend
