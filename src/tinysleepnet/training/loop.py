"""Training TinySleepNet with the authors' recipe, resumable pass by pass.

One call of :func:`train` runs passes over the training nights (:mod:`.batches` makes their
minibatches), scores the validation nights after each pass, keeps the best checkpoint and
stops early when the validation score stops improving. Everything a pass needs is saved in
``last.pt`` after it, and each pass draws its randomness from ``(seed, pass)`` alone, so a run
interrupted at any point and started again with the same arguments ends with exactly the
weights and log of an uninterrupted run (on the same device and thread count).

Files written into the output folder (each atomically)::

    config.json   the settings (Config.save)
    log.csv       one row per pass: pass, train_loss, train_acc, train_mf1,
                  valid_loss, valid_acc, valid_mf1, lr, seconds
    best.pt       weights of the pass with the best validation score, with those scores
    last.pt       weights, optimizer, schedule and progress after the last finished pass
"""

from __future__ import annotations

import dataclasses
import platform
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.lr_scheduler import OneCycleLR
from tqdm.auto import tqdm

from ..config import Config
from ..data.nights import Night
from ..errors import RecordingError, TinySleepNetError
from ..evaluation.metrics import scores
from ..io.atomic import atomic_path
from ..model import TinySleepNet
from ..prediction.inference import PRECISIONS, predict_proba
from .batches import PassPlan, count_steps, iterate_pass, plan_pass, split_nights
from .checkpoint import load_checkpoint, save_checkpoint

#: Settings that may change when a run is resumed (they do not change what a pass computes;
#: ``precision`` does, so it is not one of them).
_RESUMABLE_FIELDS = ("max_passes", "patience", "device", "extra")


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
        Validation scores of that pass (:func:`~tinysleepnet.evaluation.metrics.scores`,
        plus ``loss``).
    log : pandas.DataFrame
        One row per pass, as in ``log.csv``.
    stopped_early : bool
        Whether training stopped after ``patience`` passes without improvement.
    """

    best_path: Path
    last_path: Path
    best_pass: int
    best_score: dict[str, Any]
    log: pd.DataFrame
    stopped_early: bool


@dataclass
class _Progress:
    """Training state saved in ``last.pt`` besides the weights, optimizer and schedule."""

    passes_done: int = 0
    best_pass: int = 0
    best_score: dict[str, Any] | None = None
    bad_passes: int = 0
    log: list[dict[str, float]] = field(default_factory=list)


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

    The training nights are first cut into segments when ``config.segment_epochs`` asks so.
    Each pass shuffles and augments the training nights, takes one Adam step per chunk of
    ``config.seq_len`` epochs of ``config.batch_nights`` nights (class-weighted
    cross-entropy plus L2 on the conv kernels, gradients clipped to ``config.clip_norm``),
    then stages the validation nights. Both run the CNN at the precision of
    :func:`resolve_precision`. The pass with the best ``config.monitor`` score (ties
    broken by the other of accuracy and macro-F1) is kept as ``best.pt``; training stops
    after ``config.max_passes`` passes or ``config.patience`` passes without improvement.

    Parameters
    ----------
    train_nights : sequence of Night
        Nights the weights are fitted on, sampled at ``config.sfreq``.
    valid_nights : sequence of Night
        Nights that choose the best pass and stop training; never the test nights.
    config : Config
        Model and training settings.
    out_dir : str or Path
        Folder for ``config.json``, ``log.csv``, ``best.pt`` and ``last.pt``. If it holds a
        ``last.pt``, training resumes from it (and returns at once if that run finished).
    progress : bool
        Show progress bars over passes and steps (on stderr).
    init_weights : str or Path or None
        Checkpoint whose weights training starts from (fine-tuning) instead of a random
        initialisation; its network must have the settings of ``config``.
    frozen : sequence of str
        Submodules of the network whose weights stay fixed (e.g. ``("conv1", "convs")``:
        the CNN, to train only the LSTM and classifier).

    Returns
    -------
    TrainResult

    Raises
    ------
    TinySleepNetError
        If there are no training or validation nights, a night does not match
        ``config.sfreq`` and ``config.epoch_samples``, or ``out_dir`` holds a run with other
        settings (other than ``max_passes``, ``patience``, ``device``) or other nights.
    """
    _check_nights(train_nights, valid_nights, config)
    out_dir = Path(out_dir)
    best_path, last_path = out_dir / "best.pt", out_dir / "last.pt"
    device = resolve_device(config.device)
    precision = resolve_precision(config.precision, device)
    torch.manual_seed(config.seed)
    model = TinySleepNet(config).to(device)
    if init_weights is not None:
        model.load_state_dict(load_checkpoint(init_weights)["model"])
    for name in frozen:
        model.get_submodule(name).requires_grad_(False)
    optimizer = torch.optim.Adam(
        model.parameters(),
        lr=config.lr,
        betas=(config.adam_beta1, config.adam_beta2),
        eps=config.adam_eps,
    )
    nights = {"train": [n.name for n in train_nights], "valid": [n.name for n in valid_nights]}
    train_nights = split_nights(train_nights, config.segment_epochs)
    scheduler = _make_scheduler(optimizer, config, [len(n.stages) for n in train_nights])
    state = _resume(last_path, config, nights, model, optimizer, scheduler)
    config.save(out_dir / "config.json")

    passes = tqdm(
        total=config.max_passes,
        initial=state.passes_done,
        desc="training",
        unit="pass",
        disable=not progress,
    )
    with passes:
        while state.passes_done < config.max_passes and state.bad_passes < config.patience:
            pass_number = state.passes_done + 1
            started = time.perf_counter()
            fit = _train_one_pass(
                model,
                optimizer,
                scheduler,
                train_nights,
                config,
                pass_number,
                device,
                precision,
                progress,
            )
            valid = _validate(model, valid_nights, config, precision)
            state.log.append(
                {
                    "pass": pass_number,
                    **{f"train_{k}": v for k, v in fit.items()},
                    **{f"valid_{k}": valid[k] for k in ("loss", "acc", "mf1")},
                    "lr": optimizer.param_groups[0]["lr"],
                    "seconds": time.perf_counter() - started,
                }
            )
            state.passes_done = pass_number
            if _improved(valid, state.best_score, config.monitor):
                state.best_pass, state.best_score, state.bad_passes = pass_number, valid, 0
                save_checkpoint(best_path, model, config, pass_number=pass_number, scores=valid)
            else:
                state.bad_passes += 1
            save_checkpoint(
                last_path,
                model,
                config,
                optimizer=optimizer.state_dict(),
                scheduler=scheduler.state_dict() if scheduler else None,
                progress=dataclasses.asdict(state),
                nights=nights,
            )
            _write_log(out_dir / "log.csv", state.log)
            passes.update()
            passes.set_postfix(
                {
                    "loss": f"{fit['loss']:.3f}",
                    "valid acc": f"{valid['acc']:.3f}",
                    "valid mf1": f"{valid['mf1']:.3f}",
                }
            )

    assert state.best_score is not None  # at least one pass ran, now or before
    return TrainResult(
        best_path=best_path,
        last_path=last_path,
        best_pass=state.best_pass,
        best_score=state.best_score,
        log=pd.DataFrame(state.log),
        stopped_early=state.bad_passes >= config.patience,
    )


def resolve_device(name: str) -> torch.device:
    """The torch device of a :attr:`Config.device` setting (``"auto"``: CUDA when present)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def resolve_precision(
    precision: Literal["auto", "float32", "bfloat16"], device: torch.device
) -> Literal["float32", "bfloat16"]:
    """The arithmetic of the CNN for a :attr:`Config.precision` setting on a device.

    Parameters
    ----------
    precision : {"auto", "float32", "bfloat16"}
        ``"auto"``: bfloat16 on CUDA, float32 elsewhere (so the paper's recipe runs in
        float32 on CPUs, as the authors trained it).
    device : torch.device
        Device the model runs on.

    Returns
    -------
    {"float32", "bfloat16"}
        The ``precision`` of :func:`~tinysleepnet.prediction.inference.predict_proba`.
        ``"bfloat16"`` on a CPU without bfloat16 instructions gives ``"float32"`` with a
        warning: emulated bfloat16 is slower than float32.

    Raises
    ------
    TinySleepNetError
        If ``precision`` is none of the above.
    """
    if precision not in ("auto", *PRECISIONS):
        raise TinySleepNetError(
            f"precision must be one of 'auto', {', '.join(map(repr, PRECISIONS))}; "
            f"got {precision!r}"
        )
    if precision == "auto":
        return "bfloat16" if device.type == "cuda" else "float32"
    if precision == "bfloat16" and device.type == "cpu" and not _cpu_has_native_bfloat16():
        warnings.warn(
            "this CPU has no bfloat16 instructions (AVX512-BF16, AMX or ARM BF16); "
            "training in float32 instead",
            RuntimeWarning,
            stacklevel=3,
        )
        return "float32"
    return precision


def _cpu_has_native_bfloat16() -> bool:
    """Whether the CPU computes in bfloat16 natively rather than by emulation."""
    if not torch.backends.mkldnn.is_available():
        return False
    if platform.machine().lower() in ("x86_64", "amd64"):
        # oneDNN's own check (torch.ops.mkldnn._is_mkldnn_bf16_supported) also accepts
        # plain AVX-512, where bfloat16 is emulated and slower than float32.
        return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())  # ARM: the BF16 extension


def _check_nights(
    train_nights: Sequence[Night], valid_nights: Sequence[Night], config: Config
) -> None:
    if not train_nights or not valid_nights:
        raise TinySleepNetError(
            f"training needs training and validation nights, got {len(train_nights)} "
            f"and {len(valid_nights)}"
        )
    for night in [*train_nights, *valid_nights]:
        if night.sfreq != config.sfreq or night.signal_uv.shape[1] != config.epoch_samples:
            raise TinySleepNetError(
                f"night {night.name}: epochs of {night.signal_uv.shape[1]} samples at "
                f"{night.sfreq:g} Hz, the model expects {config.epoch_samples} at "
                f"{config.sfreq:g} Hz; prepare the data with --sfreq {config.sfreq:g}"
            )


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
    free = set(_RESUMABLE_FIELDS)
    if config.schedule == "onecycle":
        free.discard("max_passes")  # the schedule's length depends on it
    if detail := config.differences(Config.from_dict(saved["config"]), ignore=free):
        raise RecordingError(
            last_path, f"holds a run with other settings: {detail}; use another output folder"
        )
    if saved["nights"] != nights:
        raise RecordingError(last_path, "holds a run on other nights; use another output folder")
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(saved["scheduler"])
    return _Progress(**saved["progress"])


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
    model: TinySleepNet,
    optimizer: torch.optim.Optimizer,
    scheduler: OneCycleLR | None,
    nights: Sequence[Night],
    config: Config,
    pass_number: int,
    device: torch.device,
    precision: Literal["float32", "bfloat16"],
    progress: bool,
) -> dict[str, float]:
    """One pass over the training nights; returns its loss, accuracy and macro-F1."""
    rng = _pass_rng(config, pass_number)
    plan = _plan(config, len(nights), rng)
    torch.manual_seed(int(rng.integers(2**63 - 1)))  # dropout
    n_steps = count_steps(
        plan.lengths([len(n.stages) for n in nights]), config.batch_nights, config.seq_len
    )
    class_weights = torch.tensor(config.class_weights, device=device)
    loss_sum = torch.zeros((), device=device)
    outputs: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    model.train()
    state = None
    signals, stages = [n.signal_uv for n in nights], [n.stages for n in nights]
    chunks = iterate_pass(signals, stages, plan, config.batch_nights, config.seq_len)
    bar = tqdm(
        chunks,
        total=n_steps,
        desc=f"pass {pass_number}",
        unit="step",
        leave=False,
        disable=not progress,
    )
    for x, y, weight, is_first in bar:
        x, y, weight = (_to_device(t, device) for t in (x, y, weight))
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bfloat16"):
            logits, state = model(x, None if is_first else state)
        state = (state[0].detach(), state[1].detach())  # truncated backpropagation through time
        loss = _loss(logits, y, weight, class_weights)
        _optimizer_step(
            model, optimizer, loss + _l2_penalty(model, config.l2_weight), config.clip_norm
        )
        if scheduler is not None:
            scheduler.step()
        # Kept on the device: reading values back every step would stall a GPU.
        loss_sum += loss.detach() * weight.sum()
        outputs.append((logits.detach().argmax(-1).flatten(), y.flatten(), weight.flatten() > 0))
    predicted, expert, real = (
        torch.cat(parts).cpu().numpy() for parts in zip(*outputs, strict=True)
    )
    fit = scores(expert[real], predicted[real])
    return {"loss": float(loss_sum) / int(real.sum()), "acc": fit["acc"], "mf1": fit["mf1"]}


def _validate(
    model: TinySleepNet,
    nights: Sequence[Night],
    config: Config,
    precision: Literal["float32", "bfloat16"],
) -> dict[str, Any]:
    """Stage whole validation nights (eval mode); scores plus the class-weighted loss."""
    model.eval()
    signals = [n.signal_uv for n in nights]
    proba = np.concatenate(predict_proba(model, signals, precision=precision))
    expert = np.concatenate([n.stages for n in nights])
    picked = proba[np.arange(len(expert)), expert]
    weights = np.asarray(config.class_weights)[expert]
    loss = float(np.sum(-np.log(np.maximum(picked, 1e-12)) * weights) / len(expert))
    return {"loss": loss, **scores(expert, proba.argmax(axis=1))}


def _loss(
    logits: torch.Tensor, stages: torch.Tensor, weight: torch.Tensor, class_weights: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy weighted by class and by position, normalised by the position weights.

    As in the authors' code: padded positions weigh 0, and the sum is divided by the number
    of real epochs (not by the sum of the class weights, as ``F.cross_entropy`` would).
    """
    stages = stages.flatten()
    per_epoch = F.cross_entropy(logits.flatten(0, 1).float(), stages, reduction="none")
    return (per_epoch * weight.flatten() * class_weights[stages]).sum() / weight.sum()


def _l2_penalty(model: TinySleepNet, l2_weight: float) -> torch.Tensor:
    """``l2_weight * sum(w**2) / 2`` over the conv kernels (TF's ``l2_loss``)."""
    return (
        l2_weight * torch.stack([k.float().square().sum() for k in model.conv_kernels()]).sum() / 2
    )


def _optimizer_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, loss: torch.Tensor, clip_norm: float
) -> None:
    """Backpropagate ``loss``, clip the gradients to a global norm, update the weights."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
    optimizer.step()


def _improved(valid: dict[str, Any], best: dict[str, Any] | None, monitor: str) -> bool:
    """Whether ``valid`` beats ``best`` on ``monitor``, ties broken by the other score."""
    if best is None:
        return True
    other = "acc" if monitor == "mf1" else "mf1"
    return (valid[monitor], valid[other]) > (best[monitor], best[other])


def _to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Move a batch to the device; pinned memory lets the copy overlap the GPU's work."""
    if device.type != "cuda":
        return tensor
    return tensor.pin_memory().to(device, non_blocking=True)


def _write_log(path: Path, rows: list[dict[str, float]]) -> None:
    with atomic_path(path) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
