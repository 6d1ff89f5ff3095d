"""``tinysleepnet predict --manifest --shard`` and ``tinysleepnet merge`` end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from tinysleepnet.cli import main
from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.prediction.stage import stage


def test_shards_stage_a_cohort_and_merge_lists_every_recording(
    make_recording: Callable[..., Path],
    checkpoint: Path,
    model: TinySleepNet,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for i in range(3):
        make_recording(data / f"rec{i}.edf", n_epochs=4, seed=i)
    manifest = data / "cohort.csv"  # relative paths: from the manifest's folder
    manifest.write_text(
        "recording,channel\nrec0.edf,\nrec1.edf,EEG Pz-Oz\nabsent.edf,\nrec2.edf,\n"
    )
    out = tmp_path / "out"
    common = ["--manifest", str(manifest), "--model", str(checkpoint), "--out", str(out)]
    # shard 1 of 2: rows 0 and 2 (rec0, absent.edf); shard 2: rows 1 and 3 (rec1, rec2)
    codes = [main(["predict", *common, "--shard", f"{i}/2", "--jobs", "1"]) for i in (1, 2)]
    assert codes == [1, 0]
    assert "absent.edf" in capsys.readouterr().err

    plain = tmp_path / "plain"
    assert (
        main(["predict", str(data / "rec0.edf"), "--model", str(checkpoint), "--out", str(plain)])
        == 0
    )
    # the same outputs as a plain run (the provenance records when each was made)
    assert (out / "rec0_hypnogram.csv").read_bytes() == (plain / "rec0_hypnogram.csv").read_bytes()
    sharded, alone = (json.loads((d / "rec0_statistics.json").read_text()) for d in (out, plain))
    assert {k: v for k, v in sharded.items() if k != "provenance"} == {
        k: v for k, v in alone.items() if k != "provenance"
    }
    assert sorted(p.name[5:] for p in out.glob("rec0_*")) == sorted(
        p.name[5:] for p in plain.glob("rec0_*")
    )
    pz_oz = stage(data / "rec1.edf", channel="EEG Pz-Oz", model=model)  # the row's channel
    assert pd.read_csv(out / "rec1_hypnogram.csv")["stage"].tolist() == pz_oz.stage_names
    failure = json.loads((out / "absent_failed.json").read_text())
    assert failure["shard"] == "1/2" and failure["error"].startswith(str(data / "absent.edf"))
    capsys.readouterr()

    assert main(["merge", "--manifest", str(manifest), "--out", str(out)]) == 1
    printed = capsys.readouterr()
    assert printed.out.startswith("3 of 4 recordings staged")
    assert f"absent (failed): {data / 'absent.edf'}" in printed.err
    table = pd.read_csv(out / "cohort_statistics.csv")
    assert table["name"].tolist() == ["rec0", "rec1", "absent", "rec2"]
    assert table["status"].tolist() == ["staged", "staged", "failed", "staged"]
    assert (table["tib_min"][[0, 1, 3]] == 2.0).all()
    assert pd.read_csv(out / "cohort_failures.csv")["name"].tolist() == ["absent"]


@pytest.mark.parametrize(
    ("manifest_text", "flags", "message"),
    [
        ("path\nrec.edf\n", [], "{manifest}: missing column(s) recording (columns: 'path')"),
        ("recording\nrec.edf\n", ["--shard", "3/2"], "--shard '3/2': expected I/N with 1 <= I"),
        ("recording\nrec.edf\n", ["--shard", "1-2"], "--shard '1-2': expected I/N with 1 <= I"),
        ("recording\nrec.edf\n", ["extra.edf"], "give recording files or --manifest, not both"),
    ],
)
def test_bad_cohort_input_is_one_line(
    checkpoint: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    manifest_text: str,
    flags: list[str],
    message: str,
) -> None:
    manifest = tmp_path / "cohort.csv"
    manifest.write_text(manifest_text)
    argv = ["predict", "--manifest", str(manifest), "--model", str(checkpoint), "--out", "o"]
    assert main([*argv, *flags]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith(
        "tinysleepnet: error: " + message.format(manifest=manifest)
    )


def test_shard_needs_a_manifest(checkpoint: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["predict", "r.edf", "--model", str(checkpoint), "--out", "o", "--shard", "1/2"]) == 2
    )
    assert "--shard needs --manifest" in capsys.readouterr().err
