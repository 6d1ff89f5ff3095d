"""The experiment engine: one call trains, applies the stall policy and calibrates a model.

:func:`fit` is what every command that trains goes through (``train``, each fold of ``cv``
and ``finetune``, ``release``): the training loop (:func:`~.loop.run_passes`) into a
:class:`~.run.TrainingRun` folder, restarted once with the stall remedy when it stalls
(:mod:`.stall`), then the kept checkpoint calibrated on the validation nights
(:func:`~.calibrate.calibrate_checkpoint`), with the training nights' reference amplitude
stored in every checkpoint (:func:`~.provenance.reference_amplitude`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from .._docs import fill_doc
from ..config import Config
from ..data.nights import Night
from ..errors import TinySleepNetError
from ..nn.checkpoint import calibration, load_checkpoint
from ..nn.device import resolve_device, torch_threads
from .calibrate import calibrate_checkpoint
from .distributed import current_world, local_device
from .loop import Start, run_passes
from .provenance import data_settings, reference_amplitude
from .run import TrainingRun
from .stall import ONE_STAGE_SHARE, needs_restart, remedied, remedy_text

logger = logging.getLogger("tinysleepnet")


@dataclass
class FitResult:
    """What :func:`fit` leaves behind.

    Attributes
    ----------
    best_path : Path
        ``best.pt``: the weights with the best validation score, calibrated (on the main
        process; the other torchrun processes leave it to it).
    last_path : Path
        ``last.pt``: the weights and training state after the last pass.
    best_pass : int
        Pass (1-based) that produced ``best.pt``.
    best_score : dict
        Validation scores of that pass (:func:`~tinysleepnet.scoring.metrics.scores`,
        plus ``loss``).
    log : pandas.DataFrame
        One row per pass, as in ``log.csv``.
    stopped_early : bool
        Whether training stopped after more than ``patience`` passes without a kept pass.
    config : Config
        The settings the weights were trained with (the channel, rate and epoch length are
        those of the nights; the remedy's when the run was restarted after a stall).
    restarted_after_pass : int or None
        The pass of the first attempt after which ``on_stall="rescale"`` restarted the run.
    reference_amplitude_uv : float
        Median absolute amplitude of the training nights (microvolts), in every checkpoint.
    temperature : float or None
        Calibration temperature of ``best.pt``; None when not calibrated (:func:`train`, or
        a torchrun process other than the main one).
    """

    best_path: Path
    last_path: Path
    best_pass: int
    best_score: dict[str, Any]
    log: pd.DataFrame
    stopped_early: bool
    config: Config
    restarted_after_pass: int | None = None
    reference_amplitude_uv: float = float("nan")
    temperature: float | None = None

    @property
    def stalled_passes(self) -> list[int]:
        """Passes (of the run that produced the weights) that looked stalled."""
        return [int(p) for p in self.log.loc[self.log["stalled"] == 1, "pass"]]

    @property
    def best_predicts_one_stage(self) -> bool:
        """Whether the kept pass still put nearly every validation epoch in one stage."""
        return bool(self.best_score["top_share"] >= ONE_STAGE_SHARE)


@fill_doc
def fit(
    train_nights: Sequence[Night],
    valid_nights: Sequence[Night],
    config: Config,
    out_dir: str | Path,
    *,
    progress: bool = True,
    init_weights: str | Path | None = None,
    frozen: Sequence[str] = (),
    calibrate: bool = True,
) -> FitResult:
    """Train TinySleepNet on some nights, choosing and calibrating the checkpoint on others.

    The channel, sampling rate and epoch length are taken from the nights (which must agree
    on them) into the saved configuration, so a checkpoint knows what it stages. The
    training nights are first cut into segments when ``config.segment_epochs`` asks so.
    Each pass shuffles and augments the training nights, takes one Adam step
    (:func:`~tinysleepnet.training.adam.make_optimizer`: TF's or PyTorch's) per chunk of
    ``config.seq_len`` epochs of ``config.batch_nights`` nights (class-weighted
    cross-entropy plus L2 on the conv kernels, gradients clipped to ``config.clip_norm``),
    then stages the validation nights. Both run the CNN at the precision of
    :func:`~tinysleepnet.nn.device.resolve_precision`. ``config.monitor`` decides which
    passes are kept as ``best.pt`` (:func:`~.loop.keeps`); training stops after
    ``config.max_passes`` passes, or once more than ``config.patience`` passes have gone by
    since the last kept pass. A pass that looks stalled (:mod:`.stall`) is logged as a
    warning and marked in ``log.csv``; with ``config.on_stall == "rescale"``,
    :data:`~.stall.RESTART_AFTER_PASSES` stalled passes in a row restart the run once with
    :data:`~tinysleepnet.config.STALL_REMEDY`. Finally, with ``calibrate``, ``best.pt`` gets
    the temperature fitted on the validation nights (once: a rerun finds it there).

    Parameters
    ----------
    train_nights : sequence of Night
        Nights the weights are fitted on.
    valid_nights : sequence of Night
        Nights that choose the best pass, stop training and calibrate; never the test nights.
    config : Config
        Model and training settings; its channel, rate and epoch length are replaced by
        the nights'.
    out_dir : str or Path
        Folder of the run (:class:`~.run.TrainingRun`). If it holds a ``last.pt``, training
        resumes from it (and returns at once if that run finished).
    %(progress)s
    init_weights : str or Path or None
        Checkpoint whose weights start the run instead of a fresh initialisation
        (fine-tuning); its network must have the shape ``config`` gives.
    frozen : sequence of str
        Parameter-name prefixes (``"conv1"``, ``"convs"``) left out of training.
    calibrate : bool
        Fit and store ``best.pt``'s temperature (staged in float32, whatever
        ``config.precision``); False leaves the weights as training wrote them.

    Returns
    -------
    FitResult

    Raises
    ------
    TinySleepNetError
        If there are no training or validation nights, the nights differ in channel, rate or
        epoch length, or ``out_dir`` holds a run with other settings (other than those
        whose role is ``resumable``, ``call`` or ``runtime``) or other nights.
    """
    config = config.replace(**data_settings([*train_nights, *valid_nights]))
    if not train_nights or not valid_nights:
        raise TinySleepNetError(
            f"training needs training and validation nights, got {len(train_nights)} "
            f"and {len(valid_nights)}"
        )
    run = TrainingRun(Path(out_dir))
    start = Start(reference_amplitude(train_nights), init_weights, tuple(frozen))
    restarted = run.restarted_after_pass
    if restarted is not None:  # an earlier call restarted the run: continue the restart
        config, start = remedied(config), replace(start, restarted_after_pass=restarted)
    world = current_world(resolve_device(local_device(config.device)))
    with torch_threads(config.threads):
        state, trained = run_passes(train_nights, valid_nights, config, run, start, progress)
        if needs_restart([row["stalled"] for row in state.log], config, restarted):
            restarted = len(state.log)
            logger.warning(
                "%s: restarting after pass %d with the stall remedy (%s)",
                run.name,
                restarted,
                remedy_text(),
            )
            if world.is_main:
                run.set_aside()
            world.barrier()  # no process may resume the stalled attempt's files
            config = remedied(config)
            start = replace(start, restarted_after_pass=restarted)
            state, trained = run_passes(train_nights, valid_nights, config, run, start, progress)
        calibrated = calibrate and world.is_main
        temperature = _calibrated(run, valid_nights, trained, progress) if calibrated else None
    assert state.best_score is not None  # at least one pass ran, now or before
    return FitResult(
        best_path=run.best_path,
        last_path=run.last_path,
        best_pass=state.best_pass,
        best_score=state.best_score,
        log=pd.DataFrame(state.log),
        stopped_early=state.bad_passes > trained.patience,
        config=trained,
        restarted_after_pass=restarted,
        reference_amplitude_uv=start.amplitude_uv,
        temperature=temperature,
    )


def train(
    train_nights: Sequence[Night],
    valid_nights: Sequence[Night],
    config: Config,
    out_dir: str | Path,
    *,
    progress: bool = True,
    init_weights: str | Path | None = None,
    frozen: Sequence[str] = (),
) -> FitResult:
    """:func:`fit` without calibration: ``best.pt`` as training wrote it (benchmarks and
    studies of the training itself); the commands calibrate."""
    return fit(
        train_nights,
        valid_nights,
        config,
        out_dir,
        progress=progress,
        init_weights=init_weights,
        frozen=frozen,
        calibrate=False,
    )


def _calibrated(
    run: TrainingRun, valid_nights: Sequence[Night], config: Config, progress: bool
) -> float:
    """The temperature of the run's ``best.pt``, fitted on the validation nights unless the
    file holds one already (training rewrites it without; a rerun leaves it calibrated)."""
    stored = load_checkpoint(run.best_path).get("temperature")
    if stored is not None:
        return calibration(run.best_path, stored)[0]
    device = resolve_device(config.device)
    return calibrate_checkpoint(run.best_path, valid_nights, device, progress=progress)
