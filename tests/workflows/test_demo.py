"""The demo's workflow: the embedded cohort simulated, prepared, cross-validated, evaluated
and one test night staged, in five logged steps that resume."""

from __future__ import annotations

import logging

from tinysleepnet.config import preset
from tinysleepnet.data import simulate
from tinysleepnet.data.simulate import simulate_cohort
from tinysleepnet.workflows import demo


def test_demo_without_data_simulates_the_official_cohort(tmp_path, monkeypatch, caplog):
    calls = []

    def fake_cohort(folder, subjects, **kwargs):
        calls.append((list(subjects), kwargs))
        simulate_cohort(folder, range(4), nights=(1,), n_epochs=60, quirks=False)

    monkeypatch.setattr(simulate, "simulate_cohort", fake_cohort)
    config = preset("fast", max_passes=1, n_filters=8, lstm_units=8, batch_nights=2)
    with caplog.at_level(logging.INFO, logger="tinysleepnet"):
        result = demo.run_pipeline(tmp_path, n_folds=2, config=config, progress=False)
    cohort = demo.demo_cohort()
    assert calls == [
        (
            list(cohort.subjects),
            {"nights": cohort.nights, "from_official": True, "n_jobs": 2, "progress": False},
        )
    ]
    assert result["pooled"]["n_epochs"] > 0
    stages = [r.getMessage()[:5] for r in caplog.records if r.getMessage().startswith("[")]
    assert stages == ["[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"]
    assert any("2 folds, 1 pass each, " in r.getMessage() for r in caplog.records)
    # stage 5 staged a test night of fold 0 with that fold's model, as predict does
    staged = result["staged"]
    assert staged["paths"]["csv"].name == "SC4001E0-PSG_hypnogram.csv"
    assert staged["paths"]["csv"].is_file() and staged["agreement"]["n_epochs"] > 0
    assert staged["command"].startswith("tinysleepnet predict ")
    assert "--model " + str(tmp_path / "run" / "fold_00" / "best.pt") in staged["command"]
    # A second run resumes: nothing is simulated or trained again.
    demo.run_pipeline(tmp_path, n_folds=2, config=config, progress=False)
    assert len(calls) == 1
