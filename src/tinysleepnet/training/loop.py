"""Training TinySleepNet with the authors' recipe, resumable pass by pass.

One call of :func:`train` runs passes over the training nights (:mod:`.batches` makes their
minibatches), scores the validation nights after each pass, keeps the best checkpoint and
stops early when the validation score stops improving. Everything a pass needs is saved in
``last.pt`` after it, and each pass draws its randomness from ``(seed, pass)`` alone; a pass in
progress is saved in ``pass.pt`` about every :data:`PASS_CHECKPOINT_SEC` seconds (weights,
optimizer, schedule, the random state of dropout, the position in the pass and the recurrent
state), so an interrupt loses at most that much training, and a run interrupted at any point
and started again with the same arguments ends with exactly the weights and log of an
uninterrupted run (on the same device and thread count).

Files written into the output folder (each atomically)::

    config.json   the settings (Config.save), with the channel, rate and epoch length of
                  the nights it was trained on
    log.csv       one row per pass: pass, train_loss, train_acc, train_mf1,
                  train_top_share, valid_loss, valid_acc, valid_mf1, valid_top_share
                  (train_ and valid_top_share: share of the most predicted stage, on the
                  pass's training minibatches and on the validation nights), stalled (1
                  when the pass looked stalled), lr, seconds
    best.pt       weights of the kept ("best") pass, with its validation scores
    last.pt       weights, optimizer, schedule and progress after the last finished pass
    pass.pt       the pass in progress (removed once the pass is done; one process only)
    stalled/      the first attempt's files, when ``on_stall="rescale"`` restarted the run

One INFO line per pass goes to the ``tinysleepnet`` logger, and a WARNING for every pass
that looks stalled (:mod:`.stall`).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.lr_scheduler import OneCycleLR
from tqdm.auto import tqdm

from .._docs import fill_doc
from ..config import DATA_FIELDS, STALL_REMEDY, Config
from ..core.checkpoint import checkpoint_config, load_checkpoint, load_weights, save_checkpoint
from ..core.device import resolve_device, resolve_precision, torch_threads
from ..core.inference import predict_proba
from ..core.metrics import scores
from ..data.nights import Night
from ..errors import PathError, TinySleepNetError
from ..io.atomic import atomic_path, remove_stale_partials
from ..io.quality import median_amplitude_uv
from ..model import TinySleepNet
from .adam import make_optimizer
from .batches import PassPlan, count_steps, iterate_pass, plan_pass, split_nights
from .distributed import World, current_world, local_device
from .stall import ONE_STAGE_SHARE, RESTART_AFTER_PASSES, guess_loss, stall_reason, top_stage

logger = logging.getLogger("tinysleepnet")

#: Settings that may change when a run is resumed (they do not change what a pass computes;
#: ``precision`` does, so it is not one of them).
_RESUMABLE_FIELDS = ("max_passes", "patience", "device", "threads", "extra", "on_stall")

#: Files of a training run's folder: its settings, the kept and the latest checkpoint,
#: and one row per pass.
CONFIG_FILE, BEST_FILE, LAST_FILE, LOG_FILE = "config.json", "best.pt", "last.pt", "log.csv"

#: Sub-folder that keeps a stalled first attempt after ``on_stall="rescale"`` restarted it.
STALLED_DIR = "stalled"

#: The pass in progress, saved about every :data:`PASS_CHECKPOINT_SEC` seconds of training.
PASS_FILE = "pass.pt"

#: Seconds of training between two saves of the pass in progress (``pass.pt``, about
#: 20 MB): what an interrupt may lose at most.
PASS_CHECKPOINT_SEC = 60.0


@dataclass
class TrainResult:
    """What :func:`train` leaves behind.

    Attributes
    ----------
    best_path : Path
        ``best.pt``: the weights with the best validation score.
    last_path : Path
        ``last.pt``: the weights and training state after the last pass.
    best_pass : int
        Pass (1-based) that produced ``best.pt``.
    best_score : dict
        Validation scores of that pass (:func:`~tinysleepnet.core.metrics.scores`,
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
    """

    best_path: Path
    last_path: Path
    best_pass: int
    best_score: dict[str, Any]
    log: pd.DataFrame
    stopped_early: bool
    config: Config
    restarted_after_pass: int | None = None

    @property
    def stalled_passes(self) -> list[int]:
        """Passes (of the run that produced the weights) that looked stalled."""
        return [int(p) for p in self.log.loc[self.log["stalled"] == 1, "pass"]]

    @property
    def best_predicts_one_stage(self) -> bool:
        """Whether the kept pass still put nearly every validation epoch in one stage."""
        return bool(self.best_score["top_share"] >= ONE_STAGE_SHARE)


@dataclass
class _Progress:
    """Training state saved in ``last.pt`` besides the weights, optimizer and schedule."""

    passes_done: int = 0
    best_pass: int = 0
    best_score: dict[str, Any] | None = None
    bad_passes: int = 0
    log: list[dict[str, float]] = field(default_factory=list)


@fill_doc
def train(
    train_nights: Sequence[Night],
    valid_nights: Sequence[Night],
    config: Config,
    out_dir: str | Path,
    *,
    progress: bool = True,
    init_weights: str | Path | None = None,
    frozen: Sequence[str] = (),
) -> TrainResult:
    """Train TinySleepNet on some nights, choosing the checkpoint on others.

    The channel, sampling rate and epoch length are taken from the nights (which must agree
    on them) into the saved configuration, so a checkpoint knows what it stages. The
    training nights are first cut into segments when ``config.segment_epochs`` asks so.
    Each pass shuffles and augments the training nights, takes one Adam step
    (:func:`~tinysleepnet.training.adam.make_optimizer`: TF's or PyTorch's) per chunk of
    ``config.seq_len`` epochs of ``config.batch_nights`` nights (class-weighted
    cross-entropy plus L2 on the conv kernels, gradients clipped to ``config.clip_norm``),
    then stages the validation nights. Both run the CNN at the precision of
    :func:`resolve_precision`. ``config.monitor`` decides which passes are kept as
    ``best.pt`` (:func:`keeps`); training stops after ``config.max_passes`` passes, or once
    more than ``config.patience`` passes have gone by since the last kept pass. A pass that
    looks stalled (:mod:`.stall`) is logged as a warning and marked in ``log.csv``; with
    ``config.on_stall == "rescale"``, :data:`RESTART_AFTER_PASSES` stalled passes in a row
    restart the run once with :data:`~tinysleepnet.config.STALL_REMEDY`.

    Parameters
    ----------
    train_nights : sequence of Night
        Nights the weights are fitted on.
    valid_nights : sequence of Night
        Nights that choose the best pass and stop training; never the test nights.
    config : Config
        Model and training settings; its channel, rate and epoch length are replaced by
        the nights'.
    out_dir : str or Path
        Folder for ``config.json``, ``log.csv``, ``best.pt`` and ``last.pt``. If it holds a
        ``last.pt``, training resumes from it (and returns at once if that run finished).
    %(progress)s
    init_weights : str or Path or None
        Checkpoint whose weights start the run instead of a fresh initialisation
        (fine-tuning); its network must have the shape ``config`` gives.
    frozen : sequence of str
        Parameter-name prefixes (``"conv1"``, ``"convs"``) left out of training.

    Returns
    -------
    TrainResult

    Raises
    ------
    TinySleepNetError
        If there are no training or validation nights, the nights differ in channel, rate or
        epoch length, or ``out_dir`` holds a run with other settings (other than
        ``max_passes``, ``patience``, ``device``, ``on_stall``) or other nights.
    """
    config = config.replace(**data_settings([*train_nights, *valid_nights]))
    if not train_nights or not valid_nights:
        raise TinySleepNetError(
            f"training needs training and validation nights, got {len(train_nights)} "
            f"and {len(valid_nights)}"
        )
    out_dir = Path(out_dir)
    amplitude = reference_amplitude(train_nights)
    restarted = _restarted_after_pass(out_dir)
    if restarted is not None:  # an earlier call restarted the run: continue the restart
        config = _remedied(config, restarted)
    start = _Start(amplitude, init_weights, tuple(frozen))
    with torch_threads(config.threads):
        result = _fit(train_nights, valid_nights, config, out_dir, start, progress)
    if _needs_restart(result.log["stalled"].tolist(), config):
        restarted = len(result.log)
        logger.warning(
            "%s: restarting after pass %d with the stall remedy (%s)",
            out_dir.name,
            restarted,
            remedy_text(),
        )
        world = current_world(resolve_device(local_device(config.device)))
        if world.is_main:
            _set_aside(out_dir)
        world.barrier()  # no process may resume the stalled attempt's files
        config = _remedied(config, restarted)
        with torch_threads(config.threads):
            result = _fit(train_nights, valid_nights, config, out_dir, start, progress)
    result.restarted_after_pass = restarted
    return result


def keeps(valid: dict[str, Any], best: dict[str, Any] | None, monitor: str) -> bool:
    """Whether a pass with validation scores ``valid`` becomes the kept ("best") pass.

    Parameters
    ----------
    valid : dict
        The pass's validation scores (``acc`` and ``mf1``).
    best : dict or None
        Scores of the pass kept so far; ``None`` before the first pass, which is always kept
        (the authors start both bests at -1).
    monitor : {"authors", "mf1", "acc"}
        ``"authors"``: accuracy strictly higher AND macro-F1 not lower than the kept pass's
        (the authors' ``train.py``); ``"mf1"`` or ``"acc"``: that score higher, ties broken
        by the other.
    """
    if best is None:
        return True
    if monitor == "authors":
        return bool(valid["acc"] > best["acc"] and valid["mf1"] >= best["mf1"])
    other = "acc" if monitor == "mf1" else "mf1"
    return (valid[monitor], valid[other]) > (best[monitor], best[other])


def data_settings(nights: Sequence[Night]) -> dict[str, Any]:
    """The :data:`~tinysleepnet.config.DATA_FIELDS` of some nights: channel, rate, epoch.

    Raises
    ------
    TinySleepNetError
        If the nights disagree on any of them.
    """
    settings = {
        night.name: {
            "sfreq": float(night.sfreq),
            "epoch_sec": night.signal_uv.shape[1] / night.sfreq,
            "channel": night.channel,
        }
        for night in nights
    }
    if not settings:
        return {}
    first_name, first = next(iter(settings.items()))
    for name, values in settings.items():
        if values != first:
            detail = ", ".join(f"{k} {values[k]!r}" for k in DATA_FIELDS if values[k] != first[k])
            raise TinySleepNetError(
                f"night {name}: {detail}, but night {first_name} has "
                + ", ".join(f"{k} {first[k]!r}" for k in DATA_FIELDS if values[k] != first[k])
                + "; a model is trained on one channel, rate and epoch length: prepare the "
                "nights alike"
            )
    return first


def reference_amplitude(nights: Sequence[Night]) -> float:
    """Median absolute amplitude of some nights, in microvolts (median of the nights' medians).

    Stored with every checkpoint, so that staging can tell a recording whose scale is far
    from the training data's (a file in volts, a wrong gain). Each night is measured with
    :func:`~tinysleepnet.io.quality.median_amplitude_uv`, the estimate staging makes of a
    recording, so the two figures compare like with like.
    """
    return float(
        np.median(
            [
                median_amplitude_uv(night.signal_uv, np.ones(len(night.signal_uv), dtype=bool))
                for night in nights
            ]
        )
    )


@dataclass(frozen=True)
class _Start:
    """What a run starts from besides its settings (see :func:`train`)."""

    amplitude: float
    init_weights: str | Path | None
    frozen: tuple[str, ...]


def _fit(
    train_nights: Sequence[Night],
    valid_nights: Sequence[Night],
    config: Config,
    out_dir: Path,
    start: _Start,
    progress: bool,
) -> TrainResult:
    """The training run itself (see :func:`train`), resumed from ``last.pt`` if present;
    :func:`train` runs it within ``torch_threads(config.threads)``."""
    best_path, last_path = out_dir / BEST_FILE, out_dir / LAST_FILE
    device = resolve_device(local_device(config.device))
    precision = resolve_precision(config.precision, device)
    world = current_world(device)
    if config.batch_nights < world.size:
        raise TinySleepNetError(
            f"{world.size} processes need at least as many nights per minibatch "
            f"(batch_nights is {config.batch_nights})"
        )
    config = config.replace(extra={**config.extra, "world_size": world.size})
    torch.manual_seed(config.seed)
    model = TinySleepNet(config).to(device)
    if start.init_weights is not None:
        parent = load_checkpoint(start.init_weights, map_location=device)
        load_weights(start.init_weights, model, parent)
    for name, param in model.named_parameters():
        param.requires_grad_(not name.startswith(start.frozen))
    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], config)
    nights = {"train": [n.name for n in train_nights], "valid": [n.name for n in valid_nights]}
    segments = split_nights(train_nights, config.segment_epochs)
    guess = guess_loss(np.concatenate([n.stages for n in segments]), config.class_weights)
    scheduler = _make_scheduler(optimizer, config, [len(n.stages) for n in segments])
    state = _resume(last_path, config, nights, model, optimizer, scheduler)
    if world.is_main:
        config.save(out_dir / CONFIG_FILE)
        if state.log:  # a run killed between last.pt and log.csv: the log as of last.pt
            _write_log(out_dir / LOG_FILE, state.log)
        for name in (BEST_FILE, LAST_FILE):  # a finished run writes them no more
            remove_stale_partials(out_dir / name)
    step_model: nn.Module = model
    if world.size > 1:  # all-reduces the gradients of every step over the processes
        ids = [device] if device.type == "cuda" else None
        step_model = DistributedDataParallel(model, device_ids=ids)
        logger.info("%s: training on %d processes", out_dir.name, world.size)

    passes = tqdm(
        total=config.max_passes,
        initial=state.passes_done,
        desc="training",
        unit="pass",
        disable=None if progress and world.is_main else True,  # None: only on a terminal
    )
    with passes:
        while (
            state.passes_done < config.max_passes
            and state.bad_passes <= config.patience
            and not _needs_restart([row["stalled"] for row in state.log], config)
        ):
            pass_number = state.passes_done + 1
            started = time.perf_counter()
            # One process alone can save a pass in progress: under torchrun each holds
            # its own share of the recurrent state and of the random draws.
            saver = _PassSaver(out_dir / PASS_FILE, config, nights) if world.size == 1 else None
            fit = _train_one_pass(
                step_model,
                world,
                optimizer,
                scheduler,
                segments,
                config,
                pass_number,
                device,
                precision,
                progress,
                saver,
            )
            valid = _validate(model, valid_nights, config, precision, progress and world.is_main)
            stall = stall_reason(
                [row["train_loss"] for row in state.log] + [fit["loss"]],
                valid["top_share"],
                valid["top_stage"],
                guess,
            )
            row = {
                "pass": pass_number,
                **{f"train_{k}": v for k, v in fit.items()},
                **{f"valid_{k}": valid[k] for k in ("loss", "acc", "mf1", "top_share")},
                "stalled": int(bool(stall)),
                "world_size": world.size,
                "lr": optimizer.param_groups[0]["lr"],
                "seconds": time.perf_counter() - started,
            }
            state.log.append(row)
            state.passes_done = pass_number
            kept = keeps(valid, state.best_score, config.monitor)
            if kept:
                state.best_pass, state.best_score, state.bad_passes = pass_number, valid, 0
            else:
                state.bad_passes += 1
            if world.is_main:
                _save_pass(out_dir, model, optimizer, scheduler, config, state, nights, kept, start)
                (out_dir / PASS_FILE).unlink(missing_ok=True)  # last.pt now has it all
                _log_pass(out_dir.name, row, config, kept, stall)
            passes.update()

    assert state.best_score is not None  # at least one pass ran, now or before
    return TrainResult(
        best_path=best_path,
        last_path=last_path,
        best_pass=state.best_pass,
        best_score=state.best_score,
        log=pd.DataFrame(state.log),
        stopped_early=state.bad_passes > config.patience,
        config=config,
    )


def _save_pass(
    out_dir: Path,
    model: TinySleepNet,
    optimizer: torch.optim.Optimizer,
    scheduler: OneCycleLR | None,
    config: Config,
    state: _Progress,
    nights: dict[str, list[str]],
    kept: bool,
    start: _Start,
) -> None:
    """Write ``best.pt`` (when the pass is kept), ``last.pt`` and ``log.csv`` after a pass."""
    if kept:
        _write_checkpoint(
            out_dir / BEST_FILE,
            model,
            config,
            pass_number=state.passes_done,
            scores=state.best_score,
            reference_amplitude_uv=start.amplitude,
        )
    _write_checkpoint(
        out_dir / LAST_FILE,
        model,
        config,
        optimizer=optimizer.state_dict(),
        scheduler=scheduler.state_dict() if scheduler else None,
        progress=dataclasses.asdict(state),
        nights=nights,
        reference_amplitude_uv=start.amplitude,
    )
    _write_log(out_dir / LOG_FILE, state.log)


def _write_checkpoint(path: Path, model: TinySleepNet, config: Config, **state: Any) -> None:
    """:func:`~tinysleepnet.core.checkpoint.save_checkpoint`, a failed write (a full disk:
    torch raises a RuntimeError) refused in one line naming the file. The write is atomic,
    so the file from the last pass written stays as it was."""
    try:
        save_checkpoint(path, model, config, **state)
    except RuntimeError as err:
        raise PathError.wrap(
            path, "cannot be written (disk full?); the last checkpoint written is kept", err
        ) from err


def _log_pass(run: str, row: dict[str, float], config: Config, kept: bool, stall: str) -> None:
    """One INFO line per pass, and a WARNING naming the remedy when the pass looks stalled."""
    logger.info(
        "%s pass %d/%d: train loss %.4f acc %.3f | valid loss %.4f acc %.3f mf1 %.3f%s (%.0f s)",
        run,
        row["pass"],
        config.max_passes,
        row["train_loss"],
        row["train_acc"],
        row["valid_loss"],
        row["valid_acc"],
        row["valid_mf1"],
        " kept" if kept else "",
        row["seconds"],
    )
    if stall:
        if "restarted_after_pass" in config.extra:
            remedy = "already restarted with the stall remedy; try --preset fast"
        elif has_remedy(config):
            remedy = (
                "the run already has the stall remedy; early passes often look so: if it "
                "persists, train longer (--epochs) or with a lower --lr"
            )
        elif config.on_stall == "rescale":
            remedy = f"it restarts with {remedy_text()} after {RESTART_AFTER_PASSES} such passes"
        else:
            remedy = (
                f"if it persists, rerun without --on-stall warn (or with {_remedy_flags(config)})"
            )
        logger.warning(
            "%s pass %d: training may have stalled: %s; %s", run, row["pass"], stall, remedy
        )


def remedy_text() -> str:
    """The stall remedy's settings, ``"input_scale=0.05, segment_epochs=360"``."""
    return ", ".join(f"{k}={v}" for k, v in STALL_REMEDY.items())


def _remedy_flags(config: Config) -> str:
    """The flags of the stall remedy's settings that ``config`` does not already have."""
    return " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in STALL_REMEDY.items() if getattr(config, k) != v
    )


def has_remedy(config: Config) -> bool:
    """Whether a run's settings already include the stall remedy (``fast``, a restart)."""
    return all(getattr(config, name) == value for name, value in STALL_REMEDY.items())


def _needs_restart(stalled: Sequence[float], config: Config) -> bool:
    """Whether the last passes call for the stall remedy (once per run, and only when the
    settings lack it: restarting them unchanged would only repeat the stall)."""
    return (
        config.on_stall == "rescale"
        and "restarted_after_pass" not in config.extra
        and not has_remedy(config)
        and len(stalled) >= RESTART_AFTER_PASSES
        and all(stalled[-RESTART_AFTER_PASSES:])
    )


def _restarted_after_pass(out_dir: Path) -> int | None:
    """The pass after which an earlier call restarted this run, if it did."""
    last = out_dir / STALLED_DIR / LAST_FILE
    if not last.is_file():
        return None
    return int(load_checkpoint(last)["progress"]["passes_done"])


def _remedied(config: Config, stalled_pass: int) -> Config:
    return config.replace(
        **STALL_REMEDY, extra={**config.extra, "restarted_after_pass": stalled_pass}
    )


def _set_aside(out_dir: Path) -> None:
    """Move a stalled attempt's files into ``stalled/``, so the restart begins afresh."""
    aside = out_dir / STALLED_DIR
    aside.mkdir(exist_ok=True)
    for name in (CONFIG_FILE, LOG_FILE, BEST_FILE, LAST_FILE):
        if (out_dir / name).exists():
            shutil.move(out_dir / name, aside / name)


def _resume(
    last_path: Path,
    config: Config,
    nights: dict[str, list[str]],
    model: TinySleepNet,
    optimizer: torch.optim.Optimizer,
    scheduler: OneCycleLR | None,
) -> _Progress:
    """Load the state of an earlier run from ``last.pt``, if any, after checking it matches."""
    if not last_path.is_file():
        return _Progress()
    saved = load_checkpoint(last_path)
    _check_same_run(last_path, saved, config, nights)
    _restore(last_path, saved, model, optimizer, scheduler)
    try:
        return _Progress(**saved["progress"])
    except (KeyError, TypeError) as err:
        raise PathError.wrap(last_path, _NO_TRAINING_STATE, err) from err


#: Why a checkpoint whose weights load cannot continue a run.
_NO_TRAINING_STATE = "holds no usable training state; use another output folder"


def _restore(
    path: Path,
    saved: dict[str, Any],
    model: TinySleepNet,
    optimizer: torch.optim.Optimizer,
    scheduler: OneCycleLR | None,
) -> None:
    """Put a saved run's weights, optimizer and schedule back (``last.pt`` or ``pass.pt``),
    refusing in one line naming ``path`` a state they cannot take."""
    load_weights(path, model, saved)
    try:
        optimizer.load_state_dict(saved["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(saved["scheduler"])
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise PathError.wrap(path, _NO_TRAINING_STATE, err) from err


def _check_same_run(
    path: Path, saved: dict[str, Any], config: Config, nights: dict[str, list[str]]
) -> None:
    """Refuse to resume from a checkpoint of another run (settings or nights)."""
    free = set(_RESUMABLE_FIELDS)
    if config.schedule == "onecycle":
        free.discard("max_passes")  # the schedule's length depends on it
    if detail := config.differences(checkpoint_config(path, saved), ignore=free):
        raise PathError(
            path, f"holds a run with other settings: {detail}; use another output folder"
        )
    if saved["nights"] != nights:
        raise PathError(path, "holds a run on other nights; use another output folder")


@dataclass
class _PassSaver:
    """Saves and restores a pass in progress (``pass.pt``; see :data:`PASS_CHECKPOINT_SEC`).

    The file holds what the rest of the pass needs to run as if never interrupted: the
    weights, optimizer and schedule after ``steps`` optimizer steps, the recurrent state
    carried into the next chunk, the random state of dropout, and the loss and predictions
    summed so far. The order and augmentation of the pass are a function of the seed and
    the pass number, so the position is the number of steps done.
    """

    path: Path
    config: Config
    nights: dict[str, list[str]]

    def save(
        self,
        pass_number: int,
        steps: int,
        model: TinySleepNet,
        optimizer: torch.optim.Optimizer,
        scheduler: OneCycleLR | None,
        carried: tuple[torch.Tensor, torch.Tensor] | None,
        loss_sum: torch.Tensor,
        outputs: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
        device: torch.device,
    ) -> None:
        save_checkpoint(
            self.path,
            model,
            self.config,
            optimizer=optimizer.state_dict(),
            scheduler=scheduler.state_dict() if scheduler else None,
            nights=self.nights,
            pass_number=pass_number,
            steps=steps,
            carried=carried,
            loss_sum=loss_sum,
            outputs=[torch.cat(parts) for parts in zip(*outputs, strict=True)],
            rng=torch.get_rng_state(),
            cuda_rng=torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        )

    def load(
        self,
        pass_number: int,
        model: TinySleepNet,
        optimizer: torch.optim.Optimizer,
        scheduler: OneCycleLR | None,
        device: torch.device,
    ) -> dict[str, Any] | None:
        """Restore the saved pass into the model, optimizer, schedule and random state.

        Returns the rest of the saved state (``steps``, ``carried``, ``loss_sum``,
        ``outputs``), or None when no pass ``pass_number`` is saved (a file of a pass
        already finished, left by an interrupt just after it, is removed).
        """
        if not self.path.is_file():
            return None
        saved = load_checkpoint(self.path, map_location=device)
        _check_same_run(self.path, saved, self.config, self.nights)
        if saved["pass_number"] != pass_number:
            self.path.unlink()
            return None
        _restore(self.path, saved, model, optimizer, scheduler)
        torch.set_rng_state(saved["rng"])
        if saved["cuda_rng"] is not None:
            torch.cuda.set_rng_state(saved["cuda_rng"], device)
        logger.info(
            "%s: pass %d resumes after step %d", self.path.parent.name, pass_number, saved["steps"]
        )
        return saved


def _pass_rng(config: Config, pass_number: int) -> np.random.Generator:
    """The random generator of one pass: a function of the seed and the pass alone."""
    return np.random.default_rng([config.seed, pass_number])


def _plan(config: Config, n_nights: int, rng: np.random.Generator) -> PassPlan:
    max_shift = round(config.max_shift_frac * config.epoch_samples)
    return plan_pass(n_nights, rng, config.max_skip_epochs, max_shift)


def _make_scheduler(
    optimizer: torch.optim.Optimizer, config: Config, n_epochs: list[int]
) -> OneCycleLR | None:
    """The learning-rate schedule, stepped once per chunk (``None``: constant rate).

    The one-cycle schedule needs its length up front: the steps of every pass are counted
    from that pass's plan, which is known before it runs. Only the rate cycles; Adam's
    betas stay those of the config.
    """
    if config.schedule == "constant":
        return None
    total = sum(
        count_steps(
            _plan(config, len(n_epochs), _pass_rng(config, p)).lengths(n_epochs),
            config.batch_nights,
            config.seq_len,
        )
        for p in range(1, config.max_passes + 1)
    )
    return OneCycleLR(optimizer, max_lr=config.lr, total_steps=total, cycle_momentum=False)


def _train_one_pass(
    model: nn.Module,
    world: World,
    optimizer: torch.optim.Optimizer,
    scheduler: OneCycleLR | None,
    nights: Sequence[Night],
    config: Config,
    pass_number: int,
    device: torch.device,
    precision: Literal["float32", "bfloat16"],
    progress: bool,
    saver: _PassSaver | None = None,
) -> dict[str, float]:
    """One pass over the training nights; returns its loss, accuracy, macro-F1 and the
    share of the most predicted stage (``top_share``), as the network predicted each
    minibatch while it trained (dropout on, augmented).

    ``model`` is the network, or its ``DistributedDataParallel`` wrapper when ``world``
    has several processes: each then feeds its share of every minibatch, and its loss is
    scaled so that the all-reduced (averaged) gradients equal one process's on the whole
    minibatch. With a ``saver``, the pass continues from the one it saved, if any, and is
    saved about every :data:`PASS_CHECKPOINT_SEC` seconds.
    """
    rng = _pass_rng(config, pass_number)
    plan = _plan(config, len(nights), rng)
    torch.manual_seed(int(rng.integers(2**63 - 1)) + world.rank)  # dropout
    n_steps = count_steps(
        plan.lengths([len(n.stages) for n in nights]), config.batch_nights, config.seq_len
    )
    class_weights = torch.tensor(config.class_weights, device=device)
    network = cast(TinySleepNet, getattr(model, "module", model))
    loss_sum = torch.zeros((), device=device)
    outputs: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    model.train()
    state = None
    done = 0
    saved = saver.load(pass_number, network, optimizer, scheduler, device) if saver else None
    if saved is not None:
        done, state, loss_sum = saved["steps"], saved["carried"], saved["loss_sum"]
        outputs.append(tuple(saved["outputs"]))
    signals, stages = [n.signal_uv for n in nights], [n.stages for n in nights]
    chunks = iterate_pass(
        signals,
        stages,
        plan,
        config.batch_nights,
        config.seq_len,
        rank=world.rank,
        world_size=world.size,
    )
    bar = tqdm(
        itertools.islice(chunks, done, None),  # the steps a saved pass has done are skipped
        total=n_steps,
        initial=done,
        desc=f"pass {pass_number}",
        unit="step",
        leave=False,
        disable=None if progress and world.is_main else True,
    )
    saved_at = time.monotonic()
    for step, (x, y, weight, is_first) in enumerate(bar, start=done + 1):
        x, y, weight = (_to_device(t, device) for t in (x, y, weight))
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bfloat16"):
            logits, state = model(x, None if is_first else state)
        state = (state[0].detach(), state[1].detach())  # truncated backpropagation through time
        n_real = world.all_sum(weight.sum())  # over the whole minibatch
        loss = _loss(logits, y, weight, class_weights, n_real)
        optimizer.zero_grad(set_to_none=True)
        (world.size * loss + _l2_penalty(network, config.l2_weight)).backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        # Kept on the device: reading values back every step would stall a GPU.
        loss_sum += loss.detach() * n_real
        outputs.append((logits.detach().argmax(-1).flatten(), y.flatten(), weight.flatten() > 0))
        if saver and step < n_steps and time.monotonic() - saved_at >= PASS_CHECKPOINT_SEC:
            saver.save(
                pass_number, step, network, optimizer, scheduler, state, loss_sum, outputs, device
            )
            saved_at = time.monotonic()
    predicted, expert, real = (
        np.concatenate(world.gather(torch.cat(parts).cpu().numpy()))
        for parts in zip(*outputs, strict=True)
    )
    fit = scores(expert[real], predicted[real])
    loss_total = float(world.all_sum(loss_sum))
    return {
        "loss": loss_total / int(real.sum()),
        "acc": fit["acc"],
        "mf1": fit["mf1"],
        "top_share": top_stage(predicted[real])[1],
    }


def _validate(
    model: TinySleepNet,
    nights: Sequence[Night],
    config: Config,
    precision: Literal["float32", "bfloat16"],
    progress: bool = False,
) -> dict[str, Any]:
    """Stage whole validation nights (eval mode), with a progress bar if ``progress``.

    Returns the scores, the class-weighted loss, and the most predicted stage with its share
    (``top_stage``, ``top_share``), which tells a run stuck at one stage.
    """
    model.eval()
    signals = [n.signal_uv for n in nights]
    label = "validation" if progress else None
    proba = np.concatenate(predict_proba(model, signals, precision=precision, progress=label))
    expert = np.concatenate([n.stages for n in nights])
    # The training loss on the staged probabilities: log-probabilities are logits whose
    # softmax gives them back, so cross-entropy on them is -log p of the expert's stage.
    log_proba = torch.from_numpy(np.log(np.maximum(proba, 1e-12)))[None]
    stages = torch.from_numpy(expert)[None]
    class_weights = torch.tensor(config.class_weights)
    loss = float(_loss(log_proba, stages, torch.ones(stages.shape), class_weights))
    predicted = proba.argmax(axis=1)
    stage, share = top_stage(predicted)
    return {"loss": loss, **scores(expert, predicted), "top_stage": stage, "top_share": share}


def _loss(
    logits: torch.Tensor,
    stages: torch.Tensor,
    weight: torch.Tensor,
    class_weights: torch.Tensor,
    n_real: torch.Tensor | None = None,
) -> torch.Tensor:
    """Cross-entropy weighted by class and by position, normalised by the position weights.

    As in the authors' code: padded positions weigh 0, and the sum is divided by the number
    of real epochs (not by the sum of the class weights, as ``F.cross_entropy`` would):
    ``n_real``, those of the whole minibatch when this process holds a share of it.
    """
    stages = stages.flatten()
    per_epoch = F.cross_entropy(logits.flatten(0, 1).float(), stages, reduction="none")
    total = (per_epoch * weight.flatten() * class_weights[stages]).sum()
    return total / (weight.sum() if n_real is None else n_real)


def _l2_penalty(model: TinySleepNet, l2_weight: float) -> torch.Tensor:
    """``l2_weight * sum(w**2) / 2`` over the conv kernels (TF's ``l2_loss``)."""
    return (
        l2_weight * torch.stack([k.float().square().sum() for k in model.conv_kernels()]).sum() / 2
    )


def _to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Move a batch to the device; pinned memory lets the copy overlap the GPU's work."""
    if device.type != "cuda":
        return tensor
    return tensor.pin_memory().to(device, non_blocking=True)


def _write_log(path: Path, rows: list[dict[str, float]]) -> None:
    """Write ``log.csv``: the rows of the passes ``last.pt`` holds, no more, no fewer."""
    with atomic_path(path) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
