"""Tests of the BIDS events table and its sidecar."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from tinysleepnet.nn.checkpoint import file_checksum
from tinysleepnet.prediction.bids import events_frame, events_sidecar, events_stem, write_events
from tinysleepnet.prediction.result import StagingResult
from tinysleepnet.prediction.stage import stage


def test_bids_names():
    assert events_stem("sub-01_task-sleep_eeg") == "sub-01_task-sleep_events"
    assert events_stem("SC4001E0-PSG") == "SC4001E0-PSG_events"


def test_events_table_and_sidecar_describe_every_column(tmp_path):
    stages = np.array([0, 2, 4])
    proba = np.eye(5)[stages] * 0.8 + 0.04
    proba[1] = np.nan  # an unscorable epoch
    stages[1] = -1
    frame = events_frame(stages, proba, 30.0, review=np.array([False, False, True]))
    sidecar = events_sidecar({"name": "sleep-edf-20"}, review_rule="confidence below 0.6")
    tsv, sidecar_path = write_events(tmp_path, "sub-01_task-sleep_eeg", frame, sidecar)
    assert tsv.name == "sub-01_task-sleep_events.tsv"
    text = tsv.read_text()
    assert text.splitlines()[0].split("\t") == [
        "onset", "duration", "stage", "prob_W", "prob_N1", "prob_N2", "prob_N3", "prob_REM",
        "review",
    ]  # fmt: skip
    assert text.splitlines()[2].split("\t")[:4] == ["30", "30", "n/a", "n/a"]
    table = pd.read_csv(tsv, sep="\t", na_values="n/a", keep_default_na=False)
    assert table["onset"].tolist() == [0.0, 30.0, 60.0]
    assert table["stage"].tolist()[::2] == ["W", "REM"]
    assert table["review"].tolist() == [0, 0, 1]
    described = json.loads(sidecar_path.read_text())
    assert set(table.columns) <= set(described)
    assert described["GeneratedBy"][0]["Model"] == {"name": "sleep-edf-20"}


def _card_beside(model_file: Path, name: str) -> dict:
    """Write a model card naming ``name`` into ``model_file``'s folder, describing the file."""
    card = {"name": name, "weights": {"file": "model.pt", "sha256": file_checksum(model_file)},
            "temperature": 1.25, "parent": {"name": "edf-20"}}  # fmt: skip
    (model_file.parent / "model.json").write_text(json.dumps(card))
    return card


def _sidecar_model(result: StagingResult, out: Path) -> dict:
    _, sidecar = result.to_bids(out, "night")
    return json.loads(sidecar.read_text())["GeneratedBy"][0]["Model"]


def test_the_sidecar_reads_the_card_of_a_model_folder_only(checkpoint, recording, tmp_path):
    released = tmp_path / "released"
    released.mkdir()
    shutil.copyfile(checkpoint, released / "model.pt")
    card = _card_beside(released / "model.pt", "toy")
    model = _sidecar_model(stage(recording, model=released), tmp_path / "released-out")
    assert model["model"] == str(released / "model.pt")
    assert (model["name"], model["temperature"], model["parent"]) == ("toy", 1.25, "edf-20")
    assert model["weights_sha256"] == card["weights"]["sha256"]

    # A checkpoint that is not a model folder's model.pt, beside another model's card.
    stray = tmp_path / "stray"
    stray.mkdir()
    other = stray / "other.pt"
    shutil.copyfile(checkpoint, other)
    _card_beside(other, "another-model")
    result = stage(recording, model=other)
    model = _sidecar_model(result, tmp_path / "stray-out")
    assert model["model"] == str(other) and model["model_sha256"] == file_checksum(other)
    assert not {"name", "weights_sha256", "temperature", "parent"} & set(model)
    assert result.plot().get_suptitle() == "night-PSG - model other.pt"
