"""The whole pipeline in one call: recordings -> prepared nights -> cross-validation -> scores.

This is what ``tinysleepnet demo`` runs, in five stages, each announced by a log line
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
start-up, so the command line's ``--help`` can show them without loading torch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import Config, preset
from .text import counted

logger = logging.getLogger("tinysleepnet")

#: Folders of a pipeline's working folder.
RECORDINGS_DIR, PREPARED_DIR, RUN_DIR, STAGED_DIR = "recordings", "prepared", "run", "staged"


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
    the one-cycle schedule of the ``fast`` preset, at its 10x peak rate, did not leave the
    one-stage solution in 8 passes over so few nights). ``full=True``:
    5 passes over the 12 training nights of each fold. Like ``fast``, it keeps the fused
    LSTM, PyTorch's initialisation and the best-macro-F1 checkpoint.
    """
    return preset(
        "paper",
        peepholes=False,
        init="pytorch",
        monitor="mf1",
        lr=3e-4,
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
    from .data.prepare import class_counts_table, prepare
    from .evaluation.cv import cross_validate, fold_dir, read_folds
    from .evaluation.report import evaluate_run, summary_markdown

    out = Path(out)
    if data is None:
        cohort = demo_cohort(full)
        data = _simulated(out / RECORDINGS_DIR, cohort, n_jobs, progress)
        config = config or demo_config(full)
        n_folds = n_folds or cohort.n_folds
    else:
        logger.info("[1/5] recordings in %s", data)
    config = config or preset("paper")
    prepared = out / PREPARED_DIR
    logger.info("[2/5] preparing the nights into %s", prepared)
    manifest = prepare(
        data,
        prepared,
        channel=config.channel,
        sfreq=config.sfreq,
        epoch_sec=config.epoch_sec,
        n_jobs=n_jobs,
        progress=progress,
    )
    logger.info(
        "      %d nights of %d subjects, %s scored epochs",
        len(manifest),
        manifest["subject"].nunique(),
        f"{int(manifest['n_epochs'].sum()):,}",
    )
    if n_folds is None:
        n_subjects = manifest["subject"].nunique()
        n_folds = n_subjects if n_subjects <= 20 else 10
    run = out / RUN_DIR
    import torch

    logger.info(
        "[3/5] cross-validating: %s, %s each, %s, in %s",
        counted(n_folds, "fold"),
        counted(config.max_passes, "pass"),
        counted(config.threads or torch.get_num_threads(), "torch thread"),
        run,
    )
    cross_validate(prepared, run, n_folds=n_folds, config=config, progress=progress)
    logger.info("[4/5] evaluating the pooled test epochs into %s", run / "evaluation")
    result = evaluate_run(run)
    result["counts_table"] = class_counts_table(manifest)
    result["summary"] = summary_markdown(result)
    first = read_folds(run)["folds"][0]
    result["staged"] = _stage_one(
        Path(data), manifest, first["test_subjects"], fold_dir(run, 0), out / STAGED_DIR
    )
    return result


def _simulated(folder: Path, cohort: DemoCohort, n_jobs: int, progress: bool) -> Path:
    """[1/5] The demo's simulated recordings, written unless an earlier run finished them."""
    from .data.simulate import simulate_cohort

    done = folder / ".simulated"  # written last: an interrupted simulation starts again
    if done.is_file() and done.read_text(encoding="utf-8") == repr(cohort):
        logger.info("[1/5] %d simulated nights already in %s", cohort.n_nights, folder)
        return folder
    logger.info(
        "[1/5] simulating %d Sleep-EDF-shaped nights (EDF files, about 50 MB each) into %s",
        cohort.n_nights,
        folder,
    )
    simulate_cohort(
        folder,
        subjects=cohort.subjects,
        nights=cohort.nights,
        from_official=True,
        n_jobs=n_jobs,
        progress=progress,
    )
    done.write_text(repr(cohort), encoding="utf-8")
    return folder


def _stage_one(
    data: Path, manifest: Any, test_subjects: list[str], fold: Path, out: Path
) -> dict[str, Any]:
    """[5/5] Stage the first test night of fold 0 as ``tinysleepnet predict`` does, with
    its expert hypnogram."""
    from .data.sleep_edf import find_sleep_edf_pairs
    from .prediction.expert import expert_labels
    from .prediction.stage import stage

    pairs = find_sleep_edf_pairs(data).set_index("name")
    name = manifest.loc[manifest["subject"].isin(test_subjects), "name"].iloc[0]
    psg, hypnogram = Path(pairs.loc[name, "psg"]), Path(pairs.loc[name, "hypnogram"])
    model = fold / "best.pt"
    logger.info("[5/5] staging %s with %s (a test subject of that fold)", psg, model)
    result = stage(psg, model)
    expert, _ = expert_labels(hypnogram, result, result.start)
    saved = result.save(out, psg.stem, expert)
    command = f"tinysleepnet predict {psg} --model {model} --out {out} --hypnogram {hypnogram}"
    return {"paths": saved.paths, "agreement": saved.agreement, "command": command}
