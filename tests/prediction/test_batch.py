"""Tests of stage_many: a folder of recordings staged from Python, one outcome each."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from tinysleepnet.errors import PathError, TinySleepNetError
from tinysleepnet.prediction.batch import RecordingOutcome, stage_many
from tinysleepnet.prediction.cohort import Shard
from tinysleepnet.prediction.stage import stage


@pytest.fixture(scope="module")
def folder(make_recording, tmp_path_factory):
    """A folder of two short recordings of different lengths."""
    folder = tmp_path_factory.mktemp("nights")
    make_recording(folder / "a.edf", n_epochs=4, seed=1)
    make_recording(folder / "b.edf", n_epochs=6, seed=2)
    return folder


def test_a_folder_is_staged_as_stage_does_each_recording(folder, model, checkpoint, tmp_path):
    recordings = sorted(folder.glob("*.edf"))
    seen: list[tuple[RecordingOutcome, int]] = []
    threads = torch.get_num_threads()
    outcomes = stage_many(
        recordings,
        tmp_path / "out",
        checkpoint,
        jobs=2,
        threads=4,
        on_outcome=lambda outcome: seen.append((outcome, torch.get_num_threads())),
    )
    assert [o.recording for o in outcomes] == recordings  # in the order given
    assert all(o.ok and o.error is None for o in outcomes)
    assert sorted(o.recording for o, _ in seen) == recordings
    assert {n for _, n in seen} == {2}  # 4 threads shared out between 2 jobs
    assert torch.get_num_threads() == threads  # restored
    for outcome, n_epochs in zip(outcomes, (4, 6), strict=True):
        name = outcome.recording.stem
        assert outcome.report.startswith(f"{outcome.recording}: {n_epochs} epochs, TST ")
        assert outcome.saved is not None and outcome.saved.paths["csv"].is_file()
        frame = pd.read_csv(tmp_path / "out" / f"{name}_hypnogram.csv")
        alone = stage(outcome.recording, model=model)
        assert frame["stage"].tolist() == alone.stage_names
        np.testing.assert_allclose(frame["prob_W"], alone.proba[:, 0], atol=1e-4)
        stats = json.loads((tmp_path / "out" / f"{name}_statistics.json").read_text())
        assert stats == outcome.saved.statistics
        assert stats["provenance"]["model"] == str(checkpoint)


def test_a_recording_that_cannot_be_staged_is_skipped_and_the_others_go_on(
    folder, checkpoint, tmp_path
):
    broken = tmp_path / "c.edf"
    broken.write_text("not an EDF file")
    recordings = [folder / "a.edf", broken, folder / "b.edf"]
    outcomes = stage_many(recordings, tmp_path / "out", checkpoint, shard=Shard(1, 1))
    assert [o.ok for o in outcomes] == [True, False, True]
    skipped = outcomes[1]
    assert isinstance(skipped.error, PathError) and skipped.saved is None
    assert skipped.report.startswith(str(broken))
    failure = json.loads((tmp_path / "out" / "c_failed.json").read_text())
    assert failure == {"recording": str(broken), "shard": "1/1", "error": skipped.report}
    assert not (tmp_path / "out" / "a_failed.json").exists()


def test_inputs_that_do_not_match_are_refused_before_staging(folder, checkpoint, tmp_path):
    recordings = sorted(folder.glob("*.edf"))
    out = tmp_path / "out"
    with pytest.raises(TinySleepNetError, match=r"^1 hypnogram for 2 recordings; give one per"):
        stage_many(recordings, out, checkpoint, hypnograms=[None])
    with pytest.raises(TinySleepNetError, match="share the name 'a'"):
        stage_many([folder / "a.edf", tmp_path / "a.edf"], out, checkpoint)
    for option in ({"jobs": 0}, {"threads": -1}, {"lights_off": "25:99"}, {"lights_on": "x"}):
        with pytest.raises(TinySleepNetError, match=f"^{next(iter(option))}"):
            stage_many(recordings, out, checkpoint, **option)
    assert not out.exists()
