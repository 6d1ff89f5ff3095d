"""A training run's folder: its file names, its saved state and its resume-or-refuse rule.

Files of a training run (each written atomically)::

    config.json   the settings (Config.save), with the channel, rate and epoch length of
                  the nights it was trained on
    log.csv       one row per pass: pass, train_loss, train_acc, train_mf1,
                  train_top_share, valid_loss, valid_acc, valid_mf1, valid_top_share
                  (train_ and valid_top_share: share of the most predicted stage, on the
                  pass's training minibatches and on the validation nights), stalled (1
                  when the pass looked stalled), world_size, lr, seconds
    best.pt       weights of the kept ("best") pass, with its validation scores, calibrated
                  once training is done (``temperature``)
    last.pt       weights, optimizer, schedule and progress after the last finished pass
    pass.pt       the pass in progress (removed once the pass is done; one process only)
    stalled/      the first attempt's files, when ``on_stall="rescale"`` restarted the run
    predictions/  a cross-validation fold's staged test nights (one ``.npz`` each)
    DONE          a cross-validation fold's test scores; written last

A run is continued only with the settings it was started with, but for those whose role
(:data:`~tinysleepnet.config.ROLES`) is ``resumable``, ``call`` or ``runtime``, and only
on the same nights.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import torch
from torch.optim.lr_scheduler import OneCycleLR

from ..config import RERUN_FREE_FIELDS, Config, fields_with_role
from ..data.nights import CONTENT, other_contents
from ..errors import PathError
from ..io.atomic import atomic_path, read_json, remove_stale_partials, write_json
from ..nn.checkpoint import checkpoint_config, load_checkpoint, load_weights, save_checkpoint
from ..nn.model import TinySleepNet

logger = logging.getLogger("tinysleepnet")

#: Names of the training and validation nights of a run, as ``last.pt`` holds them.
#: A run's nights: ``{"train": names, "valid": names, CONTENT: their content SHA-256}``
#: (:func:`~tinysleepnet.data.nights.content_hash` of the training and validation nights).
NightNames = dict[str, Any]

#: Why a checkpoint whose weights load cannot continue a run.
_NO_TRAINING_STATE = "holds no usable training state; use another output folder"


@dataclass
class Progress:
    """Training state saved in ``last.pt`` besides the weights, optimizer and schedule."""

    passes_done: int = 0
    best_pass: int = 0
    best_score: dict[str, Any] | None = None
    bad_passes: int = 0
    log: list[dict[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class TrainingRun:
    """The folder of one training run (``train``'s output, a fold, a release's ``training/``).

    Parameters
    ----------
    folder : Path
        The run's folder; nothing is written by making the object.
    """

    folder: Path

    CONFIG: ClassVar[str] = "config.json"
    LOG: ClassVar[str] = "log.csv"
    BEST: ClassVar[str] = "best.pt"
    LAST: ClassVar[str] = "last.pt"
    PASS: ClassVar[str] = "pass.pt"
    STALLED: ClassVar[str] = "stalled"
    PREDICTIONS: ClassVar[str] = "predictions"
    DONE: ClassVar[str] = "DONE"

    def __post_init__(self) -> None:
        object.__setattr__(self, "folder", Path(self.folder))

    @property
    def name(self) -> str:
        """The folder's name (``fold_03``), for log lines."""
        return self.folder.name

    @property
    def config_path(self) -> Path:
        return self.folder / self.CONFIG

    @property
    def log_path(self) -> Path:
        return self.folder / self.LOG

    @property
    def best_path(self) -> Path:
        return self.folder / self.BEST

    @property
    def last_path(self) -> Path:
        return self.folder / self.LAST

    @property
    def pass_path(self) -> Path:
        return self.folder / self.PASS

    @property
    def stalled_dir(self) -> Path:
        return self.folder / self.STALLED

    @property
    def predictions_dir(self) -> Path:
        return self.folder / self.PREDICTIONS

    def prediction_path(self, night: str) -> Path:
        """The staged test night ``night`` of a cross-validation fold (``.npz``)."""
        return self.predictions_dir / f"{night}.npz"

    @property
    def done_path(self) -> Path:
        return self.folder / self.DONE

    @property
    def is_done(self) -> bool:
        """Whether the run's ``DONE`` record is written (a finished cross-validation fold)."""
        return self.done_path.is_file()

    def read_done(self) -> dict[str, Any]:
        """The ``DONE`` record (one-line error naming the file if it is missing or damaged)."""
        return read_json(self.done_path, "finished fold")

    def write_done(self, record: dict[str, Any]) -> None:
        """Write the ``DONE`` record, the run's last file."""
        write_json(self.done_path, record)

    @property
    def restarted_after_pass(self) -> int | None:
        """The pass after which the stall policy restarted this run, if it did: the passes
        of the first attempt, set aside in ``stalled/``."""
        last = self.stalled_dir / self.LAST
        if not last.is_file():
            return None
        return int(load_checkpoint(last)["progress"]["passes_done"])

    def set_aside(self) -> None:
        """Move a stalled attempt's files into ``stalled/``, so the restart begins afresh."""
        aside = self.stalled_dir
        aside.mkdir(exist_ok=True)
        for name in (self.CONFIG, self.LOG, self.BEST, self.LAST):
            if (self.folder / name).exists():
                shutil.move(self.folder / name, aside / name)

    def begin(self, config: Config, state: Progress) -> None:
        """Write the settings of a run (re)starting from ``state``, and the log as of it (a
        run killed between ``last.pt`` and ``log.csv``); remove partial checkpoint writes."""
        config.save(self.config_path)
        if state.log:
            write_log(self.log_path, state.log)
        for path in (self.best_path, self.last_path):  # a finished run writes them no more
            remove_stale_partials(path)

    def resume(
        self,
        config: Config,
        nights: NightNames,
        model: TinySleepNet,
        optimizer: torch.optim.Optimizer,
        scheduler: OneCycleLR | None,
    ) -> Progress:
        """The state of an earlier run from ``last.pt``, put back into the model, optimizer
        and schedule after checking it is the same run; a fresh state when there is none."""
        if not self.last_path.is_file():
            return Progress()
        saved = load_checkpoint(self.last_path)
        check_same_run(self.last_path, saved, config, nights)
        restore(self.last_path, saved, model, optimizer, scheduler)
        try:
            return Progress(**saved["progress"])
        except (KeyError, TypeError) as err:
            raise PathError.wrap(self.last_path, _NO_TRAINING_STATE, err) from err

    def save_pass(
        self,
        model: TinySleepNet,
        optimizer: torch.optim.Optimizer,
        scheduler: OneCycleLR | None,
        config: Config,
        state: Progress,
        nights: NightNames,
        kept: bool,
        amplitude_uv: float,
    ) -> None:
        """Write ``best.pt`` (when the pass is kept), ``last.pt`` and ``log.csv`` after a
        pass, each with the training nights' reference amplitude ``amplitude_uv``."""
        if kept:
            write_checkpoint(
                self.best_path,
                model,
                config,
                pass_number=state.passes_done,
                scores=state.best_score,
                reference_amplitude_uv=amplitude_uv,
            )
        write_checkpoint(
            self.last_path,
            model,
            config,
            optimizer=optimizer.state_dict(),
            scheduler=scheduler.state_dict() if scheduler else None,
            progress=dataclasses.asdict(state),
            nights=nights,
            reference_amplitude_uv=amplitude_uv,
        )
        write_log(self.log_path, state.log)


def resumable_fields(config: Config) -> set[str]:
    """Settings a training run may be resumed with other values of (roles ``resumable``,
    ``call`` and ``runtime``); not ``max_passes`` under the one-cycle schedule, whose
    length depends on it."""
    free = {*fields_with_role("resumable"), *RERUN_FREE_FIELDS}
    if config.schedule == "onecycle":
        free.discard("max_passes")
    return free


def check_same_run(path: Path, saved: dict[str, Any], config: Config, nights: NightNames) -> None:
    """Refuse to resume from a checkpoint of another run (settings, nights or the nights'
    contents); a checkpoint of an earlier version, which records no contents, resumes with a
    warning."""
    if detail := config.differences(
        checkpoint_config(path, saved), ignore=resumable_fields(config)
    ):
        raise PathError(
            path, f"holds a run with other settings: {detail}; use another output folder"
        )
    earlier = dict(saved["nights"])
    recorded = earlier.pop(CONTENT, None)
    if earlier != {k: v for k, v in nights.items() if k != CONTENT}:
        raise PathError(path, "holds a run on other nights; use another output folder")
    if recorded is None:
        logger.warning(
            "%s records no contents of its nights (an earlier version's): it is not checked "
            "to be a run on these signals and stages",
            path,
        )
    elif recorded != nights[CONTENT]:
        raise PathError(
            path,
            f"holds a run on {other_contents(nights[CONTENT], recorded)}; use another output "
            "folder",
        )


def restore(
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


@dataclass
class PassSaver:
    """Saves and restores a pass in progress (``pass.pt``).

    The file holds what the rest of the pass needs to run as if never interrupted: the
    weights, optimizer and schedule after ``steps`` optimizer steps, the recurrent state
    carried into the next chunk, the random state of dropout, and the loss and predictions
    summed so far. The order and augmentation of the pass are a function of the seed and
    the pass number, so the position is the number of steps done.
    """

    path: Path
    config: Config
    nights: NightNames

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
        check_same_run(self.path, saved, self.config, self.nights)
        if saved["pass_number"] != pass_number:
            self.path.unlink()
            return None
        restore(self.path, saved, model, optimizer, scheduler)
        torch.set_rng_state(saved["rng"])
        if saved["cuda_rng"] is not None:
            torch.cuda.set_rng_state(saved["cuda_rng"], device)
        logger.info(
            "%s: pass %d resumes after step %d", self.path.parent.name, pass_number, saved["steps"]
        )
        return saved


def write_checkpoint(path: Path, model: TinySleepNet, config: Config, **state: Any) -> None:
    """:func:`~tinysleepnet.nn.checkpoint.save_checkpoint`, a failed write (a full disk:
    torch raises a RuntimeError) refused in one line naming the file. The write is atomic,
    so the file from the last pass written stays as it was."""
    try:
        save_checkpoint(path, model, config, **state)
    except RuntimeError as err:
        raise PathError.wrap(
            path, "cannot be written (disk full?); the last checkpoint written is kept", err
        ) from err


def write_log(path: Path, rows: list[dict[str, float]]) -> None:
    """Write ``log.csv``: the rows of the passes ``last.pt`` holds, no more, no fewer."""
    with atomic_path(path) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
