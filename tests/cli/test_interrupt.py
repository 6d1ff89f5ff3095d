"""Ctrl-C during ``predict --jobs 2`` ends the command cleanly with exit status 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")
def test_sigint_with_parallel_jobs_exits_130_without_aborting(make_recording, checkpoint, tmp_path):
    recordings = [
        str(make_recording(tmp_path / f"night{i}-PSG.edf", n_epochs=400, seed=i)) for i in range(12)
    ]
    out = tmp_path / "out"
    argv = ["predict", *recordings, "--model", str(checkpoint), "--out", str(out), "--jobs", "2"]
    child = subprocess.Popen(
        [sys.executable, "-m", "tinysleepnet", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell's background job ignores SIGINT and its children inherit that: give the
        # command Python's own handling back, as it has when run in a terminal.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert child.stdout is not None
    child.stdout.readline()  # one recording staged: the others are in the workers' hands
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 130, stderr
    assert "terminate called" not in stderr
    assert "tinysleepnet: interrupted; rerun the same command to resume" in stderr
