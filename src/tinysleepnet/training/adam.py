"""The optimiser of a run: TensorFlow's Adam (the authors') or PyTorch's.

The two differ only in where epsilon enters. ``torch.optim.Adam`` divides the bias-corrected
moments, ``m_hat / (sqrt(v_hat) + eps)``; TensorFlow's ``ApplyAdam`` (the authors'
``tf.train.AdamOptimizer``) folds the bias corrections into the step size and adds epsilon to
the uncorrected ``sqrt(v)``, Kingma & Ba's "epsilon hat". In PyTorch's formula that is an
epsilon of ``eps / sqrt(1 - beta2**t)`` at step ``t``: 3.2e-7 instead of 1e-8 at the first
step, which changes the update of every weight whose gradient is below about 1e-6 (most of
them while the LSTM is saturated).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch

from ..config import Config


class TFAdam(torch.optim.Optimizer):
    """Adam as TensorFlow's ``ApplyAdam`` computes it.

    At step ``t``::

        m = m + (g - m) * (1 - beta1)
        v = v + (g**2 - v) * (1 - beta2)
        w = w - lr * sqrt(1 - beta2**t) / (1 - beta1**t) * m / (sqrt(v) + eps)

    The state has ``torch.optim.Adam``'s names and meaning (``step``, ``exp_avg``,
    ``exp_avg_sq``).

    Parameters
    ----------
    params : iterable of Tensor
        The weights to train.
    lr : float
        Learning rate.
    betas : (float, float)
        Decay rates of the first and second moments.
    eps : float
        TensorFlow's epsilon, added to ``sqrt(v)``.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """One update of every parameter that has a gradient."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                if not state:
                    state["step"] = torch.zeros((), dtype=torch.float32)
                    state["exp_avg"] = torch.zeros_like(param)
                    state["exp_avg_sq"] = torch.zeros_like(param)
                state["step"] += 1
                t = float(state["step"])
                grad, m, v = param.grad, state["exp_avg"], state["exp_avg_sq"]
                m.lerp_(grad, 1 - beta1)
                v.lerp_(grad.square(), 1 - beta2)
                step_size = group["lr"] * math.sqrt(1 - beta2**t) / (1 - beta1**t)
                param.addcdiv_(m, v.sqrt().add_(group["eps"]), value=-step_size)
        return loss


def make_optimizer(params: Iterable[torch.Tensor], config: Config) -> torch.optim.Optimizer:
    """The optimiser ``config.adam`` names, with the run's rate, betas and epsilon."""
    betas = (config.adam_beta1, config.adam_beta2)
    if config.adam == "tf":
        return TFAdam(params, lr=config.lr, betas=betas, eps=config.adam_eps)
    return torch.optim.Adam(params, lr=config.lr, betas=betas, eps=config.adam_eps)
