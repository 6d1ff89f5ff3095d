"""Workflows as declared steps: each announced ``[i/n]``, what is done skipped, the rest resumed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tinysleepnet.workflows.demo import DEMO
from tinysleepnet.workflows.reproduce import REPRODUCE
from tinysleepnet.workflows.steps import Marker, Step, StepLog, Workflow


@dataclass
class Counted:
    """A toy state: the steps that ran, and a folder for markers."""

    folder: Path
    settings: str = "a"
    ran: list[str] = field(default_factory=list)
    crash_in: str | None = None
    pending: bool = False


def make(name: str) -> Step[Counted]:
    def run(state: Counted, log: StepLog) -> bool:
        log("making %s", name)
        log.detail("made %s", name)
        if state.crash_in == name:
            raise KeyboardInterrupt
        state.ran.append(name)
        return not (state.pending and name == "folds")

    def marker(state: Counted) -> Marker:
        return Marker(state.folder / f".{name}", state.settings, f"{name} already made")

    return Step(name, run, marker=marker)


TOY = Workflow((make("recordings"), make("folds"), make("scores")))


def messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records]


def test_each_step_is_announced_with_its_place_and_its_details_indented(tmp_path, caplog):
    state = Counted(tmp_path)
    with caplog.at_level(logging.INFO, logger="tinysleepnet"):
        assert TOY.run(state) is True
    assert state.ran == ["recordings", "folds", "scores"]
    assert messages(caplog) == [
        "[1/3] making recordings", "      made recordings",
        "[2/3] making folds", "      made folds",
        "[3/3] making scores", "      made scores",
    ]  # fmt: skip


def test_a_rerun_skips_the_marked_steps_and_resumes_the_interrupted_one(tmp_path, caplog):
    with pytest.raises(KeyboardInterrupt):
        TOY.run(Counted(tmp_path, crash_in="folds"))
    state = Counted(tmp_path)
    with caplog.at_level(logging.INFO, logger="tinysleepnet"):
        assert TOY.run(state) is True
    assert state.ran == ["folds", "scores"]  # the interrupted step wrote no marker
    assert messages(caplog)[0] == "[1/3] recordings already made"
    # other settings: every step runs again
    again = Counted(tmp_path, settings="b")
    TOY.run(again)
    assert again.ran == ["recordings", "folds", "scores"]


def test_a_step_that_leaves_work_to_others_holds_back_the_later_steps(tmp_path):
    state = Counted(tmp_path, pending=True)
    assert TOY.run(state) is False
    assert state.ran == ["recordings", "folds"]
    assert not (tmp_path / ".folds").exists()  # not marked done: the rerun checks again
    rerun = Counted(tmp_path)
    assert TOY.run(rerun) is True
    assert rerun.ran == ["folds", "scores"]


def test_a_workflows_later_lines_are_indented_under_its_step(caplog):
    with caplog.at_level(logging.INFO, logger="tinysleepnet"):
        TOY.log("folds").detail("wrote %s", "x")
        TOY.log("scores")("scoring")
    assert messages(caplog) == ["      wrote x", "[3/3] scoring"]


def test_the_demo_and_a_row_share_the_experiments_steps():
    assert DEMO.names == ["recordings", "prepare", "cv", "evaluate", "stage"]
    assert REPRODUCE.names == ["recordings", "prepare", "cv", "evaluate"]
    assert DEMO.steps[1:4] == REPRODUCE.steps[1:4]
