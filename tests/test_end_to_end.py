"""End to end through the command line: simulate -> prepare -> cv -> evaluate.

Short simulated nights whose stages differ clearly in spectral content, a small network and
a few passes: the pooled cross-validation scores must beat chance by a clear margin.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tinysleepnet.cli import main
from tinysleepnet.data.simulate import simulate_cohort

#: A small network without dropout, one night per step and the one-cycle schedule of the
#: "fast" preset over 12 passes: it learns these nights in a few seconds.
SETTINGS = [
    "--preset", "fast",
    "--epochs", "12",
    "--n-filters", "32",
    "--lstm-units", "32",
    "--dropout", "0",
    "--batch-nights", "1",
    "--seq-len", "10",
    "--lr", "1e-3",
    "--device", "cpu",
]  # fmt: skip


@pytest.mark.slow
def test_simulate_prepare_cv_evaluate(tmp_path, capsys):
    raw, prepared, run = tmp_path / "raw", tmp_path / "prepared", tmp_path / "run"
    simulate_cohort(raw, range(8), n_epochs=120, difficulty=0.3, quirks=False, seed=0)

    assert main(["prepare", str(raw), str(prepared)]) == 0
    assert main(["cv", str(prepared), "--folds", "2", "--out", str(run), *SETTINGS]) == 0
    printed = capsys.readouterr().out
    assert "| ACC | MF1 | kappa |" in printed  # all folds done: the report is printed

    scores = json.loads((run / "evaluation" / "scores.json").read_text())
    pooled = scores["pooled"]
    majority = np.max(np.sum(pooled["confusion"], axis=1)) / pooled["n_epochs"]
    assert not scores["partial"] and len(scores["folds"]) == 2
    assert pooled["acc"] > majority + 0.2
    assert pooled["mf1"] > 0.4
    assert pooled["kappa"] > 0.4
