"""One run-folder layout for every workflow; only the cross-validation run's folder differs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinysleepnet.workflows.layout import CV_FOLDERS, RunFolder


def test_the_demo_keeps_its_cross_validation_run_in_run():
    folder = RunFolder(Path("demo-run"), "demo")
    assert folder.recordings == Path("demo-run/recordings")
    assert folder.prepared == Path("demo-run/prepared")
    assert folder.cv == Path("demo-run/run")
    assert folder.evaluation == Path("demo-run/run/evaluation")
    assert folder.staged == Path("demo-run/staged")


def test_a_rows_run_folder_is_its_cross_validation_run():
    folder = RunFolder(Path("runs/edf20"), "reproduce")
    assert folder.prepared == Path("runs/edf20/prepared")
    assert folder.cv == Path("runs/edf20")
    assert folder.evaluation == Path("runs/edf20/evaluation")


def test_an_unknown_workflow_has_no_layout():
    assert set(CV_FOLDERS) == {"demo", "reproduce"}
    with pytest.raises(KeyError):
        RunFolder(Path("x"), "finetune").cv  # noqa: B018
