"""Data-parallel training with torchrun on the CPU (gloo): two processes train what one does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from tinysleepnet.cli import main
from tinysleepnet.config import Config
from tinysleepnet.nn.checkpoint import load_checkpoint
from tinysleepnet.training.batches import iterate_pass, plan_pass

from ..conftest import write_prepared
from .conftest import toy_night

#: A tiny network without dropout (whose masks differ with the number of processes), the
#: global minibatch of 4 nights shared out over the processes.
FLAGS = [
    "--n-filters", "4", "--lstm-units", "8", "--dropout", "0", "--batch-nights", "4",
    "--seq-len", "5", "--device", "cpu", "--valid-subjects", "05", "--quiet",
]  # fmt: skip


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    """Seven short nights of six subjects on disk, as `tinysleepnet prepare` leaves them."""
    config = Config(epoch_sec=3.0)
    nights = [toy_night(f"{i % 6:02d}", 40 + 7 * i, config, seed=i) for i in range(7)]
    for i, night in enumerate(nights):
        night.name = f"night{i}"
    return write_prepared(tmp_path_factory.mktemp("prepared"), nights)


def torchrun(prepared: Path, out: Path, passes: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc-per-node", "2", "-m", "tinysleepnet", "train", str(prepared),
               "--out", str(out), "--epochs", str(passes), *FLAGS]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, env=env, start_new_session=True, stderr=subprocess.PIPE)


def weights(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path)["model"]


def test_each_process_feeds_its_share_and_all_take_the_same_steps():
    rng = np.random.default_rng(0)
    lengths = [12, 3, 7, 9, 4]
    signals = [rng.normal(size=(n, 10)).astype(np.float32) for n in lengths]
    stages = [np.arange(n) % 5 for n in lengths]
    plan = plan_pass(5, np.random.default_rng(1), 0, 0)
    alone = list(iterate_pass(signals, stages, plan, 4, 5))
    shares = [list(iterate_pass(signals, stages, plan, 4, 5, rank=r, world_size=2)) for r in (0, 1)]
    assert len(shares[0]) == len(shares[1]) == len(alone)
    for whole, first, second in zip(alone, *shares, strict=True):
        # the whole minibatch's real epochs are the two shares' together
        assert int(whole[2].sum()) == int(first[2].sum() + second[2].sum())
        assert whole[3] == first[3] == second[3]
    # the last group holds one night: process 1 feeds padding of weight 0 alongside
    assert shares[1][-1][0].shape[0] == 1 and not shares[1][-1][2].any()


@pytest.mark.slow
def test_two_processes_train_the_weights_of_one_and_a_killed_run_resumes(prepared, tmp_path):
    passes = 6
    assert main(["train", str(prepared), "--out", str(tmp_path / "one"), "--epochs", str(passes),
                 *FLAGS]) == 0  # fmt: skip
    run = torchrun(prepared, tmp_path / "two", passes)
    log = tmp_path / "two" / "log.csv"
    deadline = time.monotonic() + 300
    while not log.is_file() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGKILL)  # the whole job, as a scheduler's kill does
    run.wait()
    interrupted = pd.read_csv(log)
    assert 1 <= len(interrupted) < passes, "the kill came too late to test resuming"

    resumed = torchrun(prepared, tmp_path / "two", passes)
    _, stderr = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, stderr.decode()[-2000:]
    two = pd.read_csv(log)
    assert two["pass"].tolist() == list(range(1, passes + 1))
    assert set(two["world_size"]) == {2}
    assert Config.load(tmp_path / "two" / "config.json").extra["world_size"] == 2
    # Same global minibatch, same plan: the same weights, up to the order of float sums.
    one_weights, two_weights = (
        weights(tmp_path / "one" / "last.pt"),
        weights(tmp_path / "two" / "last.pt"),
    )
    for name, tensor in one_weights.items():
        torch.testing.assert_close(two_weights[name], tensor, rtol=1e-4, atol=1e-5, msg=name)
    one = pd.read_csv(tmp_path / "one" / "log.csv")
    np.testing.assert_allclose(two["train_loss"], one["train_loss"], rtol=1e-4)
