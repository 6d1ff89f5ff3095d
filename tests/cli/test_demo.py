"""``tinysleepnet demo``: the whole pipeline, on given files and on the embedded cohort."""

from __future__ import annotations

import json

import pytest

from tinysleepnet import pipeline
from tinysleepnet.cli import main
from tinysleepnet.config import preset
from tinysleepnet.data.simulate import simulate_cohort

TINY = [
    "--epochs", "1",
    "--n-filters", "8",
    "--lstm-units", "8",
    "--batch-nights", "2",
    "--seq-len", "5",
    "--device", "cpu",
    "--quiet",
]  # fmt: skip


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recordings")
    simulate_cohort(folder, range(4), nights=(1,), n_epochs=60, quirks=False)
    return folder


def test_demo_on_given_files_runs_every_step(recordings, tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--data", str(recordings), "--out", str(out), "--folds", "2", *TINY]) == 0
    printed = capsys.readouterr().out
    assert "| all 4 |" in printed  # the class-counts table of the prepared nights
    assert "| ACC | MF1 | kappa |" in printed  # the scores table
    scores = json.loads((out / "run" / "evaluation" / "scores.json").read_text())
    assert len(scores["folds"]) == 2 and not scores["partial"]
    assert len(list((out / "prepared").glob("*.npz"))) == 4


def test_demo_without_data_simulates_the_official_cohort(recordings, tmp_path, monkeypatch):
    calls = []

    def fake_cohort(folder, subjects, **kwargs):
        calls.append((list(subjects), kwargs))
        simulate_cohort(folder, range(4), nights=(1,), n_epochs=60, quirks=False)

    monkeypatch.setattr(pipeline, "simulate_cohort", fake_cohort)
    config = preset("fast", max_passes=1, n_filters=8, lstm_units=8, batch_nights=2)
    result = pipeline.run_pipeline(tmp_path, n_folds=2, config=config, progress=False)
    assert calls == [(list(range(8)), {"from_official": True, "n_jobs": 2})]
    assert result["pooled"]["n_epochs"] > 0
    # A second run resumes: nothing is simulated or trained again.
    pipeline.run_pipeline(tmp_path, n_folds=2, config=config, progress=False)
    assert len(calls) == 1


def test_demo_flags_adjust_the_demo_settings(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(
        pipeline,
        "run_pipeline",  # the command imports it when it runs
        lambda out, data, *, config, **kwargs: (
            seen.append(config) or {"counts_table": "", "summary": ""}
        ),
    )
    assert main(["demo", "--out", str(tmp_path), "--epochs", "9"]) == 0
    assert seen[0] == pipeline.demo_config().replace(max_passes=9)
    assert main(["demo", "--out", str(tmp_path), "--data", str(tmp_path), "--epochs", "9"]) == 0
    assert seen[1].batch_nights == 15  # real data: the paper's recipe
