"""What training minimises and how a pass is scored: the loss, the L2 penalty, validation.

As in the authors' code: class-weighted cross-entropy over the real (unpadded) epochs, plus
TF's ``l2_loss`` on the conv kernels; validation stages whole nights in eval mode. Not in
their code: the optional gradient centralization of the conv kernels (``grad_centralize``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from ..config import Config
from ..data.nights import Night
from ..nn.inference import predict_proba
from ..nn.model import TinySleepNet
from ..scoring.metrics import scores
from .stall import top_stage


def loss(
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


def l2_penalty(model: TinySleepNet, l2_weight: float) -> torch.Tensor:
    """``l2_weight * sum(w**2) / 2`` over the conv kernels (TF's ``l2_loss``)."""
    return (
        l2_weight * torch.stack([k.float().square().sum() for k in model.conv_kernels()]).sum() / 2
    )


@torch.no_grad()
def centralize_conv_gradients(model: TinySleepNet) -> None:
    """Gradient centralization of the conv kernels (``Config.grad_centralize``), in place.

    Subtracts from each kernel's gradient its mean over each output channel's fan-in (input
    channels and taps), so that the gradient of every channel sums to zero (Yong et al.,
    "Gradient Centralization", ECCV 2020). Kernels without a gradient (frozen) are skipped.
    """
    for kernel in model.conv_kernels():
        if kernel.grad is not None:
            kernel.grad -= kernel.grad.mean(dim=(1, 2), keepdim=True)


def validate(
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
    value = float(loss(log_proba, stages, torch.ones(stages.shape), class_weights))
    predicted = proba.argmax(axis=1)
    stage, share = top_stage(predicted)
    return {"loss": value, **scores(expert, predicted), "top_stage": stage, "top_share": share}
