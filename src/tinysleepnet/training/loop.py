"""One attempt at training TinySleepNet with the authors' recipe, resumable pass by pass.

:func:`run_passes` runs passes over the training nights (:mod:`.batches` makes their
minibatches), scores the validation nights after each pass (:mod:`.objective`), keeps the
best checkpoint and stops early when the validation score stops improving; the files go
into a :class:`~tinysleepnet.training.run.TrainingRun`. Everything a pass needs is saved in
``last.pt`` after it, and each pass draws its randomness from ``(seed, pass)`` alone; a pass
in progress is saved in ``pass.pt`` about every :data:`PASS_CHECKPOINT_SEC` seconds
(weights, optimizer, schedule, the random state of dropout, the position in the pass and
the recurrent state), so an interrupt loses at most that much training, and a run
interrupted at any point and started again with the same arguments ends with exactly the
weights and log of an uninterrupted run (on the same device and thread count).
:func:`~tinysleepnet.training.fit.fit` wraps it with the stall policy and calibration.

One INFO line per pass goes to the ``tinysleepnet`` logger, and a WARNING for every pass
that looks stalled (:mod:`.stall`).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.lr_scheduler import OneCycleLR
from tqdm.auto import tqdm

from ..config import Config
from ..data.nights import CONTENT, Night, content_hash
from ..errors import TinySleepNetError
from ..nn.checkpoint import load_checkpoint, load_weights
from ..nn.device import resolve_device, resolve_precision
from ..nn.model import TinySleepNet
from ..scoring.metrics import scores
from .adam import make_optimizer
from .batches import PassPlan, count_steps, iterate_pass, plan_pass, split_nights
from .distributed import World, current_world, local_device
from .objective import centralize_conv_gradients, l2_penalty, loss, validate
from .run import NightNames, PassSaver, Progress, TrainingRun
from .stall import guess_loss, needs_restart, stall_advice, stall_reason, top_stage

logger = logging.getLogger("tinysleepnet")

#: Seconds of training between two saves of the pass in progress (``pass.pt``, about
#: 20 MB): what an interrupt may lose at most.
PASS_CHECKPOINT_SEC = 60.0


@dataclass(frozen=True)
class Start:
    """What an attempt starts from besides its settings (see :func:`~.fit.fit`).

    Attributes
    ----------
    amplitude_uv : float
        Reference amplitude of the training nights (microvolts), stored with every checkpoint.
    init_weights : str or Path or None
        Checkpoint whose weights start the run instead of a fresh initialisation.
    frozen : tuple of str
        Parameter-name prefixes left out of training.
    restarted_after_pass : int or None
        The pass after which the stall policy restarted the run (this attempt is the
        restart), or None for a first attempt.
    """

    amplitude_uv: float
    init_weights: str | Path | None = None
    frozen: tuple[str, ...] = ()
    restarted_after_pass: int | None = None


@dataclass(frozen=True)
class Trainer:
    """What every training step works with, made once per attempt (:func:`_trainer`).

    Attributes
    ----------
    network : TinySleepNet
        The network being trained (what checkpoints save and validation stages).
    model : torch.nn.Module
        What a step runs: ``network``, or its ``DistributedDataParallel`` wrapper when
        ``world`` has several processes (it all-reduces the gradients of every step).
    optimizer : torch.optim.Optimizer
        The optimizer of the parameters left to train.
    scheduler : OneCycleLR or None
        The learning-rate schedule, stepped once per chunk; None: a constant rate.
    device : torch.device
        Where this process trains.
    precision : {"float32", "bfloat16"}
        Precision of the CNN (:func:`~tinysleepnet.nn.device.resolve_precision`).
    world : World
        The processes training the model.
    saver : PassSaver or None
        Saves the pass in progress (``pass.pt``); None under torchrun, where each process
        holds its own share of the recurrent state and of the random draws.
    """

    network: TinySleepNet
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: OneCycleLR | None
    device: torch.device
    precision: Literal["float32", "bfloat16"]
    world: World
    saver: PassSaver | None


def run_passes(
    train_nights: Sequence[Night],
    valid_nights: Sequence[Night],
    config: Config,
    run: TrainingRun,
    start: Start,
    progress: bool,
) -> tuple[Progress, Config]:
    """Train until the run stops (passes, patience, or a stall that calls for a restart),
    resumed from ``last.pt`` if present; run within ``torch_threads(config.threads)``.

    Returns the training state after the last pass and the settings the weights were
    trained with (those of ``config``, with the number of processes in ``extra``).
    """
    device = resolve_device(local_device(config.device))
    world = current_world(device)
    if config.batch_nights < world.size:
        raise TinySleepNetError(
            f"{world.size} processes need at least as many nights per minibatch "
            f"(batch_nights is {config.batch_nights})"
        )
    config = config.replace(extra={**config.extra, "world_size": world.size})
    nights = {
        "train": [n.name for n in train_nights],
        "valid": [n.name for n in valid_nights],
        CONTENT: content_hash([*train_nights, *valid_nights]),
    }
    segments = split_nights(train_nights, config.segment_epochs)
    trainer, state = _trainer(config, start, run, nights, segments, world, device)
    if world.is_main:
        run.begin(config, state)
    if world.size > 1:
        logger.info("%s: training on %d processes", run.name, world.size)
    guess = guess_loss(np.concatenate([n.stages for n in segments]), config.class_weights)
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
            and not needs_restart(
                [row["stalled"] for row in state.log], config, start.restarted_after_pass
            )
        ):
            pass_number = state.passes_done + 1
            started = time.perf_counter()
            fit = _train_one_pass(trainer, segments, config, pass_number, progress)
            valid = validate(
                trainer.network, valid_nights, config, trainer.precision, progress and world.is_main
            )
            losses = [row["train_loss"] for row in state.log] + [fit["loss"]]
            stall = stall_reason(losses, valid["top_share"], valid["top_stage"], guess)
            if stall:
                stall = f"{stall}; {stall_advice(config, start.restarted_after_pass)}"
            row = {
                "pass": pass_number,
                **{f"train_{k}": v for k, v in fit.items()},
                **{f"valid_{k}": valid[k] for k in ("loss", "acc", "mf1", "top_share")},
                "stalled": int(bool(stall)),
                "world_size": world.size,
                "lr": trainer.optimizer.param_groups[0]["lr"],
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
                run.save_pass(
                    trainer.network,
                    trainer.optimizer,
                    trainer.scheduler,
                    config,
                    state,
                    nights,
                    kept,
                    start.amplitude_uv,
                )
                run.pass_path.unlink(missing_ok=True)  # last.pt now has it all
                _log_pass(run.name, row, config.max_passes, kept, stall)
            passes.update()
    return state, config


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


def _plan(config: Config, pass_number: int, n_epochs: Sequence[int]) -> tuple[PassPlan, int, int]:
    """Pass ``pass_number`` over nights of ``n_epochs`` epochs: its plan, its number of
    optimizer steps and the seed of its dropout, drawn from ``(seed, pass)`` alone."""
    rng = np.random.default_rng([config.seed, pass_number])
    max_shift = round(config.max_shift_frac * config.epoch_samples)
    plan = plan_pass(len(n_epochs), rng, config.max_skip_epochs, max_shift)
    steps = count_steps(plan.lengths(n_epochs), config.batch_nights, config.seq_len)
    return plan, steps, int(rng.integers(2**63 - 1))


def _trainer(
    config: Config,
    start: Start,
    run: TrainingRun,
    nights: NightNames,
    segments: Sequence[Night],
    world: World,
    device: torch.device,
) -> tuple[Trainer, Progress]:
    """What the attempt's steps work with (:class:`Trainer`) and its training state: the
    weights, optimizer and schedule put back from the run's ``last.pt`` when it has one,
    else fresh (the weights of ``start.init_weights`` when given)."""
    precision = resolve_precision(config.precision, device)
    torch.manual_seed(config.seed)
    network = TinySleepNet(config).to(device)
    if start.init_weights is not None:
        parent = load_checkpoint(start.init_weights, map_location=device)
        load_weights(start.init_weights, network, parent)
    for name, param in network.named_parameters():
        param.requires_grad_(not name.startswith(start.frozen))
    optimizer = make_optimizer([p for p in network.parameters() if p.requires_grad], config)
    scheduler = _make_scheduler(optimizer, config, [len(n.stages) for n in segments])
    state = run.resume(config, nights, network, optimizer, scheduler)
    model: nn.Module = network
    if world.size > 1:  # all-reduces the gradients of every step over the processes
        model = DistributedDataParallel(
            network, device_ids=[device] if device.type == "cuda" else None
        )
    # One process alone can save a pass in progress.
    saver = PassSaver(run.pass_path, config, nights) if world.size == 1 else None
    return Trainer(network, model, optimizer, scheduler, device, precision, world, saver), state


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
    total = sum(_plan(config, p, n_epochs)[1] for p in range(1, config.max_passes + 1))
    return OneCycleLR(optimizer, max_lr=config.lr, total_steps=total, cycle_momentum=False)


def _train_one_pass(
    trainer: Trainer,
    nights: Sequence[Night],
    config: Config,
    pass_number: int,
    progress: bool,
) -> dict[str, float]:
    """One pass over the training nights; returns its loss, accuracy, macro-F1 and the
    share of the most predicted stage (``top_share``), as the network predicted each
    minibatch while it trained (dropout on, augmented).

    When the trainer's world has several processes, each feeds its share of every
    minibatch, and its loss is scaled so that the all-reduced (averaged) gradients equal one
    process's on the whole minibatch. With the trainer's ``saver``, the pass continues from
    the one it saved, if any, and is saved about every :data:`PASS_CHECKPOINT_SEC` seconds.
    """
    model, network, world, device = trainer.model, trainer.network, trainer.world, trainer.device
    optimizer, scheduler, saver = trainer.optimizer, trainer.scheduler, trainer.saver
    plan, n_steps, dropout_seed = _plan(config, pass_number, [len(n.stages) for n in nights])
    torch.manual_seed(dropout_seed + world.rank)
    class_weights = torch.tensor(config.class_weights, device=device)
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
    bf16 = trainer.precision == "bfloat16"
    for step, (x, y, weight, is_first) in enumerate(bar, start=done + 1):
        if device.type == "cuda":  # pinned memory lets the copies overlap the GPU's work
            x, y, weight = (t.pin_memory().to(device, non_blocking=True) for t in (x, y, weight))
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            logits, state = model(x, None if is_first else state)
        state = (state[0].detach(), state[1].detach())  # truncated backpropagation through time
        n_real = world.all_sum(weight.sum())  # over the whole minibatch
        step_loss = loss(logits, y, weight, class_weights, n_real)
        optimizer.zero_grad(set_to_none=True)
        (world.size * step_loss + l2_penalty(network, config.l2_weight)).backward()
        if config.grad_centralize:
            centralize_conv_gradients(network)
        nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        # Kept on the device: reading values back every step would stall a GPU.
        loss_sum += step_loss.detach() * n_real
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


def _log_pass(run: str, row: dict[str, float], max_passes: int, kept: bool, stall: str) -> None:
    """One INFO line per pass, and a WARNING when the pass looks stalled (``stall``: why,
    and the remedy)."""
    logger.info(
        "%s pass %d/%d: train loss %.4f acc %.3f | valid loss %.4f acc %.3f mf1 %.3f%s (%.0f s)",
        run,
        row["pass"],
        max_passes,
        row["train_loss"],
        row["train_acc"],
        row["valid_loss"],
        row["valid_acc"],
        row["valid_mf1"],
        " kept" if kept else "",
        row["seconds"],
    )
    if stall:
        logger.warning("%s pass %d: training may have stalled: %s", run, row["pass"], stall)
