"""Simulated nights and a tiny model shared by the examples.

Every example in this gallery runs in well under a minute on two CPU cores, with nothing
downloaded: the nights are written by tinysleepnet's own simulator (Sleep-EDF's layout and
channels, EEG following a stage sequence), and the model is TinySleepNet shrunk to 16
filters and 32 LSTM units, trained for 8 passes (about half a minute on two cores). Its
scores say that the pipeline works, not how well TinySleepNet stages real EEG (see the
results page for that).

Within one documentation build the examples share one folder (``TINYSLEEPNET_EXAMPLES_DIR``,
set by ``docs/conf.py``), so the cohort is simulated and the model trained once; run alone,
an example uses a fresh temporary folder.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from tinysleepnet import load_nights, prepare, preset, simulate_cohort, train

#: Subjects of the simulated cohort (one night each) and their length in 30-s epochs.
SUBJECTS = tuple(range(8))
N_EPOCHS = 300
#: Simulated EEG easier than the default (1.0), so that a few passes learn something.
DIFFICULTY = 0.5

#: TinySleepNet at a fraction of its size: the ``fast`` preset with 16 filters and 32 LSTM
#: units, 8 passes, float32, on the CPU.
TINY = preset("fast", n_filters=16, lstm_units=32, max_passes=8, patience=8,
              precision="float32", device="cpu")  # fmt: skip


def workdir() -> Path:
    """The folder the examples write to."""
    folder = os.environ.get("TINYSLEEPNET_EXAMPLES_DIR")
    if folder is None:
        folder = os.environ["TINYSLEEPNET_EXAMPLES_DIR"] = tempfile.mkdtemp(prefix="tsn-")
    return Path(folder)


def recordings() -> Path:
    """A folder of simulated Sleep-EDF recordings (PSG and hypnogram per night)."""
    folder = workdir() / "recordings"
    if not (folder / "done").exists():
        simulate_cohort(folder, SUBJECTS, nights=(1,), n_epochs=N_EPOCHS, quirks=False,
                        difficulty=DIFFICULTY)
        (folder / "done").touch()
    return folder


def prepared() -> Path:
    """The simulated recordings prepared as ``tinysleepnet prepare`` does it."""
    folder = workdir() / "prepared"
    if not (folder / "manifest.csv").exists():
        prepare(recordings(), folder, progress=False)
    return folder


def tiny_model() -> Path:
    """A tiny model trained on subjects 2-7 and validated on subject 1 (subject 0 unseen)."""
    run = workdir() / "model"
    if not (run / "best.pt").exists():
        nights = load_nights(prepared())
        train_nights = [n for n in nights if int(n.subject) >= 2]
        valid_nights = [n for n in nights if int(n.subject) == 1]
        # The first passes of so small a model predict one stage, which the training loop
        # warns about; the examples show the result, not those warnings.
        log = logging.getLogger("tinysleepnet")
        level = log.level
        log.setLevel(logging.ERROR)
        try:
            train(train_nights, valid_nights, TINY, run, progress=False)
        finally:
            log.setLevel(level)
    return run / "best.pt"


def unseen_night() -> tuple[Path, Path]:
    """PSG and hypnogram of subject 0, a night the tiny model never saw."""
    folder = recordings()
    return next(folder.glob("SC4001*-PSG.edf")), next(folder.glob("SC4001*-Hypnogram.edf"))
