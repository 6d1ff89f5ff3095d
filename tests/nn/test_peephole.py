"""The peephole cell's fast recurrence computes what the textbook cell does, gradients too.

The reference below is TF's ``LSTMCell(use_peepholes=True)`` written out one step at a time
with autograd doing the backward pass; :class:`PeepholeLSTM` runs its own loops (buffers
written in place, compiled by TorchScript, a hand-written backward pass, one thread).
"""

from __future__ import annotations

import pytest
import torch

from tinysleepnet.nn import model
from tinysleepnet.nn.model import PeepholeLSTM, State


def _reference(lstm: PeepholeLSTM, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
    h, c = state[0][0], state[1][0]
    w_i, w_f, w_o = lstm.peep
    outputs = []
    for t in range(x.shape[1]):
        gates = lstm.input_proj(x[:, t]) + h @ lstm.hidden_proj.weight.T
        i, f, g, o = gates.chunk(4, dim=-1)
        c = torch.sigmoid(f + w_f * c) * c + torch.sigmoid(i + w_i * c) * torch.tanh(g)
        h = torch.sigmoid(o + w_o * c) * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs, dim=1), (h[None], c[None])


def _cell(dtype: torch.dtype, n_inputs: int = 12, units: int = 8) -> PeepholeLSTM:
    torch.manual_seed(0)
    lstm = PeepholeLSTM(n_inputs, units).to(dtype)
    with torch.no_grad():
        lstm.peep.normal_()  # zero at initialisation: they would test nothing
    return lstm


def _run(lstm, x, state, forward):
    """Outputs, final state and the gradients of a loss that uses all three."""
    out, (h, c) = forward(x, state)
    weights = torch.linspace(-1, 1, out.shape[-1], dtype=out.dtype)
    loss = (out * weights).sum() + h.square().sum() + 3 * c.sum()
    grads = torch.autograd.grad(loss, [x, *state, *lstm.parameters()])
    return [out, h, c, *grads]


@pytest.mark.parametrize(("dtype", "tolerance"), [(torch.float32, 1e-6), (torch.float64, 1e-13)])
@pytest.mark.parametrize(("nights", "epochs"), [(3, 7), (1, 1), (2, 40)])
def test_outputs_state_and_gradients_equal_the_reference_cell(dtype, tolerance, nights, epochs):
    lstm = _cell(dtype)
    x = torch.randn(nights, epochs, 12, dtype=dtype, requires_grad=True)
    state = tuple(torch.randn(1, nights, 8, dtype=dtype, requires_grad=True) for _ in range(2))
    ours = _run(lstm, x, state, lstm)
    reference = _run(lstm, x, state, lambda x, s: _reference(lstm, x, s))
    names = ["outputs", "h", "c", "d x", "d h0", "d c0"] + [n for n, _ in lstm.named_parameters()]
    for name, a, b in zip(names, ours, reference, strict=True):
        scale = max(float(b.detach().abs().max()), 1.0)  # gradients sum over steps: judged to scale
        torch.testing.assert_close(a, b, rtol=0, atol=tolerance * scale, msg=name)


def test_gradients_match_finite_differences():
    lstm = _cell(torch.float64, n_inputs=5, units=4)
    x = torch.randn(2, 6, 5, dtype=torch.float64, requires_grad=True)
    h0, c0 = (torch.randn(1, 2, 4, dtype=torch.float64, requires_grad=True) for _ in range(2))

    names = [name for name, _ in lstm.named_parameters()]

    def everything(x, h0, c0, *params):
        weights = dict(zip(names, params, strict=True))
        out, (h, c) = torch.func.functional_call(lstm, weights, (x, (h0, c0)))
        return out, h, c

    assert torch.autograd.gradcheck(everything, (x, h0, c0, *lstm.parameters()))


def test_inference_gives_the_training_forward():
    lstm = _cell(torch.float32)
    x, state = torch.randn(2, 9, 12), (torch.randn(1, 2, 8), torch.randn(1, 2, 8))
    with torch.inference_mode():
        staged, (_, c) = lstm(x, state)
    trained, (_, c_ref) = lstm(x, state)
    assert not staged.requires_grad and trained.requires_grad
    torch.testing.assert_close(staged, trained.detach(), rtol=0, atol=0)
    torch.testing.assert_close(c, c_ref.detach(), rtol=0, atol=0)


def test_the_thread_count_is_restored():
    lstm = _cell(torch.float32)
    x = torch.randn(2, 5, 12, requires_grad=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        out, _ = lstm(x, (torch.zeros(1, 2, 8), torch.zeros(1, 2, 8)))
        assert torch.get_num_threads() == 2
        out.sum().backward()
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    assert x.grad is not None and x.grad.abs().sum() > 0


def _loop_buffers(nights: int, epochs: int, units: int = 16) -> list[torch.Tensor]:
    """Inputs of :func:`~tinysleepnet.nn.model._peephole_steps`: gate inputs, state, weights."""
    torch.manual_seed(1)
    acts = torch.randn(epochs, nights, 4, units)
    cells, hidden = torch.randn(epochs + 1, nights, units), torch.randn(epochs + 1, nights, units)
    weight_t, peep = torch.randn(units, 4 * units) / units**0.5, torch.randn(3, units)
    return [acts, cells, hidden, weight_t, peep]


@pytest.mark.parametrize(("nights", "epochs"), [(1, 300), (4, 20)])
def test_the_compiled_loop_computes_what_the_python_loop_does(nights, epochs):
    compiled = model._compiled_steps()
    if compiled is model._peephole_steps:
        pytest.skip("this torch has no TorchScript: the Python loop runs (tested above)")
    eager = _loop_buffers(nights, epochs)
    scripted = [t.clone() for t in eager]
    with torch.inference_mode():
        model._peephole_steps(*eager)
        compiled(*scripted)
    for name, a, b in zip(["acts", "cells", "hidden"], scripted, eager, strict=False):
        scale = max(float(b.abs().max()), 1.0)
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6 * scale, msg=name)
    assert not torch.equal(eager[2][1:], _loop_buffers(nights, epochs)[2][1:])  # it ran

