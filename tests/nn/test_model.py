"""The TinySleepNet network: shapes, size, TF "same" padding, recurrent state, norms."""

from __future__ import annotations

import math

import pytest
import torch

from tinysleepnet.config import Config
from tinysleepnet.nn.model import TinySleepNet, same_padding

#: A small network on 3-s epochs, for the tests that do not depend on the paper's sizes.
SMALL = Config(epoch_sec=3.0, n_filters=8, lstm_units=16, dropout=0.0)


def test_paper_network_at_100_hz():
    net = TinySleepNet(Config())
    assert net.n_features == 2048  # 16 positions x 128 filters, as in the authors' code
    assert net.conv1.conv.kernel_size == (50,) and net.conv1.conv.stride == (6,)
    n_params = sum(p.numel() for p in net.parameters() if p.requires_grad)
    assert 1.51e6 < n_params < 1.53e6  # "about 1.52 M"
    logits, (h, c) = net(torch.randn(2, 3, 3000))
    assert logits.shape == (2, 3, 5)
    assert h.shape == c.shape == (1, 2, 128)
    assert net.epoch_features(torch.randn(4, 3000)).shape == (4, 2048)


def test_network_follows_the_sampling_rate():
    net = TinySleepNet(Config(sfreq=256.0))
    assert net.epoch_samples == 7680
    assert net.conv1.conv.kernel_size == (128,) and net.conv1.conv.stride == (16,)
    assert net.n_features == 15 * 128  # 7680 / 16 = 480 -> /8 = 60 -> /4 = 15 positions
    logits, _ = net(torch.randn(1, 2, 7680))
    assert logits.shape == (1, 2, 5)
    with pytest.raises(ValueError, match="7680 samples"):
        net(torch.randn(1, 2, 3000))


@pytest.mark.parametrize(
    ("length", "kernel", "stride"), [(3000, 50, 6), (10, 4, 3), (63, 8, 1), (7, 8, 8)]
)
def test_same_padding_matches_tensorflow(length, kernel, stride):
    left, right = same_padding(length, kernel, stride)
    out = (length + left + right - kernel) // stride + 1
    assert out == math.ceil(length / stride)  # TF "same": output length ceil(L / stride)
    assert right - left in (0, 1)  # TF puts the odd sample on the right


def test_same_padding_examples():
    assert same_padding(3000, 50, 6) == (22, 22)
    assert same_padding(10, 4, 3) == (1, 2)
    assert same_padding(64, 4, 4) == (0, 0)


@pytest.mark.parametrize("peepholes", [False, True])
def test_state_carried_chunk_by_chunk_equals_the_whole_night(peepholes):
    torch.manual_seed(0)
    net = TinySleepNet(SMALL.replace(peepholes=peepholes)).eval()
    x = torch.randn(2, 9, SMALL.epoch_samples)
    with torch.no_grad():
        whole, whole_state = net(x)
        state = None
        parts = []
        for start, stop in ((0, 4), (4, 5), (5, 9)):  # uneven chunks, one of one epoch
            logits, state = net(x[:, start:stop], state)
            parts.append(logits)
    torch.testing.assert_close(torch.cat(parts, dim=1), whole)
    torch.testing.assert_close(state[0], whole_state[0])
    torch.testing.assert_close(state[1], whole_state[1])


def test_state_makes_a_difference():
    torch.manual_seed(0)
    net = TinySleepNet(SMALL).eval()
    x = torch.randn(1, 4, SMALL.epoch_samples)
    with torch.no_grad():
        _, state = net(x[:, :3])
        carried, _ = net(x[:, 3:], state)
        fresh, _ = net(x[:, 3:])
    assert not torch.allclose(carried, fresh)


def test_affine_norm_is_independent_of_the_batch_but_batch_norm_is_not():
    torch.manual_seed(0)
    x = torch.randn(1, 6, SMALL.epoch_samples)
    for mode, independent in (("affine", True), ("batch", False)):
        net = TinySleepNet(SMALL.replace(batch_norm=mode)).train()  # dropout is 0
        alone, _ = net(x[:, :1])
        together, _ = net(x)
        assert torch.allclose(alone[0, 0], together[0, 0], atol=1e-5) is independent, mode
    assert not list(TinySleepNet(SMALL).buffers())  # affine: nothing but learned weights
    assert any(
        "running_mean" in n
        for n, _ in TinySleepNet(SMALL.replace(batch_norm="batch")).named_buffers()
    )


def test_conv_kernels_are_the_four_conv_weights():
    net = TinySleepNet(SMALL)
    kernels = net.conv_kernels()
    assert [tuple(k.shape) for k in kernels] == [(8, 1, 50), (8, 8, 8), (8, 8, 8), (8, 8, 8)]
    conv_weights = [m.weight for m in net.modules() if isinstance(m, torch.nn.Conv1d)]
    assert {id(k) for k in kernels} == {id(w) for w in conv_weights}


def test_initial_state_is_zero_and_equals_no_state():
    net = TinySleepNet(SMALL).eval()
    h, c = net.initial_state(3)
    assert h.shape == (1, 3, 16) and not h.any() and not c.any()
    x = torch.randn(3, 2, SMALL.epoch_samples)
    with torch.no_grad():
        torch.testing.assert_close(net(x, (h, c))[0], net(x)[0])


@pytest.mark.parametrize("peepholes", [False, True])
def test_forget_gate_bias_starts_at_one_as_tf_adds(peepholes):
    net = TinySleepNet(SMALL.replace(peepholes=peepholes))
    h = SMALL.lstm_units
    if peepholes:
        biases = net.lstm.input_proj.bias.detach().reshape(4, h)
    else:
        lstm = net.lstm
        biases = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().reshape(4, h)
    assert torch.equal(biases[1], torch.ones(h))  # gates in order input, forget, cell, output
    assert biases[[0, 2, 3]].abs().max() < 1.0


def _parameters(config: Config) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return {name: p.detach() for name, p in TinySleepNet(config).named_parameters()}


@pytest.mark.parametrize("peepholes", [False, True])
def test_authors_initialisation_is_tf_s_defaults(peepholes):
    params = _parameters(Config(peepholes=peepholes))
    # conv and dense kernels: truncated normal with variance 1 / fan_in, cut at 2 std
    for name, fan_in in [
        ("conv1.conv.weight", 50),
        ("convs.0.conv.weight", 128 * 8),
        ("convs.2.conv.weight", 128 * 8),
        ("classifier.weight", 128),
    ]:
        weight = params[name].detach()
        assert float(weight.var()) == pytest.approx(1 / fan_in, rel=0.1), name
        assert float(weight.abs().max()) <= 2 * math.sqrt(1 / fan_in) / 0.8796 + 1e-6, name
    # LSTM kernel: one glorot-uniform limit over TF's [inputs + units, 4 * units] matrix
    limit = math.sqrt(6 / (2048 + 128 + 512))
    kernels = (
        ["lstm.input_proj.weight", "lstm.hidden_proj.weight"]
        if peepholes
        else ["lstm.weight_ih_l0", "lstm.weight_hh_l0"]
    )
    for name in kernels:
        weight = params[name].detach()
        assert float(weight.abs().max()) <= limit and float(weight.abs().max()) > 0.95 * limit
        assert float(weight.var()) == pytest.approx(limit**2 / 3, rel=0.1), name
    if peepholes:
        assert float(params["lstm.peep"].detach().abs().max()) <= math.sqrt(6 / 256)
    # biases 0 (forget gate 1.0, TF's forget_bias), norms the identity
    for name, param in params.items():
        if name.endswith("norm.weight"):
            assert torch.equal(param, torch.ones_like(param)), name
        elif "bias" in name and "lstm" not in name:
            assert not param.any(), name


def test_pytorch_initialisation_is_an_option():
    authors, pytorch = _parameters(Config()), _parameters(Config(init="pytorch"))
    # PyTorch's default conv init is kaiming-uniform with a = sqrt(5): variance 1 / (3 fan_in)
    assert float(pytorch["conv1.conv.weight"].var()) == pytest.approx(1 / 150, rel=0.15)
    assert float(authors["conv1.conv.weight"].var()) == pytest.approx(1 / 50, rel=0.1)
    assert pytorch["classifier.bias"].any() and not authors["classifier.bias"].any()


def test_peephole_cell_is_tf_s_lstm_cell_with_peepholes():
    """One step of the peephole cell against TF's LSTMCell equations, written out."""
    net = TinySleepNet(SMALL.replace(peepholes=True))
    lstm = net.lstm
    torch.manual_seed(1)
    with torch.no_grad():
        lstm.peep.normal_()
    x = torch.randn(3, 1, net.n_features)
    h0, c0 = torch.randn(1, 3, 16), torch.randn(1, 3, 16)
    out, (h, c) = lstm(x, (h0, c0))
    gates = (
        x[:, 0] @ lstm.input_proj.weight.T
        + lstm.input_proj.bias
        + h0[0] @ lstm.hidden_proj.weight.T
    )
    i, f, g, o = gates.chunk(4, dim=-1)
    w_i, w_f, w_o = lstm.peep
    c_new = torch.sigmoid(f + w_f * c0[0]) * c0[0] + torch.sigmoid(i + w_i * c0[0]) * torch.tanh(g)
    h_new = torch.sigmoid(o + w_o * c_new) * torch.tanh(c_new)
    torch.testing.assert_close(c[0], c_new)
    torch.testing.assert_close(h[0], h_new)
    torch.testing.assert_close(out[:, 0], h_new)
