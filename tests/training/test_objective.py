"""The objective: the loss, the L2 penalty on the conv kernels, the validation pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.training import objective


def test_loss_ignores_padding_and_weights_classes():
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 5)
    stages = torch.tensor([[0, 1, 2, 3], [4, 1, 0, 0]])
    weight = torch.tensor([[1.0, 1, 1, 1], [1, 1, 0, 0]])
    class_weights = torch.tensor([1.0, 1.5, 1, 1, 1])
    loss = objective.loss(logits, stages, weight, class_weights)

    changed = logits.clone()
    changed[1, 2:] = 100 * torch.randn(2, 5)  # padded positions
    assert objective.loss(changed, stages, weight, class_weights) == loss

    per_epoch = -torch.log_softmax(logits, -1).gather(-1, stages[..., None])[..., 0]
    real = weight.bool()
    expected = (per_epoch * class_weights[stages])[real].sum() / real.sum()
    torch.testing.assert_close(loss, expected)
    n1 = stages == 1
    n1_only = objective.loss(logits, stages, n1.float(), class_weights)
    torch.testing.assert_close(n1_only, 1.5 * per_epoch[n1].mean())


def test_l2_penalty_covers_the_conv_kernels_only(tiny_config):
    model = TinySleepNet(tiny_config)
    penalty = objective.l2_penalty(model, 1e-3)
    expected = 1e-3 * sum(float((k.detach() ** 2).sum()) for k in model.conv_kernels()) / 2
    assert float(penalty.detach()) == pytest.approx(expected, rel=1e-6)
    penalty.backward()
    kernels = {id(k) for k in model.conv_kernels()}
    for name, param in model.named_parameters():
        assert (param.grad is not None) == (id(param) in kernels), name


def test_validation_loss_is_the_class_weighted_cross_entropy(tiny_config, toy_nights):
    model = TinySleepNet(tiny_config).eval()
    valid = toy_nights[1]
    result = objective.validate(model, valid, tiny_config, "float32")
    with torch.no_grad():
        logits = torch.cat([model(torch.from_numpy(n.signal_uv)[None])[0][0] for n in valid])
    stages = torch.from_numpy(np.concatenate([n.stages for n in valid]))
    expected = objective.loss(
        logits[None],
        stages[None],
        torch.ones(1, len(stages)),
        torch.tensor(tiny_config.class_weights),
    )
    assert result["loss"] == pytest.approx(float(expected), rel=1e-4)
    assert result["acc"] == pytest.approx(float((logits.argmax(-1) == stages).float().mean()))
