"""Settings shared by the whole suite."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
import torch

from tinysleepnet.data.nights import MANIFEST, Night, save_night

matplotlib.use("Agg")  # no display on CI machines

#: The real Sleep-EDF night SC4001E0 shipped with the tests: 8 h of its PSG (every channel,
#: samples as recorded) and the matching stretch of its expert hypnogram; see its README.
REAL_NIGHT = Path(__file__).parent / "fixtures" / "sleep-edf-real"
REAL_PSG = REAL_NIGHT / "SC4001E0-PSG.edf"
REAL_HYPNOGRAM = REAL_NIGHT / "SC4001EC-Hypnogram.edf"


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """One torch thread for the whole suite.

    The networks in the tests are small, so a second thread buys little, while on a shared
    2-core machine two spinning threads can stall a step for seconds; one thread also makes
    results bit-exact from run to run (resume tests compare weights exactly).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def killed_write():
    """``killed_write(path)``: write ``path`` atomically in another process that is killed
    (SIGKILL, as by ``kill -9``) before the rename, so no cleanup of it runs."""

    def write(path) -> None:
        code = (
            "import os, signal, sys\n"
            "from tinysleepnet.io.atomic import atomic_path\n"
            "with atomic_path(sys.argv[1]) as tmp:\n"
            "    tmp.write_text('half')\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n"
        )
        done = subprocess.run([sys.executable, "-c", code, str(path)], check=False)
        assert done.returncode == -signal.SIGKILL

    return write


@pytest.fixture(scope="session")
def real_prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real night prepared as ``tinysleepnet prepare`` does it (the authors' wake trim)."""
    from tinysleepnet.data.prepare import prepare

    out = tmp_path_factory.mktemp("real-prepared")
    prepare(REAL_NIGHT, out, n_jobs=1, progress=False)
    return out


def write_prepared(folder: Path, nights: Iterable[Night]) -> Path:
    """Write nights as `tinysleepnet prepare` leaves them: one file each and the manifest."""
    rows = []
    for night in nights:
        save_night(folder / f"{night.name}.npz", night)
        rows.append({"name": night.name, "subject": night.subject, "night": night.night,
                     "file": f"{night.name}.npz", "n_epochs": night.n_epochs,
                     "channel": night.channel, "sfreq": night.sfreq})  # fmt: skip
    pd.DataFrame(rows).to_csv(folder / MANIFEST, index=False)
    return folder
