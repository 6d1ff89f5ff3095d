"""TF's Adam as the settings describe it.

That it equals TensorFlow's own update is tested against golden values in
``test_authors_golden.py``; here, the relation to PyTorch's Adam that ``Config.adam`` states,
over more steps and a wider range of gradients, and resuming from a saved state.
"""

from __future__ import annotations

import math

import pytest
import torch

from tinysleepnet.config import Config
from tinysleepnet.training.adam import TFAdam, make_optimizer


def _gradients(step: int, shape: tuple[int, ...]) -> torch.Tensor:
    generator = torch.Generator().manual_seed(step)
    return torch.randn(shape, generator=generator) * 10.0 ** torch.randint(
        -9, -1, shape, generator=generator
    )


def _run(optimizer_for, steps: range, weight: torch.Tensor, state=None):
    param = torch.nn.Parameter(weight.clone())
    optimizer = optimizer_for(param, steps.start)
    if state is not None:
        optimizer.load_state_dict(state)
    for t in steps:
        optimizer = optimizer_for(param, t, optimizer)
        param.grad = _gradients(t, weight.shape)
        optimizer.step()
    return param.detach(), optimizer.state_dict()


def test_tf_adam_is_torch_adam_with_epsilon_hat_and_resumes_from_its_state():
    weight = torch.randn(200)
    lr, eps, beta2 = 1e-3, 1e-8, 0.999

    def tf_adam(param, t, optimizer=None):
        return optimizer or TFAdam([param], lr=lr, eps=eps)

    def torch_adam(param, t, optimizer=None):
        return optimizer or torch.optim.Adam([param], lr=lr, eps=eps)

    def torch_adam_eps_hat(param, t, optimizer=None):
        optimizer = torch_adam(param, t, optimizer)
        optimizer.param_groups[0]["eps"] = eps / math.sqrt(1 - beta2**t)  # Config.adam's doc
        return optimizer

    expected, _ = _run(torch_adam_eps_hat, range(1, 9), weight)
    tf_weight, _ = _run(tf_adam, range(1, 9), weight)
    torch.testing.assert_close(tf_weight, expected, rtol=0, atol=1e-3 * lr)
    half, state = _run(tf_adam, range(1, 5), weight)  # as last.pt holds it
    resumed, _ = _run(tf_adam, range(5, 9), half, state)
    torch.testing.assert_close(resumed, tf_weight, rtol=0, atol=0)
    plain, _ = _run(torch_adam, range(1, 9), weight)
    assert float((plain - expected).abs().max()) > 0.1 * lr  # the epsilons differ


@pytest.mark.parametrize(("name", "kind"), [("tf", TFAdam), ("torch", torch.optim.Adam)])
def test_the_config_names_the_optimiser(name, kind):
    param = torch.nn.Parameter(torch.zeros(3))
    optimizer = make_optimizer([param], Config(adam=name, lr=3e-4, adam_eps=1e-7))
    assert type(optimizer) is kind
    group = optimizer.param_groups[0]
    assert (group["lr"], group["betas"], group["eps"]) == (3e-4, (0.9, 0.999), 1e-7)
