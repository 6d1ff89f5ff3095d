"""Tests of the BIDS events table and its sidecar."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from tinysleepnet.prediction.bids import events_frame, events_sidecar, events_stem, write_events


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
