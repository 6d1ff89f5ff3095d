"""Settings shared by the whole suite."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import matplotlib
import numpy as np
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


class WritesMarker:
    """Unpickling it runs ``open(path, "w")``: the file appears if the code ever runs."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.path, "w"))


@pytest.fixture(scope="session")
def hostile_copy():
    """``hostile_copy(checkpoint, path, marker)``: a copy of a good checkpoint at ``path``
    with one more entry, a pickled object whose unpickling would create ``marker``."""

    def write(checkpoint: Path, path: Path, marker: Path) -> Path:
        payload = torch.load(checkpoint, weights_only=True)
        torch.save({**payload, "scores": WritesMarker(marker)}, path)
        return path

    return write


@pytest.fixture(scope="session")
def real_prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real night prepared as ``tinysleepnet prepare`` does it (the authors' wake trim)."""
    from tinysleepnet.data.prepare import prepare

    out = tmp_path_factory.mktemp("real-prepared")
    prepare(REAL_NIGHT, out, n_jobs=1, progress=False)
    return out


#: Frequency (Hz) of the sine that encodes each stage (W..REM) in :func:`sine_night`.
STAGE_HZ = (1.0, 3.0, 6.0, 10.0, 15.0)


def sine_night(
    rng: np.random.Generator,
    n_epochs: int,
    epoch_samples: int,
    sfreq: float,
    *,
    name: str,
    subject: str,
    noise_uv: float,
    gain: float = 1.0,
) -> Night:
    """A night of random stages, each epoch a 40-uV sine at its stage's :data:`STAGE_HZ`
    (random phase) plus white noise of ``noise_uv`` SD, all times ``gain``: trivially
    separable, so a tiny network learns it in a pass or two."""
    stages = rng.integers(0, 5, n_epochs)
    t = np.arange(epoch_samples) / sfreq
    phase = rng.uniform(0, 2 * np.pi, (n_epochs, 1))
    signal = 40 * np.sin(2 * np.pi * np.asarray(STAGE_HZ)[stages][:, None] * t + phase)
    signal = gain * (signal + rng.normal(0, noise_uv, signal.shape))
    return Night(
        signal_uv=signal.astype(np.float32),
        stages=stages.astype(np.int64),
        sfreq=sfreq,
        channel="EEG Fpz-Cz",
        subject=subject,
        night=1,
        start="",
        name=name,
    )


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
