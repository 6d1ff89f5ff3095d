from __future__ import annotations

import datetime as dt
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import edfio
import matplotlib.image
import mne
import numpy as np
import pandas as pd
import pytest

from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.prediction.outputs import (
    ANONYMOUS_START,
    colliding_recordings,
    stage_annotations,
)
from tinysleepnet.prediction.result import StagingResult
from tinysleepnet.prediction.stage import stage
from tinysleepnet.stages import STAGES, UNSCORED

START = dt.datetime(2024, 3, 1, 23, 15, 0, tzinfo=dt.UTC)
STAGE_SEQUENCE = np.array([0, 0, 0, 1, 2, 2, 3, 3, 2, 4, 4, 0, 2, 4, 0])


def make_result(start: dt.datetime | None = START) -> StagingResult:
    """A result whose most probable stages are :data:`STAGE_SEQUENCE`."""
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(5), size=STAGE_SEQUENCE.size)
    proba[np.arange(STAGE_SEQUENCE.size), STAGE_SEQUENCE] += 1.0
    return StagingResult(proba / proba.sum(axis=1, keepdims=True), start)


def test_result_derives_stages_from_probabilities() -> None:
    result = make_result()
    np.testing.assert_array_equal(result.stages, STAGE_SEQUENCE)
    assert result.stage_names[:4] == ["W", "W", "W", "N1"]
    assert result.n_epochs == STAGE_SEQUENCE.size


def test_csv_reads_back(tmp_path: Path) -> None:
    result = make_result()
    result.to_csv(tmp_path / "h.csv")
    frame = pd.read_csv(tmp_path / "h.csv")
    assert list(frame.columns) == [
        "onset_sec", "duration_sec", "clock_time", "stage",
        "prob_W", "prob_N1", "prob_N2", "prob_N3", "prob_REM", "confidence", "quality",
    ]  # fmt: skip
    assert frame["stage"].tolist() == [STAGES[s] for s in STAGE_SEQUENCE]
    np.testing.assert_allclose(frame["onset_sec"], np.arange(result.n_epochs) * 30.0)
    probabilities = frame[[f"prob_{name}" for name in STAGES]].to_numpy()
    np.testing.assert_allclose(probabilities, result.proba, atol=1e-5)
    np.testing.assert_allclose(frame["confidence"], probabilities.max(axis=1), atol=1e-5)
    clock = pd.to_datetime(frame["clock_time"])
    assert clock.iloc[0] == pd.Timestamp(START)
    assert clock.iloc[-1] == pd.Timestamp(START + dt.timedelta(seconds=30 * (result.n_epochs - 1)))


def test_csv_without_start_has_no_clock_time(tmp_path: Path) -> None:
    make_result(start=None).to_csv(tmp_path / "h.csv")
    assert "clock_time" not in pd.read_csv(tmp_path / "h.csv").columns


def test_annotations_merge_runs_of_one_stage() -> None:
    annotations = make_result().to_annotations()
    assert annotations.orig_time == START
    assert list(annotations.description[:4]) == [
        "Sleep stage W", "Sleep stage N1", "Sleep stage N2", "Sleep stage N3",
    ]  # fmt: skip
    np.testing.assert_allclose(annotations.onset[:4], [0, 90, 120, 180])
    np.testing.assert_allclose(annotations.duration[:4], [90, 30, 60, 60])
    assert annotations.duration.sum() == 30 * STAGE_SEQUENCE.size


def test_annotations_skip_unscored_epochs() -> None:
    runs = stage_annotations(np.array([0, UNSCORED, UNSCORED, 4]), 30.0)
    assert runs == [(0.0, 30.0, "Sleep stage W"), (90.0, 30.0, "Sleep stage R")]


def test_edf_hypnogram_reads_back_with_mne(tmp_path: Path) -> None:
    result = make_result()
    result.to_edf(tmp_path / "h.edf")
    read = mne.read_annotations(tmp_path / "h.edf")
    expected = result.to_annotations()
    assert list(read.description) == list(expected.description)
    np.testing.assert_allclose(read.onset, expected.onset)
    np.testing.assert_allclose(read.duration, expected.duration)
    header = edfio.read_edf(tmp_path / "h.edf")  # MNE does not report the file's start
    assert dt.datetime.combine(header.startdate, header.starttime) == START.replace(tzinfo=None)


def test_edf_hypnogram_without_start_uses_anonymous_date(tmp_path: Path) -> None:
    make_result(start=None).to_edf(tmp_path / "h.edf")
    header = edfio.read_edf(tmp_path / "h.edf")
    assert dt.datetime.combine(header.startdate, header.starttime) == ANONYMOUS_START
    assert len(mne.read_annotations(tmp_path / "h.edf")) == 10


def test_annotations_attach_to_the_recording(recording: Path, model: TinySleepNet) -> None:
    raw = mne.io.read_raw_edf(recording, verbose="error")
    result = stage(recording, model=model)
    raw.set_annotations(result.to_annotations())
    assert raw.annotations.onset[0] == 0.0
    assert raw.annotations.duration.sum() == pytest.approx(raw.times[-1] + 1 / raw.info["sfreq"])


def test_save_writes_every_output(tmp_path: Path) -> None:
    result = make_result()
    expert = STAGE_SEQUENCE.copy()
    expert[0] = UNSCORED
    saved = result.save(tmp_path / "out", "night", expert_stages=expert)
    paths = saved.paths
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"night_{kind}" for kind in (
            "hypnogram.csv", "hypnogram.edf", "hypnogram.png", "statistics.json",
            "statistics.txt", "agreement.json", "agreement.txt", "events.tsv", "events.json",
        )
    )  # fmt: skip
    assert json.loads(paths["statistics"].read_text()) == result.statistics() == saved.statistics
    agreement = json.loads(paths["agreement"].read_text())
    assert agreement == json.loads(json.dumps(saved.agreement))  # what the caller reports
    assert agreement["n_epochs"] == STAGE_SEQUENCE.size - 1
    assert agreement["n_unscored"] == 1
    assert agreement["acc"] == 1.0
    assert "Cohen's kappa     1.000" in paths["agreement_txt"].read_text()
    assert "Total sleep time" in paths["statistics_txt"].read_text()
    image = matplotlib.image.imread(paths["png"])
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 400


def test_agreement_counts_only_scored_epochs() -> None:
    result = make_result()
    expert = np.where(STAGE_SEQUENCE == 4, 2, STAGE_SEQUENCE)  # expert calls every REM N2
    expert[-1] = UNSCORED
    agreement = result.agreement(expert)
    n_rem = int(np.sum(STAGE_SEQUENCE == 4))
    assert agreement["n_epochs"] == STAGE_SEQUENCE.size - 1
    assert agreement["acc"] == pytest.approx(1 - n_rem / (STAGE_SEQUENCE.size - 1))
    assert agreement["confusion"][2][4] == n_rem


def test_agreement_refuses_other_length() -> None:
    with pytest.raises(ValueError, match="15"):
        make_result().agreement(np.zeros(10, dtype=int))


def test_agreement_refuses_expert_without_scored_epochs() -> None:
    result = make_result()
    with pytest.raises(ValueError, match="no epoch"):
        result.agreement(np.full(result.n_epochs, UNSCORED))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_agreement_json_writes_nan_as_null(tmp_path: Path) -> None:
    # Kappa is undefined (0/0) when expert and staging agree on a single stage throughout.
    result = StagingResult(np.tile([1.0, 0, 0, 0, 0], (6, 1)))
    paths = result.save(tmp_path, "night", expert_stages=np.zeros(6, dtype=int)).paths
    agreement = json.loads(paths["agreement"].read_text())
    assert agreement["kappa"] is None and agreement["acc"] == 1.0


def test_recordings_whose_outputs_would_collide_are_named() -> None:
    assert colliding_recordings(["a/night1.edf", "b/night2.edf"]) is None
    clash = colliding_recordings(["a/night1.edf", "b/night2.edf", "c/night1.bdf"])
    assert clash == (
        "a/night1.edf and c/night1.bdf share the name 'night1': their outputs would collide"
    )
    assert colliding_recordings(["a/n.edf", "a/n.edf"]) is not None  # one file given twice


def test_concurrent_saves_of_one_name_never_leave_a_mixed_set(tmp_path: Path, monkeypatch) -> None:
    results = {}
    for key, shift in (("a", 0), ("b", 2)):
        result = make_result()
        result.proba = np.roll(result.proba, shift, axis=1)  # other stages
        result.provenance = {"input": f"{key}/night.edf"}
        result.save(tmp_path / key, "night")  # each alone: the set it writes
        results[key] = result
    # the first save pauses after its CSV, long enough for the other to write a whole set
    to_edf, paused = StagingResult.to_edf, threading.Event()

    def slow_to_edf(self, path):
        if not paused.is_set():
            paused.set()
            time.sleep(1.0)
        return to_edf(self, path)

    monkeypatch.setattr(StagingResult, "to_edf", slow_to_edf)
    out = tmp_path / "both"
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(results["a"].save, out, "night")
        paused.wait()
        second = pool.submit(results["b"].save, out, "night")
        first.result(), second.result()
    statistics = json.loads((out / "night_statistics.json").read_text())
    winner = statistics["provenance"]["input"].split("/")[0]
    for kind in ("hypnogram.csv", "statistics.txt", "events.tsv", "hypnogram.png"):
        written = (out / f"night_{kind}").read_bytes()
        assert written == (tmp_path / winner / f"night_{kind}").read_bytes(), kind
    assert not list(out.glob(".*lock"))
