"""``tinysleepnet demo``: the whole pipeline, on given files and on the embedded cohort."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from tinysleepnet import pipeline
from tinysleepnet.cli import main
from tinysleepnet.config import preset
from tinysleepnet.data import simulate
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


def test_demo_without_data_simulates_the_official_cohort(recordings, tmp_path, monkeypatch, caplog):
    calls = []

    def fake_cohort(folder, subjects, **kwargs):
        calls.append((list(subjects), kwargs))
        simulate_cohort(folder, range(4), nights=(1,), n_epochs=60, quirks=False)

    monkeypatch.setattr(simulate, "simulate_cohort", fake_cohort)
    config = preset("fast", max_passes=1, n_filters=8, lstm_units=8, batch_nights=2)
    with caplog.at_level(logging.INFO, logger="tinysleepnet"):
        result = pipeline.run_pipeline(tmp_path, n_folds=2, config=config, progress=False)
    cohort = pipeline.demo_cohort()
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
    pipeline.run_pipeline(tmp_path, n_folds=2, config=config, progress=False)
    assert len(calls) == 1


def test_demo_flags_adjust_the_demo_settings(tmp_path, monkeypatch, capsys):
    seen = []

    def fake_pipeline(out, data, *, config, full, **kwargs):
        seen.append((config, full))
        staged = {"paths": {"csv": tmp_path / "x.csv"}, "agreement": None, "command": "c"}
        return {"counts_table": "", "summary": "", "staged": staged}

    monkeypatch.setattr(pipeline, "run_pipeline", fake_pipeline)  # imported when it runs
    assert main(["demo", "--out", str(tmp_path), "--epochs", "9"]) == 0
    assert seen[0] == (pipeline.demo_config().replace(max_passes=9), False)
    assert main(["demo", "--out", str(tmp_path), "--full", "--epochs", "9"]) == 0
    assert seen[1] == (pipeline.demo_config(full=True).replace(max_passes=9), True)
    assert main(["demo", "--out", str(tmp_path), "--data", str(tmp_path), "--epochs", "9"]) == 0
    assert seen[2][0].batch_nights == 15  # real data: the paper's recipe
    assert main(["demo", "--out", str(tmp_path), "--threads", "1"]) == 0
    assert seen[3] == (None, False)  # --threads alone: the demo's own settings
    err = capsys.readouterr().err
    assert err.startswith(f"tinysleepnet demo: working in {tmp_path}/, writing about ")


def test_demo_help_shows_what_the_demo_runs(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    small, config = pipeline.demo_cohort(), pipeline.demo_config()
    assert f"simulate {small.n_nights} nights" in text
    assert f"({small.n_folds} folds, {config.max_passes} passes)" in text
    assert f"--passes MAX_PASSES (default {config.max_passes})" in text
    assert "--batch-nights BATCH_NIGHTS (default 2)" in text  # not the paper's 15


def test_demo_script_does_not_reinstall_an_installed_venv(tmp_path):
    root = Path(__file__).parents[2]
    for name in ("pyproject.toml", "constraints.txt", "scripts/demo.sh"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy(root / name, tmp_path / name)
    fake = tmp_path / ".venv" / "bin" / "tinysleepnet"
    fake.parent.mkdir(parents=True)
    fake.write_text('#!/bin/sh\necho "demo ran with $*"\n')
    fake.chmod(0o755)
    digest = hashlib.sha256(
        (tmp_path / "pyproject.toml").read_bytes() + (tmp_path / "constraints.txt").read_bytes()
    ).hexdigest()
    (tmp_path / ".venv" / ".tinysleepnet-installed").write_text(digest + "\n")
    done = subprocess.run(
        ["bash", str(tmp_path / "scripts" / "demo.sh"), "--full"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stderr == "set-up: .venv is installed and up to date\n"
    assert done.stdout == "demo ran with demo --full\n"
