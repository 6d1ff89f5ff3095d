"""Staging a real Sleep-EDF recording (SC4001E0) end to end with ``tinysleepnet predict``.

The network is tiny and trained for one pass on the same night, so its stages mean little;
what is tested is that a real file goes through every step and output unflagged.
"""

from __future__ import annotations

import json
from pathlib import Path

import mne
import pandas as pd
import pytest

from tinysleepnet.cli import main
from tinysleepnet.config import Config
from tinysleepnet.data.nights import load_nights
from tinysleepnet.stages import STAGES
from tinysleepnet.training.fit import train

from ..conftest import REAL_HYPNOGRAM, REAL_PSG
from .test_predict import OUTPUTS

N_EPOCHS = 960  # the shipped 8 h of the recording


@pytest.fixture(scope="module")
def real_model(real_prepared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A narrow network after one pass over the real night (and its reference amplitude)."""
    nights = load_nights(real_prepared)
    config = Config(n_filters=8, lstm_units=16, max_passes=1, input_scale=0.05)
    out = tmp_path_factory.mktemp("real-model")
    train(nights, nights, config, out, progress=False)
    return out / "best.pt"


def test_predict_stages_a_real_recording_with_every_output(
    real_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out"
    argv = ["predict", str(REAL_PSG), "--model", str(real_model), "--out", str(out)]
    assert main([*argv, "--hypnogram", str(REAL_HYPNOGRAM), "--jobs", "1"]) == 0
    paths = [out / f"SC4001E0-PSG_{kind}" for kind in (*OUTPUTS, "agreement.json")]
    assert [path.name for path in paths if not path.is_file()] == []
    assert not any("amplitude" in record.getMessage() for record in caplog.records)

    frame = pd.read_csv(out / "SC4001E0-PSG_hypnogram.csv")
    assert len(frame) == N_EPOCHS
    assert frame["clock_time"][0].startswith("1989-04-24T23:43:00")
    assert set(frame["quality"]) == {"ok"}  # a clean night: nothing flagged unscorable
    probabilities = frame[[f"prob_{name}" for name in STAGES]].to_numpy()
    assert abs(probabilities.sum(axis=1) - 1).max() < 1e-3

    annotations = mne.read_annotations(out / "SC4001E0-PSG_hypnogram.edf")
    assert sum(annotations.duration) == pytest.approx(N_EPOCHS * 30.0)
    agreement = json.loads((out / "SC4001E0-PSG_agreement.json").read_text())
    # the expert's 960 epochs, all compared: the 841 prepared ones and 119 more of wake
    assert agreement["n_epochs"] == N_EPOCHS and agreement["n_unscored"] == 0
    expert_counts = [sum(row) for row in agreement["confusion"]]
    assert expert_counts == [188 + 119, 58, 250, 220, 125]
    statistics = json.loads((out / "SC4001E0-PSG_statistics.json").read_text())
    assert statistics["tib_min"] == pytest.approx(N_EPOCHS * 0.5)


def test_statistics_and_agreement_over_the_night_in_bed(real_model: Path, tmp_path: Path) -> None:
    """Lights off 30 min before the first sleep epoch and on 30 min after the last: the
    expert's epochs compared are exactly the authors' 841."""
    argv = ["predict", str(REAL_PSG), "--model", str(real_model), "--out", str(tmp_path),
            "--hypnogram", str(REAL_HYPNOGRAM), "--lights-off", "00:13:30",
            "--lights-on", "07:14"]  # fmt: skip
    assert main(argv) == 0
    agreement = json.loads((tmp_path / "SC4001E0-PSG_agreement.json").read_text())
    assert [sum(row) for row in agreement["confusion"]] == [188, 58, 250, 220, 125]
    statistics = json.loads((tmp_path / "SC4001E0-PSG_statistics.json").read_text())
    assert statistics["tib_min"] == 841 * 0.5
    assert statistics["in_bed"]["lights_off"] == "1989-04-25T00:13:30+00:00"


def test_the_automatic_window_of_the_expert_hypnogram_is_the_authors_trim() -> None:
    from tinysleepnet.io.hypnogram import epoch_labels, read_hypnogram
    from tinysleepnet.scoring.in_bed import auto_window

    expert = epoch_labels(read_hypnogram(REAL_HYPNOGRAM), N_EPOCHS)
    window = auto_window(expert, 30.0)
    assert (window.first, window.stop - window.first) == (61, 841)
