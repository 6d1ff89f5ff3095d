"""The PyTorch port against golden values computed by the authors' TensorFlow graph.

``tests/fixtures/authors_tf/golden.npz`` was written by ``benchmarks/authors_tf/golden.py``
(their ``model.py``/``nn.py`` under ``tf.compat.v1``, ``tf.train.AdamOptimizer``) from a tiny
network's initial weights and three chunks of two nights, the second night ending inside the
last chunk. Here the package's network, loss, L2 penalty, clipping and optimiser take the
same three steps with the state carried; logits, losses, gradients and the weights after
each update must equal TensorFlow's. PyTorch's Adam or an affine norm without batch norm's
epsilon must not.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from tinysleepnet.config import Config
from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.training import objective
from tinysleepnet.training.adam import make_optimizer

FIXTURE = Path(__file__).parents[1] / "fixtures" / "authors_tf" / "golden.npz"
N_STEPS = 3


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    with np.load(FIXTURE) as f:
        return {k: f[k] for k in f.files}


def port_steps(golden: dict[str, np.ndarray], **changes: object) -> list[dict[str, object]]:
    """The package's three training steps on the fixture's chunks, as the loop takes them."""
    config = Config.from_dict(json.loads(str(golden["config"]))).replace(**changes)
    net = TinySleepNet(config).train()  # dropout 0, as the fixture's TF run
    init = {k.removeprefix("init/"): v for k, v in golden.items() if k.startswith("init/")}
    net.load_state_dict({k: torch.from_numpy(v) for k, v in init.items()})
    optimizer = make_optimizer(net.parameters(), config)
    class_weights = torch.tensor(config.class_weights)
    x, y, weight = (torch.from_numpy(golden[k]) for k in ("x", "y", "weight"))
    state, steps = None, []
    for k in range(N_STEPS):
        chunk = slice(k * config.seq_len, (k + 1) * config.seq_len)
        logits, state = net(x[:, chunk], state)
        state = (state[0].detach(), state[1].detach())
        ce = objective.loss(logits, y[:, chunk], weight[:, chunk], class_weights)
        l2 = objective.l2_penalty(net, config.l2_weight)
        optimizer.zero_grad()
        (ce + l2).backward()
        grads = {n: p.grad.clone() for n, p in net.named_parameters()}
        norm = nn.utils.clip_grad_norm_(net.parameters(), config.clip_norm)
        optimizer.step()
        real = weight[:, chunk] > 0
        steps.append(
            {
                "logits": logits.detach()[real],
                "ce": ce.detach(),
                "l2": l2.detach(),
                "norm": norm,
                "grad": grads,
                "after": {n: p.detach().clone() for n, p in net.named_parameters()},
                "real": real,
            }
        )
    return steps


def _tf(golden: dict[str, np.ndarray], key: str) -> torch.Tensor:
    return torch.from_numpy(np.asarray(golden[key]))


def assert_forward_equal(golden, steps) -> None:
    for k, step in enumerate(steps, 1):
        tf_logits = _tf(golden, f"logits_{k}")[step["real"]]  # TF zeroes padded positions
        torch.testing.assert_close(step["logits"], tf_logits, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(step["ce"], _tf(golden, f"ce_{k}"), rtol=1e-6, atol=0)
        torch.testing.assert_close(step["l2"], _tf(golden, f"l2_{k}"), rtol=1e-6, atol=0)


def assert_gradients_equal(golden, steps) -> None:
    for k, step in enumerate(steps, 1):
        torch.testing.assert_close(step["norm"], _tf(golden, f"norm_{k}"), rtol=1e-5, atol=0)
        for name, grad in step["grad"].items():
            tf_grad = _tf(golden, f"grad_{k}/{name}")
            scale = float(tf_grad.abs().max())
            torch.testing.assert_close(grad, tf_grad, rtol=1e-4, atol=1e-5 * scale, msg=name)


def update_error(golden, steps, lr: float) -> float:
    """Largest difference of the weights after each step from TF's, in units of ``lr``."""
    return max(
        float((value - _tf(golden, f"after_{k}/{name}")).abs().max()) / lr
        for k, step in enumerate(steps, 1)
        for name, value in step["after"].items()
    )


#: Tolerance on the weights after a step, in units of the learning rate (the size of one
#: Adam step). The port is within 0.04 of TF's; PyTorch's Adam differs by about 0.7 at the
#: first step (gradients near 1e-7, where the two epsilons differ most) and 1.8 by the third.
UPDATE_ATOL = 0.1


def test_the_fixture_exercises_clipping_padding_and_n1(golden):
    config = Config.from_dict(json.loads(str(golden["config"])))
    norms = [float(golden[f"norm_{k}"]) for k in range(1, N_STEPS + 1)]
    assert max(norms) > config.clip_norm  # clipping changes the update
    assert (golden["weight"] == 0).any()  # a night ends inside the last chunk
    assert ((golden["y"] == 1) & (golden["weight"] > 0)).any()  # class weight 1.5 applies
    assert config.adam == "tf" and config.batch_norm_eps == 1e-3  # the paper's forms


def _lr(golden) -> float:
    return Config.from_dict(json.loads(str(golden["config"]))).lr


def test_the_port_equals_the_authors_graph(golden):
    steps = port_steps(golden)
    assert_forward_equal(golden, steps)
    assert_gradients_equal(golden, steps)
    assert update_error(golden, steps, _lr(golden)) < UPDATE_ATOL


def test_pytorch_adam_does_not_update_as_the_authors_graph(golden):
    steps = port_steps(golden, adam="torch")
    assert_forward_equal(golden, steps[:1])  # the same first forward pass and gradients
    assert_gradients_equal(golden, steps[:1])
    assert update_error(golden, steps[:1], _lr(golden)) > 5 * UPDATE_ATOL


def test_affine_norm_without_epsilon_is_not_the_authors_forward_pass(golden):
    steps = port_steps(golden, batch_norm_eps=0.0)
    with pytest.raises(AssertionError, match="Tensor-likes are not close"):
        assert_forward_equal(golden, steps[:1])
    gap = (steps[0]["logits"] - _tf(golden, "logits_1")[steps[0]["real"]]).abs().max()
    assert float(gap) > 3e-4  # 30x the forward pass's tolerance; the port is within 4e-6
