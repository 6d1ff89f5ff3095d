"""The fast formulation of TinySleepNet computes what the plain one does.

The plain formulation is ``benchmarks/plain.py`` (separate padding, conv, scale-and-shift,
ReLU and pooling layers), given the same weights.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tinysleepnet.config import Config
from tinysleepnet.nn import model as model_module
from tinysleepnet.nn.model import TinySleepNet, same_padding

#: The plain formulation has the fused nn.LSTM, so the fast one is compared with peepholes off.
SMALL = {"n_filters": 16, "lstm_units": 16, "peepholes": False}


def _load_plain() -> ModuleType:
    path = Path(__file__).parents[2] / "benchmarks" / "plain.py"
    spec = importlib.util.spec_from_file_location("plain_tinysleepnet", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


plain = _load_plain()


def _trained_looking(config: Config, seed: int = 0) -> TinySleepNet:
    """A network whose norm scales and shifts are not the identity (as after training)."""
    torch.manual_seed(seed)
    net = TinySleepNet(config)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return net


def _assert_close_to_scale(actual: torch.Tensor, expected: torch.Tensor) -> None:
    """Equal up to float32 rounding, judged against the largest value (sums run in other orders)."""
    torch.testing.assert_close(
        actual, expected, rtol=1e-3, atol=1e-4 * float(expected.detach().abs().max())
    )


@pytest.mark.parametrize("sfreq", [100.0, 128.0, 256.0])
def test_logits_equal_the_plain_formulation(sfreq):
    config = Config(sfreq=sfreq, **SMALL)
    fast = _trained_looking(config).eval()
    reference = plain.PlainTinySleepNet(config).eval()
    plain.copy_weights(fast, reference)
    x = 30 * torch.randn(2, 40, config.epoch_samples)  # 80 epochs: several CNN groups
    state = (0.1 * torch.randn(1, 2, 16), 0.1 * torch.randn(1, 2, 16))
    with torch.no_grad():
        logits, (h, c) = fast(x, state)
        expected, (h_ref, c_ref) = reference(x, state)
    torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(h, h_ref, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(c, c_ref, rtol=1e-4, atol=1e-5)


def test_epoch_by_epoch_equals_the_whole_night():
    """Single epochs take a faster LSTM path (online staging); same logits and state."""
    net = _trained_looking(Config(**SMALL)).eval()
    x = 30 * torch.randn(2, 6, net.epoch_samples)
    with torch.no_grad():
        expected, (h_ref, c_ref) = net(x)
        state = net.initial_state(2)
        steps = []
        for epoch in range(x.shape[1]):
            logits, state = net(x[:, epoch : epoch + 1], state)
            steps.append(logits)
    _assert_close_to_scale(torch.cat(steps, dim=1), expected)
    _assert_close_to_scale(state[0], h_ref)
    _assert_close_to_scale(state[1], c_ref)


def test_gradients_equal_the_plain_formulation():
    config = Config(dropout=0.0, **SMALL)
    fast = _trained_looking(config).train()
    reference = plain.PlainTinySleepNet(config).train()
    plain.copy_weights(fast, reference)
    x = 30 * torch.randn(3, 5, config.epoch_samples)
    for net in (fast, reference):
        logits, _ = net(x, fast.initial_state(3))
        (logits.square().mean() + sum(w.square().sum() for w in net.conv_kernels())).backward()
    pairs = [*zip(fast.conv_kernels(), reference.conv_kernels(), strict=True)]
    pairs.append((fast.lstm.weight_ih_l0, reference.lstm.weight_ih_l0))
    for ours, theirs in pairs:
        _assert_close_to_scale(ours.grad, theirs.grad)
    assert fast.conv1.norm.weight.grad is not None


@pytest.mark.parametrize(
    ("c_in", "kernel", "stride", "length"),
    [(1, 50, 6, 3000), (1, 128, 16, 7680), (1, 7, 3, 100), (3, 5, 2, 33), (1, 4, 4, 10)],
)
def test_strided_conv_runs_as_phases(c_in, kernel, stride, length):
    block = model_module._ConvBlock(c_in, 8, kernel, stride, "affine")
    x = torch.randn(4, c_in, length)
    weight = torch.randn(8, c_in, kernel)
    expected = F.conv1d(F.pad(x, same_padding(length, kernel, stride)), weight, stride=stride)
    result = block._conv(x, weight, None)
    assert result.shape[-1] == -(-length // stride)
    torch.testing.assert_close(result, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("length", "size"), [(500, 8), (63, 4), (64, 4), (7, 8), (1, 3), (125, 8)])
def test_max_pool_matches_tensorflow_same(length, size):
    x = torch.randn(2, 3, length)
    left, right = same_padding(length, size, size)
    padded = F.pad(x, (left, right), value=-torch.inf)  # TF: padding never wins
    expected = padded.unfold(-1, size, size).amax(-1)
    torch.testing.assert_close(model_module._max_pool_same(x, size), expected)


def test_epoch_features_do_not_depend_on_grouping():
    net = _trained_looking(Config(**SMALL)).eval()
    x = 30 * torch.randn(model_module.FEATURE_CHUNK + 3, net.epoch_samples)
    with torch.no_grad():
        together = net.epoch_features(x)
        in_fives = torch.cat([net.epoch_features(part) for part in x.split(5)])
    assert together.shape == (len(x), net.n_features)
    _assert_close_to_scale(together, in_fives)


@pytest.fixture
def batch_norm_block() -> model_module._ConvBlock:
    """A conv block with ordinary batch norm and non-trivial running statistics."""
    torch.manual_seed(0)
    block = model_module._ConvBlock(16, 16, 8, 1, "batch")
    with torch.no_grad():
        block.norm.running_mean.uniform_(-1, 1)
        block.norm.running_var.uniform_(0.5, 2)
        block.norm.weight.uniform_(0.5, 2)
        block.norm.bias.uniform_(-1, 1)
    return block


def test_batch_norm_is_folded_into_the_conv_in_evaluation(batch_norm_block):
    block = batch_norm_block.eval()
    x = torch.randn(6, 16, 63)
    with torch.no_grad():
        expected = F.relu(block.norm(F.conv1d(F.pad(x, (3, 4)), block.conv.weight)))
        _assert_close_to_scale(block(x), expected)


def test_batch_norm_uses_batch_statistics_in_training(batch_norm_block):
    block = batch_norm_block.train()
    x = torch.randn(6, 16, 63)
    conv = F.conv1d(F.pad(x, (3, 4)), block.conv.weight)
    norm = block.norm
    expected = F.relu(F.batch_norm(conv, None, None, norm.weight, norm.bias, True, 0.0, norm.eps))
    before = norm.running_mean.clone()
    _assert_close_to_scale(block(x), expected)
    assert not torch.equal(before, norm.running_mean)


def test_checkpoint_keys_are_unchanged():
    """Checkpoints written before the fast path still load (same parameter names and shapes)."""
    net = TinySleepNet(Config(peepholes=False))
    keys = {name: tuple(t.shape) for name, t in net.state_dict().items()}
    assert keys["conv1.conv.weight"] == (128, 1, 50)
    assert keys["conv1.norm.weight"] == (128,)
    assert keys["convs.2.conv.weight"] == (128, 128, 8)
    assert keys["lstm.weight_ih_l0"] == (512, 2048)
    assert keys["classifier.weight"] == (5, 128)
    assert len(keys) == 4 * 3 + 4 + 2


def test_bfloat16_autocast_keeps_the_state_in_float32():
    # PyTorch's smaller initial conv weights keep the features in the range this tolerance
    # was set for (the authors' initialisation on raw microvolts gives ~3x larger features).
    net = _trained_looking(Config(init="pytorch", **SMALL)).eval()
    x = 30 * torch.randn(1, 12, net.epoch_samples)
    with torch.inference_mode():
        reference, _ = net(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits, (h, c) = net(x)
    assert logits.dtype == h.dtype == c.dtype == torch.float32
    # bfloat16 keeps about 3 significant digits of the CNN's features
    np.testing.assert_allclose(logits.numpy(), reference.numpy(), atol=0.1)
