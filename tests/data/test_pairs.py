"""The pairs-CSV adapter: a CSV's nights, cut and defaulted as the dataset it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinysleepnet.data.datasets import dataset
from tinysleepnet.data.pairs import PairsCsv, read_pairs_csv
from tinysleepnet.errors import PathError


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_takes_the_named_datasets_defaults_and_epoching(tmp_path):
    csv = write_csv(tmp_path / "pairs.csv", "psg,hypnogram,subject,night\na.edf,a.txt,1,1\n")
    for name in ("sleep-edf", "mass-ss5"):
        like = dataset(name)
        pairs = dataset(name, pairs_csv=csv)
        assert isinstance(pairs, PairsCsv) and pairs.like is like
        assert (pairs.name, pairs.channel, pairs.sfreq, pairs.epoch_sec, pairs.trim) == (
            like.name, like.channel, like.sfreq, like.epoch_sec, like.trim,
        )  # fmt: skip
        assert pairs.epochs_from == like.epochs_from
        assert pairs.file_pattern == like.file_pattern
    found = dataset("sleep-edf", pairs_csv=csv).find_pairs(tmp_path / "src")
    assert list(found["name"]) == ["a"] and found["psg"][0] == tmp_path / "src" / "a.edf"


def test_names_default_to_the_psg_stem_and_must_be_unique(tmp_path):
    named = write_csv(
        tmp_path / "named.csv",
        "psg,hypnogram,subject,night,name\nx/n1.edf,n1.csv,07,2,\nx/n2.edf,n2.csv,07,1,two\n",
    )
    pairs = read_pairs_csv(named, tmp_path)
    assert list(pairs["name"]) == ["n1", "two"] and list(pairs["night"]) == [2, 1]
    assert list(pairs["subject"]) == ["07", "07"]
    twice = write_csv(tmp_path / "twice.csv", "psg,hypnogram,subject,night\na.edf,h,1,1\n"
                      "b/a.edf,h,1,2\n")  # fmt: skip
    with pytest.raises(PathError, match=r"twice\.csv: night names must be unique"):
        read_pairs_csv(twice, tmp_path)
