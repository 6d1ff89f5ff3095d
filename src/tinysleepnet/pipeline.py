"""The whole pipeline in one call: recordings -> prepared nights -> cross-validation -> scores.

This is what ``tinysleepnet demo`` runs. Without data it first simulates a Sleep-EDF-shaped
cohort whose EEG follows the official expert hypnograms packaged with tinysleepnet (subjects
0-7, both nights, real lengths), so the class balance, stage durations and transitions are
those of real nights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import Config, preset
from .data.nights import read_manifest
from .data.prepare import class_counts_table, prepare
from .data.simulate import simulate_cohort
from .evaluation.cv import cross_validate
from .evaluation.report import evaluate_run, summary_markdown

#: The embedded default: 4 folds of 2 subjects each.
DEMO_FOLDS = 4


def demo_config() -> Config:
    """Settings of the embedded demo: the paper's optimiser with the fast preset's speed-ups.

    Five passes at the paper's constant learning rate (1e-4), with 2 nights per minibatch,
    the signal in units of 20 uV, nights cut into 3-h segments for training and bfloat16
    where the hardware has it, so that the model leaves the one-stage solution within the
    few passes a demo can afford on 2 cores. (The ``fast`` preset's one-cycle schedule
    spread over 5 passes left that solution later on some folds.) Like ``fast``, it keeps
    the fused LSTM, PyTorch's initialisation and the best-macro-F1 checkpoint, the settings
    its published scores were measured with.
    """
    return preset(
        "paper",
        peepholes=False,
        init="pytorch",
        monitor="mf1",
        batch_nights=2,
        input_scale=0.05,
        segment_epochs=360,
        precision="bfloat16",
        max_passes=5,
    ).replace(extra={"preset": "demo"})


def run_pipeline(
    out: str | Path,
    data: str | Path | None = None,
    *,
    n_folds: int | None = None,
    config: Config | None = None,
    n_jobs: int = 2,
    progress: bool = True,
) -> dict[str, Any]:
    """Prepare, cross-validate and evaluate; simulate the recordings first when none are given.

    Parameters
    ----------
    out : str or Path
        Working folder; receives ``recordings/`` (simulated only), ``prepared/`` and ``run/``.
        Every step resumes, so rerunning after an interruption continues where it stopped.
    data : str or Path or None
        Folder of Sleep-EDF recordings (PSG and hypnogram EDF pairs). ``None`` simulates the
        default cohort from the packaged official hypnograms.
    n_folds : int or None
        Subject-wise folds; default :data:`DEMO_FOLDS` for the simulated cohort, and one
        subject per fold up to 20 (10 beyond 20 subjects, as the paper) for real data.
    config : Config or None
        Training settings; default :func:`demo_config` for the simulated cohort, the
        paper's recipe for real data.
    n_jobs : int
        Nights simulated and prepared in parallel.
    progress : bool
        Show progress bars.

    Returns
    -------
    dict
        The evaluation (see :func:`~tinysleepnet.evaluation.report.evaluate_run`), with the
        class-counts table of the prepared data under ``"counts_table"`` and the Markdown
        summary of the run (:func:`~tinysleepnet.evaluation.report.summary_markdown`) under
        ``"summary"``.
    """
    out = Path(out)
    if data is None:
        data = out / "recordings"
        done = data / ".simulated"  # written last: an interrupted simulation starts again
        if not done.exists():
            simulate_cohort(data, subjects=range(8), from_official=True, n_jobs=n_jobs)
            done.touch()
        config = config or demo_config()
        n_folds = n_folds or DEMO_FOLDS
    config = config or preset("paper")
    prepared = out / "prepared"
    prepare(
        data,
        prepared,
        channel=config.channel,
        sfreq=config.sfreq,
        epoch_sec=config.epoch_sec,
        n_jobs=n_jobs,
        progress=progress,
    )
    manifest = read_manifest(prepared)
    if n_folds is None:
        n_subjects = manifest["subject"].nunique()
        n_folds = n_subjects if n_subjects <= 20 else 10
    run = out / "run"
    cross_validate(prepared, run, n_folds=n_folds, config=config, progress=progress)
    result = evaluate_run(run)
    result["counts_table"] = class_counts_table(manifest)
    result["summary"] = summary_markdown(result)
    return result
