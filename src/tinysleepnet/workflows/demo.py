"""The whole pipeline in one call: recordings -> prepared nights -> cross-validation -> scores.

This is what ``tinysleepnet demo`` runs, in five steps (:data:`DEMO`, over the run folder of
:class:`~tinysleepnet.workflows.layout.RunFolder`), each announced by a log line
(``[1/5] ...``) and each resumed when rerun:

1. recordings: without data, a Sleep-EDF-shaped cohort is simulated whose EEG follows the
   official expert hypnograms packaged with tinysleepnet (Sleep-EDF subjects 0-7, real night
   lengths), so the class balance, stage durations and transitions are those of real nights;
2. ``prepare``: the nights cut into 30-s epochs;
3. subject-wise cross-validation: one model per fold, its test subjects staged;
4. ``evaluate``: pooled scores, calibration and figures;
5. ``predict`` on one recording of the first fold's test subjects, with that fold's model.

The embedded demo's size and settings have one home, :func:`demo_cohort` and
:func:`demo_config`: a small default that runs in minutes on 2 cores, and the full size
(``full=True``, ``tinysleepnet demo --full``). This module imports only the settings at
start-up (and the workflow machinery, which imports what each step calls when it runs), so
the command line's ``--help`` can show them without loading torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Config, preset
from ..text import counted
from .layout import RunFolder
from .steps import Experiment, Marker, Step, StepLog, experiment


@dataclass(frozen=True)
class DemoCohort:
    """The simulated cohort of the embedded demo and its folds.

    Attributes
    ----------
    subjects : tuple of int
        Sleep-EDF subjects whose official hypnograms the simulated EEG follows (0-7).
    nights : tuple of int
        Nights of each subject (1 and/or 2).
    n_folds : int
        Subject-wise folds.
    """

    subjects: tuple[int, ...]
    nights: tuple[int, ...]
    n_folds: int

    @property
    def n_nights(self) -> int:
        """Nights in the cohort."""
        return len(self.subjects) * len(self.nights)

    @property
    def disk_mb(self) -> int:
        """About what the demo writes, in MB: per night its simulated EDF files (about
        47 MB: 22 h of 3 channels at 100 Hz and 4 at 1 Hz) and its prepared epochs (about
        13 MB), and per fold its checkpoints (about 30 MB)."""
        return 60 * self.n_nights + 30 * self.n_folds


def demo_cohort(full: bool = False) -> DemoCohort:
    """The embedded demo's cohort: subjects 0-7, night 1 each, in 2 folds of 4 subjects.

    ``full=True``: both nights of each subject (16 nights), 4 folds of 2 subjects.
    """
    if full:
        return DemoCohort(subjects=tuple(range(8)), nights=(1, 2), n_folds=4)
    return DemoCohort(subjects=tuple(range(8)), nights=(1,), n_folds=2)


def demo_config(full: bool = False) -> Config:
    """Settings of the embedded demo: the paper's optimiser with the fast preset's speed-ups.

    The paper's Adam at a constant learning rate of 3e-4 (the paper's 1e-4 scored ACC 64.3,
    kappa 0.46 on the simulated cohort in 10 passes, against 68.5 and 0.54), with 2 nights
    per minibatch, the
    signal in units of 20 uV, nights cut into 3-h segments for training and bfloat16 where
    the hardware has it, so that the model leaves the one-stage solution within the few
    passes a demo can afford on 2 cores: 10 passes over 3 training nights per fold, about
    160 CPU-seconds of training in float32 (8 passes took 120 but scored 9 points lower;
    the one-cycle schedule of the ``fast`` preset as it then was, at a 10x peak rate, did
    not leave the one-stage solution in 8 passes over so few nights). ``full=True``:
    5 passes over the 12 training nights of each fold. Like ``fast``, it keeps the fused
    LSTM, PyTorch's initialisation and the best-macro-F1 checkpoint.

    Wake weighs twice in the loss (the paper's weights are 1, 1.5, 1, 1, 1 for W, N1, N2,
    N3, REM). On the simulator whose wake ranges from quiet to active, as the real night
    SC4001E0's does, the paper's weights left the demo calling 11 of its 7,647 test epochs W
    (wake F1 0.9, MF1 52.9: true wake staged N2 56 %, N3 23 %, N1 12 %; its eye movements
    look like slow waves, and 10 passes over 3 nights do not find its muscle). With wake at
    2 the pooled scores are ACC 67.8, MF1 57.1, kappa 0.54, wake F1 21.4 (float32, 2
    threads); at 3 wake took N3's slow waves too (fold 0: N3 never predicted, MF1 42.8).
    """
    return preset(
        "paper",
        peepholes=False,
        init="pytorch",
        monitor="mf1",
        lr=3e-4,
        class_weights=(2.0, 1.5, 1.0, 1.0, 1.0),
        batch_nights=2,
        input_scale=0.05,
        segment_epochs=360,
        precision="bfloat16",
        max_passes=5 if full else 10,
    ).replace(extra={"preset": "demo-full" if full else "demo"})


def run_pipeline(
    out: str | Path,
    data: str | Path | None = None,
    *,
    n_folds: int | None = None,
    config: Config | None = None,
    full: bool = False,
    n_jobs: int = 2,
    progress: bool = True,
) -> dict[str, Any]:
    """Prepare, cross-validate, evaluate and stage one recording; simulate the recordings
    first when none are given.

    Parameters
    ----------
    out : str or Path
        Working folder; receives ``recordings/`` (simulated only), ``prepared/``, ``run/``
        and ``staged/``. Every step resumes, so rerunning after an interruption continues
        where it stopped.
    data : str or Path or None
        Folder of Sleep-EDF recordings (PSG and hypnogram EDF pairs). ``None`` simulates
        the demo's cohort (:func:`demo_cohort`) from the packaged official hypnograms.
    n_folds : int or None
        Subject-wise folds; default the demo cohort's for the simulated cohort, and one
        subject per fold up to 20 (10 beyond 20 subjects, as the paper) for real data.
    config : Config or None
        Training settings; default :func:`demo_config` for the simulated cohort, the
        paper's recipe for real data.
    full : bool
        The full-size demo cohort and settings (``demo_cohort(full=True)``).
    n_jobs : int
        Nights simulated and prepared in parallel.
    progress : bool
        Show progress bars (on a terminal).

    Returns
    -------
    dict
        The evaluation (see :func:`~tinysleepnet.evaluation.report.evaluate_run`), with the
        class-counts table of the prepared data under ``"counts_table"``, the Markdown
        summary of the run (:func:`~tinysleepnet.evaluation.report.summary_markdown`) under
        ``"summary"``, and the staging of stage 5 under ``"staged"`` (its files, and the
        command that stages a recording so).
    """
    from ..data.prepare import class_counts_table
    from ..evaluation.report import summary_markdown

    cohort = demo_cohort(full) if data is None else None
    if cohort is not None:
        config = config or demo_config(full)
        n_folds = n_folds or cohort.n_folds
    config = config or preset("paper")
    folder = RunFolder(Path(out), "demo")
    run = _DemoRun(
        folder=folder,
        config=config,
        n_folds=n_folds,
        n_jobs=n_jobs,
        progress=progress,
        recordings=folder.recordings if data is None else Path(data),
        prepare_settings={
            "channel": config.channel,
            "sfreq": config.sfreq,
            "epoch_sec": config.epoch_sec,
        },
        cohort=cohort,
    )
    DEMO.run(run)
    assert run.evaluation is not None and run.manifest is not None, "every fold runs here"
    result = run.evaluation
    result["counts_table"] = class_counts_table(run.manifest)
    result["summary"] = summary_markdown(result)
    result["staged"] = run.staged
    return result


@dataclass(kw_only=True)
class _DemoRun(Experiment):
    """The demo's state: the cohort to simulate (None for given recordings); what stage 5
    staged."""

    cohort: DemoCohort | None
    staged: dict[str, Any] | None = None

    def cv_header(self, n_folds: int) -> tuple[Any, ...]:
        import torch

        return (
            "cross-validating: %s, %s each, %s, in %s",
            counted(n_folds, "fold"),
            counted(self.config.max_passes, "pass"),
            counted(self.config.threads or torch.get_num_threads(), "torch thread"),
            self.folder.cv,
        )


def _recordings(run: _DemoRun, log: StepLog) -> None:
    """[1/5] The given recordings, or the demo's simulated ones written."""
    if run.cohort is None:
        log("recordings in %s", run.recordings)
        return
    from ..data.simulate import simulate_cohort

    log(
        "simulating %d Sleep-EDF-shaped nights (EDF files, about 50 MB each) into %s",
        run.cohort.n_nights,
        run.recordings,
    )
    simulate_cohort(
        run.recordings,
        subjects=run.cohort.subjects,
        nights=run.cohort.nights,
        from_official=True,
        n_jobs=run.n_jobs,
        progress=run.progress,
    )


def _simulated(run: _DemoRun) -> Marker | None:
    """The mark of a finished simulation of the demo's cohort (none for given recordings)."""
    if run.cohort is None:
        return None
    return Marker(
        run.recordings / ".simulated",
        repr(run.cohort),
        f"{run.cohort.n_nights} simulated nights already in {run.recordings}",
    )


def _stage_one(run: _DemoRun, log: StepLog) -> None:
    """[5/5] Stage the first test night of fold 0 as ``tinysleepnet predict`` does, with
    its expert hypnogram."""
    from ..data.sleep_edf import find_sleep_edf_pairs
    from ..evaluation.cv import read_folds
    from ..evaluation.run import CvRun
    from ..prediction.expert import expert_labels
    from ..prediction.stage import stage

    assert run.manifest is not None, "stage 5 comes last"
    manifest, cv, out = run.manifest, run.folder.cv, run.folder.staged
    test_subjects = read_folds(cv)["folds"][0]["test_subjects"]
    pairs = find_sleep_edf_pairs(run.recordings).set_index("name")
    name = manifest.loc[manifest["subject"].isin(test_subjects), "name"].iloc[0]
    psg, hypnogram = Path(pairs.loc[name, "psg"]), Path(pairs.loc[name, "hypnogram"])
    model = CvRun(cv).fold(0).best_path
    log("staging %s with %s (a test subject of that fold)", psg, model)
    result = stage(psg, model)
    expert, _ = expert_labels(hypnogram, result, result.start)
    saved = result.save(out, psg.stem, expert)
    command = f"tinysleepnet predict {psg} --model {model} --out {out} --hypnogram {hypnogram}"
    run.staged = {"paths": saved.paths, "agreement": saved.agreement, "command": command}


#: The demo's steps: [1/5] recordings (simulated unless given), [2/5] prepare, [3/5]
#: cross-validate, [4/5] evaluate, [5/5] stage one test recording.
DEMO = experiment(Step("recordings", _recordings, marker=_simulated), Step("stage", _stage_one))
