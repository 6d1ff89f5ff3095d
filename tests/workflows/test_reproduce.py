"""`tinysleepnet reproduce`: a row of the paper's table end to end on simulated cohorts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tinysleepnet.cli import main
from tinysleepnet.data.datasets import protocol
from tinysleepnet.data.simulate import simulate_cohort
from tinysleepnet.data.simulate.mass import simulate_mass_cohort
from tinysleepnet.data.sleep_edf import SleepEdf
from tinysleepnet.errors import TinySleepNetError
from tinysleepnet.evaluation.cv import is_done
from tinysleepnet.prediction.stage import stage
from tinysleepnet.scoring.statistics import sleep_statistics
from tinysleepnet.stages import STAGES
from tinysleepnet.workflows import reproduce as reproduce_module
from tinysleepnet.workflows.reproduce import (
    STALL_DECISION,
    compare_with_paper,
    comparison_markdown,
    paper_config,
    reproduce,
)

QUICK = {"max_passes": 1, "n_folds": 2, "device": "cpu", "progress": False}


@pytest.fixture
def no_download(monkeypatch):
    """Record the Sleep-EDF subjects reproduce asks PhysioNet for; download nothing."""
    asked: list[list[int]] = []
    monkeypatch.setattr(
        SleepEdf, "download", lambda self, subjects, dest, nights=None: asked.append(subjects)
    )
    return asked


def check_comparison(run, row):
    """The comparison files exist and hold the paper's figures beside ours."""
    written = json.loads((run / "evaluation" / "paper_comparison.json").read_text())
    markdown = (run / "evaluation" / "paper_comparison.md").read_text()
    spec = protocol(row)
    assert [r["metric"] for r in written["scores"]] == [
        "acc", "mf1", "kappa", *(f"f1_{s}" for s in STAGES)
    ]  # fmt: skip
    paper = {r["metric"]: r["paper"] for r in written["scores"]}
    assert paper == spec.published()
    for r in written["scores"]:
        assert r["difference"] == pytest.approx(r["ours"] - r["paper"])
    assert written["test_epochs"]["paper"] == spec.test_epochs
    # the count mismatch is the first thing said
    assert written["warnings"][0].startswith("test epochs differ")
    body = markdown.split("\n", 2)[2]
    assert body.startswith(f"- **Test epochs differ: {written['test_epochs']['ours']:,} pooled")
    assert f"| ACC (%) | {spec.acc:.1f} |" in markdown
    return written


def test_sleep_edf_row_end_to_end(tmp_path, no_download):
    data, run = tmp_path / "sleep-edf", tmp_path / "run"
    simulate_cohort(data, subjects=[0, 1, 2, 3, 20], n_epochs=80, quirks=False)
    comparison = reproduce("sleep-edf-20", run, data, **QUICK)
    # nights the row lacks are fetched from PhysioNet (here: recorded, not downloaded)
    assert no_download == [list(range(4, 20))]
    # only the row's subjects are prepared: subject 20 is not in Sleep-EDF-20
    manifest = (run / "prepared" / "manifest.csv").read_text()
    assert "SC4201E0" not in manifest and "SC4001E0" in manifest
    written = check_comparison(run, "sleep-edf-20")
    assert written == comparison
    assert written["warnings"][1:] == [
        "2 folds run, the paper's protocol has 20",
        "training capped at 1 passes (paper: 200)",
    ]


def test_mass_row_end_to_end_and_resumed(tmp_path, capsys):
    data, run = tmp_path / "mass", tmp_path / "run"
    simulate_mass_cohort(data, 3, [1, 2, 3, 4], n_epochs=50)
    args = ["reproduce", "mass-ss3", "--data", str(data), "--out", str(run), "--epochs", "1"]
    args += ["--n-folds", "2", "--device", "cpu"]
    # prepared once, then one fold, as one job of a cluster array: no comparison yet
    assert main([*args, "--prepare-only"]) == 0
    assert (run / "prepared" / "manifest.csv").is_file() and not list(run.glob("fold_*"))
    assert main([*args, "--fold", "1"]) == 0
    assert is_done(run, 1) and not is_done(run, 0)
    assert not (run / "evaluation").exists()
    err = capsys.readouterr().err
    assert "[2/4] preparing" in err and "1 of 2 folds still to run (0)" in err
    assert "channel 'EEG F4-LER' used for" in err  # even subjects' EEG name
    done_1 = (run / "fold_01" / "DONE").stat().st_mtime_ns
    # the rerun continues: fold 1 is not trained again
    assert main(args) == 0
    assert (run / "fold_01" / "DONE").stat().st_mtime_ns == done_1
    captured = capsys.readouterr()
    assert "# TinySleepNet vs the paper: MASS-SS3" in captured.out
    assert "[4/4] evaluating" in captured.err
    check_comparison(run, "mass-ss3")
    # the trained model stages a MASS PSG on its own derived channel, in 30-s epochs
    psg = str(data / "01-03-0002 PSG.edf")
    model = str(run / "fold_00" / "best.pt")
    assert main(["predict", psg, "--model", model, "--out", str(tmp_path / "staged")]) == 0
    csv = (tmp_path / "staged" / "01-03-0002 PSG_hypnogram.csv").read_text().splitlines()
    assert csv[1].startswith("0,30,")


def test_mass_row_without_data_says_what_it_needs(tmp_path, capsys):
    assert main(["reproduce", "mass-ss4", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "mass-ss4 needs the MASS recordings" in err
    assert "each of the 40 MASS-SS4 subjects, '01-04-NNNN PSG.edf'" in err
    assert "'EEG C4-CLE' or 'EEG C4-LER' and 'EOG Left Horiz'" in err
    assert "'01-04-NNNN Base.edf'" in err and "ceams-carsm.ca" in err


def evaluated_run(spec, **fields):
    """What ``evaluate_run`` gives for a run scoring the paper's figures on its epoch count."""
    per_stage = {s: {"f1": 0.8} for s in STAGES}
    pooled = {"acc": 0.854, "mf1": 0.805, "kappa": 0.8, "per_stage": per_stage,
              "n_epochs": spec.test_epochs}  # fmt: skip
    return {"run_dir": "run", "pooled": pooled, **fields}


def test_matching_count_is_not_flagged():
    spec = protocol("sleep-edf-20")
    result = evaluated_run(spec)
    comparison = compare_with_paper(spec, result, n_folds=20, config=paper_config(spec))
    assert comparison["warnings"] == []
    assert comparison["test_epochs"] == {"paper": 44_220, "ours": 44_220, "match": True}
    acc = comparison["scores"][0]
    assert acc["ours"] == pytest.approx(85.4) and acc["difference"] == pytest.approx(0.0)
    off = compare_with_paper(
        spec, {**result, "pooled": {**result["pooled"], "n_epochs": 44_219}}, n_folds=20,
        config=paper_config(spec),
    )  # fmt: skip
    assert off["warnings"] == [
        "test epochs differ: 44,219 pooled here, 44,220 in the paper; the recordings or "
        "their preparation differ, so the scores are not measured on the same epochs"
    ]


def test_20_s_epochs_end_to_end(tmp_path):
    """MASS-SS5: a model trained on 20-s epochs of 5,120 samples stages 20-s epochs."""
    data, run = tmp_path / "mass", tmp_path / "run"
    cohort = simulate_mass_cohort(data, 5, [1, 2, 3, 4], n_epochs=60)
    reproduce("mass-ss5", run, data, **QUICK)
    check_comparison(run, "mass-ss5")
    psg = cohort["psg"][1]  # an "EEG F4-LER" subject; the model's channel finds it
    result = stage(psg, model=run / "fold_00" / "best.pt")
    assert result.epoch_sec == 20.0
    seconds = int(np.floor(cohort["offset_sec"][1] + 59.5 * 20))  # the PSG's length
    assert result.n_epochs == seconds // 20
    assert result.statistics()["tib_min"] == pytest.approx(result.n_epochs / 3)
    assert result.to_frame()["duration_sec"].eq(20.0).all()


def test_one_20_s_wake_epoch_is_an_awakening():
    stats = sleep_statistics(np.array([0, 2, 0, 2, 2]), 20.0)
    assert stats["n_awakenings"] == 1 and stats["waso_min"] == pytest.approx(1 / 3)


def test_unknown_row(tmp_path):
    with pytest.raises(TinySleepNetError, match="unknown protocol 'mass'"):
        reproduce("mass", tmp_path)


def test_restarted_folds_are_named_in_the_comparison():
    spec = protocol("sleep-edf-20")
    result = evaluated_run(
        spec,
        folds=[{"fold": i} for i in range(20)],
        restarted_folds=[{"fold": 3, "after_pass": 5}, {"fold": 11, "after_pass": 7}],
    )
    comparison = compare_with_paper(spec, result, n_folds=20, config=paper_config(spec))
    assert comparison["warnings"] == [
        "2 of 20 folds stalled and were restarted with the stall remedy (input_scale=0.05, "
        "segment_epochs=360): fold 3 after pass 5, fold 11 after pass 7; their scores are "
        "not the paper recipe's (`--on-stall warn` keeps every fold exact)"
    ]
    markdown = comparison_markdown(comparison)
    assert "- **2 of 20 folds stalled and were restarted" in markdown
    # the decision and its figures, for a reader of the comparison alone
    assert markdown.rstrip().endswith(STALL_DECISION) and "SC4001E0" in STALL_DECISION
    assert comparison["setup"].endswith(
        "paper preset (a stalled fold restarted once with the stall remedy)"
    )
    exact = paper_config(spec, on_stall="warn")
    assert compare_with_paper(spec, {**result, "restarted_folds": []}, n_folds=20, config=exact)[
        "setup"
    ].endswith("(a stalled fold warned about, the recipe kept exact)")
    assert STALL_DECISION not in comparison_markdown(
        compare_with_paper(spec, {**result, "restarted_folds": []}, n_folds=20, config=exact)
    )


def test_stalled_folds_are_restarted_unless_asked_to_keep_the_recipe_exact(tmp_path, monkeypatch):
    assert paper_config(protocol("sleep-edf-20")).on_stall == "rescale"
    asked = []
    monkeypatch.setattr(reproduce_module, "reproduce", lambda *a, **k: asked.append(k))
    for flags in ([], ["--on-stall", "warn"]):
        assert main(["reproduce", "sleep-edf-20", "--out", str(tmp_path), *flags]) == 0
    assert [k["on_stall"] for k in asked] == ["rescale", "warn"]
