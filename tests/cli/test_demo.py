"""``tinysleepnet demo``: the whole pipeline on given files; its flags, help and set-up script
(the embedded cohort: tests/workflows/test_demo.py)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tinysleepnet.cli import main
from tinysleepnet.data.simulate import simulate_cohort
from tinysleepnet.workflows import demo

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


def test_demo_flags_adjust_the_demo_settings(tmp_path, monkeypatch, capsys):
    seen = []

    def fake_pipeline(out, data, *, config, full, **kwargs):
        seen.append((config, full))
        staged = {"paths": {"csv": tmp_path / "x.csv"}, "agreement": None, "command": "c"}
        return {"counts_table": "", "summary": "", "staged": staged}

    monkeypatch.setattr(demo, "run_pipeline", fake_pipeline)  # imported when it runs
    assert main(["demo", "--out", str(tmp_path), "--epochs", "9"]) == 0
    assert seen[0] == (demo.demo_config().replace(max_passes=9), False)
    assert main(["demo", "--out", str(tmp_path), "--full", "--epochs", "9"]) == 0
    assert seen[1] == (demo.demo_config(full=True).replace(max_passes=9), True)
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
    small, config = demo.demo_cohort(), demo.demo_config()
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
