"""One row of the paper's table, end to end: recordings -> folds -> scores -> comparison.

:func:`reproduce` runs a protocol of :data:`~tinysleepnet.data.datasets.PROTOCOLS` in four
steps (:data:`REPRODUCE`, over the run folder of
:class:`~tinysleepnet.workflows.layout.RunFolder`), each resumable, so a rerun continues
where the last one stopped:

1. recordings: Sleep-EDF nights of the row missing from the data folder are downloaded from
   PhysioNet; MASS (credentialed) must be there already, and its absence is explained;
2. preparation with the row's dataset settings (channel, rate, epoch length, wake trim) into
   ``RUN/prepared``;
3. the row's subject-wise folds with the paper's recipe (``preset("paper")``), ``RUN`` being
   the cross-validation run (:func:`~tinysleepnet.evaluation.cv.cross_validate`); a fold
   that stalls for 5 passes is restarted once with the stall remedy, unless
   ``on_stall="warn"`` (the comparison names every restarted fold);
4. the pooled scores (:func:`~tinysleepnet.evaluation.report.evaluate_run`) and their
   comparison with the published ones: ``RUN/evaluation/paper_comparison.md`` and ``.json``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..config import Config, preset
from ..data.datasets import Protocol, protocol
from ..errors import TinySleepNetError
from ..evaluation.report import restart_text
from ..io.atomic import write_json, write_text_atomic
from ..stages import STAGES
from ..text import counted, markdown_table
from ..training.stall import RESTART_AFTER_PASSES, remedy_text
from .layout import RunFolder
from .steps import Experiment, Step, StepLog, experiment

logger = logging.getLogger("tinysleepnet")

#: Name (without extension) of the comparison files in ``RUN/evaluation``.
COMPARISON = "paper_comparison"

#: What a fold does once it has stalled, as the comparison and the log say it.
_STALL_POLICY = {
    "rescale": "restarted once with the stall remedy",
    "warn": "warned about, the recipe kept exact",
}

#: Why stalled folds are restarted by default, with the figures behind it, as the
#: comparison states it.
STALL_DECISION = (
    "A fold whose training stalls (validation nearly one stage, or a training loss no lower "
    f"than guessing the stages' frequencies) for {RESTART_AFTER_PASSES} passes in a row is "
    f"restarted once with the stall remedy ({remedy_text()}), unless the run was started "
    "with --on-stall warn. The reason, measured on one real night (SC4001E0), same-night "
    "holdout: the paper's recipe learnt nothing from the EEG for 4,284 optimizer steps "
    "(153 passes of 28 steps; a Sleep-EDF-20 fold has about 150 steps a pass) before it "
    "learnt, while the run restarted after 5 stalled passes fitted from its second pass "
    '(benchmarks/README.md, "Training on one real night").'
)

_METRICS = {
    "acc": "ACC (%)",
    "mf1": "MF1 (%)",
    "kappa": "kappa",
    **{f"f1_{stage}": f"F1 {stage} (%)" for stage in STAGES},
}


def reproduce(
    row: str,
    out: str | Path,
    data: str | Path | None = None,
    *,
    folds: Sequence[int] | None = None,
    n_parallel: int = 1,
    max_passes: int | None = None,
    n_folds: int | None = None,
    device: str = "auto",
    download: bool = True,
    n_jobs: int = 2,
    progress: bool = True,
    on_stall: Literal["warn", "rescale"] = "rescale",
) -> dict[str, Any] | None:
    """Run one row of the paper's table and compare the pooled scores with the published ones.

    Parameters
    ----------
    row : str
        ``"sleep-edf-20"``, ``"sleep-edf-78"``, ``"mass-ss1"`` ... ``"mass-ss5"``.
    out : str or Path
        Run folder: ``prepared/`` (and, without ``data``, ``recordings/``), the folds and
        ``evaluation/``.
    data : str or Path or None
        Folder with the recordings. Sleep-EDF nights missing from it are downloaded into it
        (None: ``out/recordings``). Required for MASS.
    folds : sequence of int or None
        Run only these folds (0-based; e.g. one per job of a cluster array); an empty
        sequence runs none (download and prepare only, before a cluster array). The
        comparison is written once every fold is done.
    n_parallel : int
        Folds trained at once (see :func:`~tinysleepnet.evaluation.cv.cross_validate`).
    max_passes : int or None
        Cap on the passes over the training nights (the paper: up to 200, with early
        stopping); for a quick try. Noted in the comparison.
    n_folds : int or None
        Folds other than the row's, for a try on fewer subjects; noted in the comparison.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``...
    download : bool
        Download missing Sleep-EDF nights; False uses only what ``data`` holds.
    n_jobs : int
        Nights prepared at once.
    progress : bool
        Show progress bars and per-fold lines.
    on_stall : {"rescale", "warn"}
        ``"rescale"``: a fold whose training stalls for 5 passes in a row is restarted once
        with the stall remedy (:data:`~tinysleepnet.config.STALL_REMEDY`), and the
        comparison says which folds were; on one real night the paper's recipe stalled
        for thousands of optimizer steps (``benchmarks/README.md``, "Training on one real
        night"). ``"warn"``: every fold runs the paper's recipe exactly, stalled or not
        (stalled passes are still logged as warnings).

    Returns
    -------
    dict or None
        The comparison (see :func:`compare_with_paper`), with ``paths`` of the files
        written; None while folds remain to be run.

    Raises
    ------
    TinySleepNetError
        For an unknown row, a MASS row without ``data``, or a failed download.
    """
    spec = protocol(row)
    folder = RunFolder(Path(out), "reproduce")
    logger.info("reproduce %s: %s, %d folds in the paper", spec.name, spec.title, spec.n_folds)
    state = _RowRun(
        folder=folder,
        config=paper_config(spec, max_passes, device, on_stall),
        n_folds=n_folds or spec.n_folds,
        n_jobs=n_jobs,
        progress=progress,
        recordings=folder.recordings if data is None else Path(data),
        prepare_settings={"dataset": spec.dataset, "subjects": spec.subject_ids},
        cv_settings={"folds": folds, "n_parallel": n_parallel},
        spec=spec,
        recordings_given=data is not None,
        download=download,
    )
    if not REPRODUCE.run(state):
        return None
    assert state.evaluation is not None and state.n_folds is not None, "every fold is done"
    comparison = compare_with_paper(
        spec, state.evaluation, n_folds=state.n_folds, config=state.config
    )
    comparison["paths"] = {
        "json": str(folder.evaluation / f"{COMPARISON}.json"),
        "markdown": str(folder.evaluation / f"{COMPARISON}.md"),
    }
    write_json(comparison["paths"]["json"], comparison)
    write_text_atomic(comparison["paths"]["markdown"], comparison_markdown(comparison))
    REPRODUCE.log("evaluate").detail("wrote %s", comparison["paths"]["markdown"])
    return comparison


@dataclass(kw_only=True)
class _RowRun(Experiment):
    """The state of one row's run: the row, whether its recordings were given, and whether
    missing ones may be downloaded."""

    spec: Protocol
    recordings_given: bool
    download: bool

    def cv_header(self, n_folds: int) -> tuple[Any, ...]:
        return (
            "%s, paper preset (%s at most; a stalled fold %s) in %s",
            counted(n_folds, "fold"),
            counted(self.config.max_passes, "pass"),
            _STALL_POLICY[self.config.on_stall],
            self.folder.cv,
        )


def paper_config(
    spec: Protocol,
    max_passes: int | None = None,
    device: str = "auto",
    on_stall: Literal["warn", "rescale"] = "rescale",
) -> Config:
    """The paper's recipe with the row's channel, rate and epoch length, and what a fold
    does when it stalls (see :func:`reproduce`)."""
    data = spec.data
    overrides: dict[str, Any] = {"max_passes": max_passes} if max_passes else {}
    config = preset(
        "paper",
        channel=data.channel,
        sfreq=data.sfreq,
        epoch_sec=data.epoch_sec,
        device=device,
        on_stall=on_stall,
        **overrides,
    )
    return config.replace(extra={**config.extra, "protocol": spec.name})


def compare_with_paper(
    spec: Protocol, result: dict[str, Any], *, n_folds: int, config: Config
) -> dict[str, Any]:
    """Our pooled scores beside the published ones.

    Parameters
    ----------
    spec : Protocol
        The row of the paper's table.
    result : dict
        :func:`~tinysleepnet.evaluation.report.evaluate_run`'s result.
    n_folds : int
        Folds actually run.
    config : Config
        Settings the folds ran with.

    Returns
    -------
    dict
        ``protocol``, ``title``, ``scores`` (one row per metric: ``metric``, ``label``,
        ``paper``, ``ours``, ``difference``; percent, kappa as a fraction),
        ``test_epochs`` (``paper``, ``ours``, ``match``) and ``warnings`` (what makes the
        comparison unfair, the epoch-count mismatch first).
    """
    pooled = result["pooled"]
    ours = {
        "acc": 100 * pooled["acc"],
        "mf1": 100 * pooled["mf1"],
        "kappa": pooled["kappa"],
        **{f"f1_{s}": 100 * pooled["per_stage"][s]["f1"] for s in STAGES},
    }
    rows = []
    for metric, paper in spec.published().items():
        value = ours[metric]
        defined = value is not None and math.isfinite(value)
        rows.append(
            {
                "metric": metric,
                "label": _METRICS[metric],
                "paper": paper,
                "ours": float(value) if defined else None,
                "difference": float(value) - paper if defined else None,
            }
        )
    counts = {
        "paper": spec.test_epochs,
        "ours": int(pooled["n_epochs"]),
        "match": int(pooled["n_epochs"]) == spec.test_epochs,
    }
    warnings = []
    if not counts["match"]:
        warnings.append(
            f"test epochs differ: {counts['ours']:,} pooled here, {counts['paper']:,} in the "
            "paper; the recordings or their preparation differ, so the scores are not "
            "measured on the same epochs"
        )
    if n_folds != spec.n_folds:
        warnings.append(f"{n_folds} folds run, the paper's protocol has {spec.n_folds}")
    paper_passes = preset("paper").max_passes
    if config.max_passes != paper_passes:
        warnings.append(f"training capped at {config.max_passes} passes (paper: {paper_passes})")
    if restarts := restart_text(result):
        warnings.append(restarts)
    data = spec.data
    return {
        "protocol": spec.name,
        "title": spec.title,
        "setup": (
            f"{spec.manual} scoring, channel {spec.paper_channel} ({data.channel!r}), "
            f"{data.sfreq:g} Hz, {data.epoch_sec:g}-s epochs, {n_folds} folds, paper preset "
            f"(a stalled fold {_STALL_POLICY[config.on_stall]})"
        ),
        "test_epochs": counts,
        "warnings": warnings,
        "scores": rows,
        "run_dir": result["run_dir"],
        "stall_policy": STALL_DECISION if config.on_stall == "rescale" else "",
    }


def comparison_markdown(comparison: dict[str, Any]) -> str:
    """The comparison of :func:`compare_with_paper` as Markdown, warnings first."""
    counts = comparison["test_epochs"]
    lines = [f"# TinySleepNet vs the paper: {comparison['title']}", ""]
    lines += [f"- **{warning[0].upper()}{warning[1:]}.**" for warning in comparison["warnings"]]
    if comparison["warnings"]:
        lines.append("")
    lines += [
        f"{comparison['setup']}; all test epochs of all folds pooled.",
        "",
        *markdown_table(
            ["metric", "paper", "ours", "difference"],
            [
                [
                    row["label"],
                    _number(row["metric"], row["paper"]),
                    _number(row["metric"], row["ours"]),
                    _number(row["metric"], row["difference"], signed=True),
                ]
                for row in comparison["scores"]
            ]
            + [
                [
                    "test epochs",
                    f"{counts['paper']:,}",
                    f"{counts['ours']:,}",
                    f"{counts['ours'] - counts['paper']:+,}",
                ]
            ],
        ),
    ]
    if comparison.get("stall_policy"):
        lines += ["", comparison["stall_policy"]]
    return "\n".join(lines) + "\n"


def _number(metric: str, value: float | None, signed: bool = False) -> str:
    if value is None:
        return "undefined"
    digits = 2 if metric == "kappa" else 1
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _recordings(run: _RowRun, log: StepLog) -> None:
    """[1/4] The row's recordings: those missing downloaded where the row's dataset can be
    (Sleep-EDF), else required in the data folder (MASS). The dataset's adapter
    (:mod:`tinysleepnet.data.adapters`) is the one place that tells them apart."""
    spec, folder = run.spec, run.recordings
    data = spec.data
    if not data.downloadable:
        if not run.recordings_given:
            raise TinySleepNetError(spec.requirements())
        log("recordings in %s (%s: not downloadable)", folder, data.name)
        return
    missing = spec.missing_subjects(folder)
    if missing and run.download:
        log(
            "downloading %s subjects %s into %s (%s)",
            data.name,
            ", ".join(map(str, missing)),
            folder,
            data.where_to_get(),
        )
        data.download(missing, folder)
        missing = spec.missing_subjects(folder)
    if missing:
        log(
            "%s lacks nights of %d of the row's subjects (%s); going on with those "
            "present, so the test-epoch count will differ from the paper's",
            folder,
            len(missing),
            ", ".join(map(str, missing)),
            level=logging.WARNING,
        )
    else:
        log("all %s nights of the row in %s", spec.title, folder)


#: The steps of a row: [1/4] recordings (Sleep-EDF's downloaded), [2/4] prepare with the
#: row's dataset settings, [3/4] the row's folds, [4/4] evaluate (then the comparison).
REPRODUCE = experiment(Step("recordings", _recordings))
