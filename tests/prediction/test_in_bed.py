"""Statistics, agreement and the plot over the time in bed, agreement counted once, and
the warning for a channel the model was not trained on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tinysleepnet.errors import TinySleepNetError
from tinysleepnet.io.edf_writer import EdfChannel, write_edf
from tinysleepnet.io.quality import FLAT, OK
from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.prediction.result import StagingResult
from tinysleepnet.prediction.stage import stage
from tinysleepnet.scoring.in_bed import ANNOTATIONS, AUTO, GIVEN, InBedWindow
from tinysleepnet.stages import UNSCORED

from .conftest import START


def one_hot(stages: list[int]) -> np.ndarray:
    return np.eye(5, dtype=np.float32)[stages] * 0.9 + 0.02


def test_statistics_and_agreement_cover_only_the_epochs_in_bed(tmp_path: Path) -> None:
    day, night = [0] * 20, [0, 0, 2, 2, 3, 3, 4, 0, 2, 0]
    predicted = day + night + day
    result = StagingResult(one_hot(predicted), START, window=InBedWindow(20, 30, GIVEN))
    stats = result.statistics()
    assert stats["tib_min"] == 5.0 and stats["tst_min"] == 3.0
    assert stats["se_pct"] == pytest.approx(60.0)
    assert stats["in_bed"]["source"] == GIVEN and stats["in_bed"]["n_epochs"] == 10
    assert stats["in_bed"]["lights_off"] == "2024-03-01T23:25:00"

    expert = np.array([*day, 0, 0, 2, 2, 3, 3, 4, 0, 1, 0, *day])
    agreement = result.agreement(expert)
    assert agreement["n_epochs"] == 10  # the 40 daytime wake epochs are not compared
    assert agreement["acc"] == pytest.approx(0.9)

    frame = result.to_frame()
    assert frame["in_bed"].tolist() == [0] * 20 + [1] * 10 + [0] * 20
    whole = StagingResult(one_hot(predicted), START).agreement(expert)
    assert whole["n_epochs"] == 50 and whole["acc"] == pytest.approx(0.98)


def test_agreement_counts_every_epoch_once() -> None:
    """Epochs the expert did not score and epochs the tool found unscorable are counted
    apart; accuracy, the confusion matrix, kappa and macro-F1 cover the same epochs."""
    predicted = [0, 0, 2, 2, 2, 3, 3, 4, 4, 0]
    quality = np.array([OK] * 4 + [FLAT] + [OK] * 5)
    result = StagingResult(one_hot(predicted), START, quality=quality)
    expert = np.array([0, 0, 2, 2, 2, 3, 2, 4, UNSCORED, 0])
    agreement = result.agreement(expert)
    assert agreement["n_unscorable"] == 1 and agreement["n_unscored"] == 1
    assert agreement["n_epochs"] == 8 == np.sum(agreement["confusion"])
    assert agreement["acc"] == pytest.approx(np.trace(agreement["confusion"]) / 8)
    assert agreement["mf1_stages"] == ["W", "N2", "N3", "REM"]


def test_stage_reads_lights_off_and_on_from_the_recordings_annotations(
    model: TinySleepNet, tmp_path: Path
) -> None:
    rng = np.random.default_rng(0)
    signal = EdfChannel("EEG Fpz-Cz", rng.normal(0, 20, 20 * 3000), 100.0)
    path = tmp_path / "night.edf"
    write_edf(path, [signal], START, annotations=[(60.0, 0.0, "Lights off"),
                                                   (450.0, 0.0, "Lights on")])  # fmt: skip
    result = stage(path, model=model)
    assert result.window == InBedWindow(2, 15, ANNOTATIONS)
    assert result.statistics()["tib_min"] == 6.5
    # times given win over the file's annotations
    given = stage(path, model=model, lights_off="23:16", lights_on="+8min")
    assert given.window == InBedWindow(2, 16, GIVEN)


def test_stage_chooses_an_automatic_window_only_when_asked(
    model: TinySleepNet, recording: Path
) -> None:
    assert stage(recording, model=model).window is None
    window = stage(recording, model=model, auto_in_bed=True).window
    assert window is not None and window.source in (AUTO, "whole recording")


def test_staging_another_channel_than_the_models_warns_naming_both(
    model: TinySleepNet, recording: Path, caplog: pytest.LogCaptureFixture
) -> None:
    result = stage(recording, model=model, channel="EEG Pz-Oz")
    (warning,) = [w for w in result.warnings if "channel" in w]
    assert "'EEG Pz-Oz'" in warning and "'EEG Fpz-Cz'" in warning
    assert warning in caplog.text
    assert not [w for w in stage(recording, model=model).warnings if "channel" in w]


def test_plot_names_the_recording_and_model_and_draws_the_expert(
    model: TinySleepNet, recording: Path, checkpoint: Path
) -> None:
    result = stage(recording, model=checkpoint)
    expert = result.stages.copy()
    expert[:3] = (expert[:3] + 1) % 5
    figure = result.plot(expert)
    assert figure.get_suptitle() == f"{recording.stem} - model {checkpoint.name}"
    labels = figure.axes[0].get_legend_handles_labels()[1]
    assert "expert" in labels and "disagree (3 epochs)" in labels
    windowed = StagingResult(result.proba, START, window=InBedWindow(2, 10, GIVEN))
    assert "(in bed 23:16:00-23:20:00 (given), 8 epochs)" in windowed.plot().get_suptitle()


def test_saved_outputs_describe_the_window(
    model: TinySleepNet, make_recording: Callable[..., Path], tmp_path: Path
) -> None:
    path = make_recording(tmp_path / "w.edf", n_epochs=12)
    saved = stage(path, model=model, lights_off="+60", lights_on="+300").save(tmp_path, "w")
    assert saved.statistics["in_bed"]["n_epochs"] == 8
    assert pd.read_csv(saved.paths["csv"])["in_bed"].sum() == 8


def test_a_malformed_time_is_refused_before_the_recording_is_read(
    model: TinySleepNet, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.edf"  # never opened: the refusal names the time
    with pytest.raises(TinySleepNetError, match=r"^lights_off '23:61': not a clock time"):
        stage(missing, model=model, lights_off="23:61")
    with pytest.raises(TinySleepNetError, match=r"^lights_on 'tomorrow': give a clock time"):
        stage(missing, model=model, lights_on="tomorrow")


def test_agreement_text_says_what_was_compared_and_left_out() -> None:
    from tinysleepnet.prediction.outputs import agreement_table

    quality = np.array([OK] * 9 + [FLAT])
    result = StagingResult(one_hot([0, 0, 2, 2, 2, 2, 0, 0, 0, 0]), START, quality=quality,
                           window=InBedWindow(1, 10, GIVEN))  # fmt: skip
    text = agreement_table(result.agreement(np.array([0, 0, 2, 2, 2, 2, 0, UNSCORED, 0, 0])))
    assert "Epochs compared   7\n" in text
    assert "in bed          2024-03-01T23:15:30 - 2024-03-01T23:20:00 (given)" in text
    assert "1 epochs: not scored by the expert" in text and "1 epochs: unscorable" in text
    assert "Macro-F1          1.000 (over W, N2)" in text
