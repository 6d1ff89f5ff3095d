"""Noticing a training run that has stalled, so that it never fails silently.

On real-length nights the paper's recipe (raw microvolts into the LSTM) can predict one stage
for dozens of passes before it learns (``benchmarks/README.md``, "Time to accuracy"); on one
real night it wavered between one and two stages with a training loss no better than guessing
the stages' frequencies (``benchmarks/README.md``, "Training on one real night"), and
third-party runs of the authors' code have reported 33 % accuracy. After every pass the
training loop asks :func:`stall_reason` whether the run looks stalled; it logs a warning that
names the run, the pass and the remedy, and records the pass in ``log.csv``. The policy
(:func:`needs_restart`): with ``on_stall="rescale"``, :data:`RESTART_AFTER_PASSES` stalled
passes in a row restart the run once with :data:`~tinysleepnet.config.STALL_REMEDY`
(:func:`~tinysleepnet.training.fit.fit` does it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..config import STALL_REMEDY, Config
from ..stages import N_STAGES, STAGES

#: A pass whose validation predictions put at least this share of epochs in one stage is
#: "one stage". Real cohorts are far from it: the largest stage of Sleep-EDF-20 after the
#: authors' wake trim (N2) holds 40 % of the epochs, and even a validation subject with a
#: long wake period stays well under 90 % of any stage.
ONE_STAGE_SHARE = 0.95

#: Passes over which a training loss that moves by less than :data:`FLAT_LOSS_RTOL` (relative
#: to its mean) counts as flat. A learning run at the paper's rate of 1e-4 lowers its loss by
#: several percent over five passes; a saturated LSTM leaves it within a fraction of that.
FLAT_LOSS_PASSES = 5
FLAT_LOSS_RTOL = 0.005

#: Consecutive stalled passes after which ``on_stall="rescale"`` restarts the run. Early
#: passes of a healthy run may be one stage for a pass or two; five in a row is a stall.
RESTART_AFTER_PASSES = 5


def top_stage(predicted: np.ndarray) -> tuple[str, float]:
    """The most predicted stage and its share of the epochs.

    Parameters
    ----------
    predicted : ndarray of int, shape (n_epochs,)
        Predicted class ids 0..4.

    Returns
    -------
    stage : str
        Its name (``"N2"``).
    share : float
        Fraction of the epochs predicted as that stage, 0..1.
    """
    counts = np.bincount(predicted, minlength=N_STAGES)
    return STAGES[int(counts.argmax())], float(counts.max() / max(len(predicted), 1))


def guess_loss(stages: np.ndarray, class_weights: Sequence[float]) -> float:
    """Training loss of the best guess that ignores the signal: the stages' frequencies.

    The class-weighted cross-entropy per epoch (as the training loop computes it) of
    predicting, for every epoch, the same probabilities, those that minimise it
    (proportional to each stage's count times its weight). A network whose training loss
    is no lower has learnt nothing from the EEG.

    Parameters
    ----------
    stages : ndarray of int, shape (n_epochs,)
        Expert stages of the training epochs, class ids 0..4.
    class_weights : sequence of float
        Weight of each stage in the loss.
    """
    weighted = np.bincount(stages, minlength=N_STAGES) * np.asarray(class_weights, dtype=float)
    present = weighted > 0
    guess = weighted[present] / weighted.sum()
    return float(-(weighted[present] * np.log(guess)).sum() / max(len(stages), 1))


def stall_reason(
    train_losses: Sequence[float],
    valid_top_share: float,
    valid_top: str,
    train_guess_loss: float | None = None,
) -> str:
    """Why the run looks stalled after its latest pass, or ``""`` when it does not.

    Parameters
    ----------
    train_losses : sequence of float
        Training loss of every pass so far, the latest last.
    valid_top_share, valid_top : float, str
        Share of the validation epochs predicted as the most predicted stage, and that stage
        (:func:`top_stage`).
    train_guess_loss : float or None
        :func:`guess_loss` of the training epochs; a pass whose training loss is not lower
        looks stalled (on one real night the paper's recipe wavered between one and two
        stages on the held-out epochs for hundreds of passes, with its training loss above
        this guess's throughout).
    """
    if valid_top_share >= ONE_STAGE_SHARE:
        return f"validation predictions are {100 * valid_top_share:.0f} % {valid_top}"
    if train_guess_loss is not None and train_losses and train_losses[-1] >= train_guess_loss:
        return (
            f"the training loss ({train_losses[-1]:.3f}) is no lower than guessing the "
            f"stages' frequencies ({train_guess_loss:.3f})"
        )
    recent = np.asarray(train_losses[-(FLAT_LOSS_PASSES + 1) :], dtype=float)
    if len(recent) > FLAT_LOSS_PASSES and np.ptp(recent) < FLAT_LOSS_RTOL * abs(recent.mean()):
        return f"the training loss has not moved for {FLAT_LOSS_PASSES} passes"
    return ""


def needs_restart(
    stalled: Sequence[float], config: Config, restarted_after_pass: int | None
) -> bool:
    """Whether the last passes call for the stall remedy (once per run, and only when the
    settings lack it: restarting them unchanged would only repeat the stall).

    Parameters
    ----------
    stalled : sequence of float
        The ``stalled`` column of the run's log so far (1: the pass looked stalled).
    config : Config
        The run's settings.
    restarted_after_pass : int or None
        The pass after which the run was restarted already, if it was.
    """
    return (
        config.on_stall == "rescale"
        and restarted_after_pass is None
        and not has_remedy(config)
        and len(stalled) >= RESTART_AFTER_PASSES
        and all(stalled[-RESTART_AFTER_PASSES:])
    )


def remedied(config: Config) -> Config:
    """The settings of a run restarted after a stall: ``config`` with the remedy."""
    return config.replace(**STALL_REMEDY)


def has_remedy(config: Config) -> bool:
    """Whether a run's settings already include the stall remedy (``fast``, a restart)."""
    return all(getattr(config, name) == value for name, value in STALL_REMEDY.items())


def remedy_text() -> str:
    """The stall remedy's settings, ``"input_scale=0.05, segment_epochs=360"``."""
    return ", ".join(f"{k}={v}" for k, v in STALL_REMEDY.items())


def stall_advice(config: Config, restarted_after_pass: int | None) -> str:
    """What the warning about a stalled pass tells the user to do."""
    if restarted_after_pass is not None:
        return "already restarted with the stall remedy; try --preset fast"
    if has_remedy(config):
        more = (
            "" if config.grad_centralize else " or with gradient centralization (--grad-centralize)"
        )
        return (
            "the run already has the stall remedy; early passes often look so: if it "
            f"persists, train longer (--epochs){more}"
        )
    if config.on_stall == "rescale":
        return f"it restarts with {remedy_text()} after {RESTART_AFTER_PASSES} such passes"
    flags = " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in STALL_REMEDY.items() if getattr(config, k) != v
    )
    return f"if it persists, rerun without --on-stall warn (or with {flags})"
