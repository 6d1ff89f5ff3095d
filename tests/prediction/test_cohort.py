"""Cohort manifests, shards and the merged tables (``prediction/cohort.py``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tinysleepnet.errors import PathError, TinySleepNetError
from tinysleepnet.io.atomic import write_json
from tinysleepnet.prediction.cohort import (
    FAILURES_TABLE,
    STATISTICS_TABLE,
    Shard,
    failure_path,
    merge_cohort,
    parse_shard,
    read_cohort,
    record_outcome,
    shard_of,
)
from tinysleepnet.scoring.statistics import sleep_statistics


def write_manifest(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_parse_shard():
    assert parse_shard("3/8") == Shard(3, 8) and str(parse_shard(" 1 / 1 ")) == "1/1"
    for bad in ("3/2", "0/2", "1/0", "2", "a/b", "1/2/3", "-1/2"):
        with pytest.raises(TinySleepNetError, match=r"--shard .*expected I/N with 1 <= I <= N"):
            parse_shard(bad)


def test_read_cohort_resolves_paths_against_the_manifest(tmp_path):
    manifest = write_manifest(
        tmp_path / "lists" / "cohort.csv",
        "recording,hypnogram,channel,site\n"
        "a/night-1.edf,a/night-1-hyp.edf,,north\n"
        "/data/night-2.edf,, EEG C4-A1 ,south\n",
    )
    cohort = read_cohort(manifest)
    assert cohort["recording"].tolist() == [
        str(tmp_path / "lists/a/night-1.edf"),
        "/data/night-2.edf",
    ]
    assert cohort["hypnogram"].tolist() == [str(tmp_path / "lists/a/night-1-hyp.edf"), None]
    assert cohort["channel"].tolist() == [None, "EEG C4-A1"]
    assert cohort["name"].tolist() == ["night-1", "night-2"]
    assert cohort["site"].tolist() == ["north", "south"]  # other columns are carried along


def test_read_cohort_optional_columns_may_be_absent(tmp_path):
    cohort = read_cohort(write_manifest(tmp_path / "c.csv", "recording\nx.edf\n"))
    assert cohort["hypnogram"].tolist() == [None] and cohort["channel"].tolist() == [None]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "path,hypnogram\nx.edf,\n",
            r"missing column\(s\) recording \(columns: 'path', 'hypnogram'\)",
        ),
        ("recording,hypnogram\nx.edf,\n ,h.edf\n", r"data row 2: empty 'recording' cell"),
        ("recording\na/x.edf\nb/x.bdf\n", r"a/x\.edf and .*b/x\.bdf share the name 'x'"),
        ("", r"not a readable CSV"),
    ],
)
def test_bad_manifest_is_one_line_naming_the_file(tmp_path, text, problem):
    manifest = write_manifest(tmp_path / "cohort.csv", text)
    with pytest.raises(PathError) as info:
        read_cohort(manifest)
    message = str(info.value)
    assert message.startswith(f"{manifest}: ") and "\n" not in message
    assert re.search(problem, message), message


def test_missing_manifest(tmp_path):
    with pytest.raises(PathError, match=r"absent\.csv: file not found"):
        read_cohort(tmp_path / "absent.csv")


@pytest.mark.parametrize("count", [1, 2, 3, 5, 11, 14])
def test_shards_partition_the_cohort(tmp_path, count):
    rows = "".join(f"night-{i}.edf\n" for i in range(11))
    cohort = read_cohort(write_manifest(tmp_path / "c.csv", "recording\n" + rows))
    shards = [shard_of(cohort, Shard(i, count)) for i in range(1, count + 1)]
    names = [name for shard in shards for name in shard["name"]]
    assert sorted(names) == sorted(cohort["name"]) and len(names) == len(set(names))
    assert max(map(len, shards)) - min(map(len, shards)) <= 1
    for i, shard in enumerate(shards, start=1):  # row r belongs to shard r mod N + 1
        assert [int(n.split("-")[1]) % count + 1 for n in shard["name"]] == [i] * len(shard)


def _staged(out: Path, name: str, stages: list[int], agreement: float | None = None) -> dict:
    stats = sleep_statistics(np.array(stages))
    write_json(out / f"{name}_statistics.json", {**stats, "provenance": {"model": "m.pt"}})
    if agreement is not None:
        scores = {"acc": agreement, "mf1": 0.5, "kappa": 0.25, "confusion": [[1]]}
        write_json(out / f"{name}_agreement.json", scores)
    return stats


def test_merge_has_one_row_per_recording_and_lists_failures(tmp_path):
    manifest = write_manifest(
        tmp_path / "cohort.csv", "recording,site\nn1.edf,a\nn2.edf,b\nn3.edf,c\nn4.edf,d\n"
    )
    out = tmp_path / "out"
    out.mkdir()
    stats = _staged(out, "n1", [0, 0, 2, 2, 4, 0], agreement=0.8)
    _staged(out, "n3", [0, 2, 2, 3])
    record_outcome(out, "n2", tmp_path / "n2.edf", Shard(2, 2), "n2.edf: channel 'C3' not found")
    statistics, failures = merge_cohort(manifest, out)

    assert statistics["name"].tolist() == ["n1", "n2", "n3", "n4"]
    assert statistics["status"].tolist() == ["staged", "failed", "staged", "not staged"]
    assert statistics["site"].tolist() == ["a", "b", "c", "d"]
    n1 = statistics.iloc[0]
    assert n1["tst_min"] == stats["tst_min"] and n1["se_pct"] == pytest.approx(stats["se_pct"])
    assert n1["agreement_kappa"] == 0.25 and np.isnan(statistics["agreement_kappa"][2])
    assert "transitions" not in statistics and "provenance" not in statistics
    assert failures["name"].tolist() == ["n2", "n4"]
    assert failures["shard"][0] == "2/2" and pd.isna(failures["shard"][1])
    assert failures["error"][0] == "n2.edf: channel 'C3' not found"
    assert "its shard has not run" in failures["error"][1]

    written = pd.read_csv(out / STATISTICS_TABLE)
    assert len(written) == 4 and written["tst_min"][0] == pytest.approx(stats["tst_min"])
    assert pd.read_csv(out / FAILURES_TABLE)["name"].tolist() == ["n2", "n4"]


def test_a_later_success_clears_the_failure(tmp_path):
    manifest = write_manifest(tmp_path / "cohort.csv", "recording\nn1.edf\n")
    record_outcome(tmp_path, "n1", "n1.edf", Shard(1, 1), "n1.edf: file not found")
    record = json.loads(failure_path(tmp_path, "n1").read_text())
    assert record == {"recording": "n1.edf", "shard": "1/1", "error": "n1.edf: file not found"}
    _staged(tmp_path, "n1", [0, 2])
    record_outcome(tmp_path, "n1", "n1.edf", Shard(1, 1), None)
    assert not failure_path(tmp_path, "n1").exists()
    statistics, failures = merge_cohort(manifest, tmp_path)
    assert statistics["status"].tolist() == ["staged"] and failures.empty


def test_a_damaged_statistics_file_fails_its_recording_only(tmp_path):
    manifest = write_manifest(tmp_path / "cohort.csv", "recording\nn1.edf\nn2.edf\n")
    (tmp_path / "n1_statistics.json").write_text("{not json")
    _staged(tmp_path, "n2", [0, 2])
    statistics, failures = merge_cohort(manifest, tmp_path)
    assert statistics["status"].tolist() == ["failed", "staged"]
    assert failures["error"][0].startswith(f"{tmp_path / 'n1_statistics.json'}: not readable")


def test_outputs_of_another_recording_of_the_same_name_are_not_taken_as_staged(tmp_path):
    manifest = write_manifest(tmp_path / "cohort.csv", "recording\nsite_b/n1.edf\nn2.edf\n")
    out = tmp_path / "out"
    out.mkdir()
    stats = sleep_statistics(np.array([0, 2, 2]))
    stale = out / "n1_statistics.json"  # left by staging site_a/n1.edf into the same folder
    write_json(stale, {**stats, "provenance": {"input": str(tmp_path / "site_a" / "n1.edf")}})
    here = {"input": str(tmp_path / "." / "n2.edf")}  # the same file, spelled otherwise
    write_json(out / "n2_statistics.json", {**stats, "provenance": here})
    statistics, failures = merge_cohort(manifest, out)
    assert statistics["status"].tolist() == ["not staged", "staged"]
    assert np.isnan(statistics["tst_min"][0])
    assert failures["error"][0] == (
        f"{stale} holds the staging of {tmp_path / 'site_a' / 'n1.edf'}, another recording of "
        "the same name: stage this one again"
    )
