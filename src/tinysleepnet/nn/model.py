"""The TinySleepNet network (Supratak & Guo, EMBC 2020).

A small CNN turns each 30-s epoch of raw EEG into a feature vector; a unidirectional LSTM
runs across epochs; a linear layer gives five stage logits per epoch. The recurrent state is
an explicit input and output of :meth:`TinySleepNet.forward`, so one module serves chunked
training (state carried between chunks of a night), whole-night inference and online staging
one epoch at a time.
"""

from __future__ import annotations

import contextlib
import functools
import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from ..config import Config
from ..stages import N_STAGES

#: Epochs per group in the CNN (see :meth:`TinySleepNet.epoch_features`).
FEATURE_CHUNK = 32

#: Recurrent state ``(h, c)``, each of shape ``(1, nights, lstm_units)``.
State = tuple[torch.Tensor, torch.Tensor]


def zero_state(n_nights: int, lstm_units: int, device: torch.device | str | None = None) -> State:
    """The recurrent state at the start of ``n_nights`` nights: zeros."""
    zeros = torch.zeros(1, n_nights, lstm_units, device=device)
    return zeros, zeros.clone()


def same_padding(length: int, kernel: int, stride: int) -> tuple[int, int]:
    """Left/right padding of TensorFlow's ``"same"`` mode: ``ceil(length / stride)`` outputs."""
    total = max((math.ceil(length / stride) - 1) * stride + kernel - length, 0)
    return total // 2, total - total // 2


class _ChannelAffine(nn.Module):
    """Per-channel scale and shift: what the authors' batch norm computes in practice.

    Their TF layers stay in inference mode during training, so the running mean (0) and
    variance (1) never change and only gamma and beta learn: the layer is
    ``gamma / sqrt(1 + eps) * x + beta``. It also keeps staging independent of batch
    composition, which online use needs. :class:`_ConvBlock` applies it by folding it into
    the conv's weights and bias, which saves a pass over the activations.
    """

    def __init__(self, channels: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.inv_std = 1.0 / math.sqrt(1.0 + eps)  # the fixed moving variance is 1


class _ConvBlock(nn.Module):
    """Conv1d with TF "same" padding, then batch norm (or its affine form) and ReLU."""

    def __init__(
        self, c_in: int, c_out: int, kernel: int, stride: int, batch_norm: str, eps: float = 1e-3
    ) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.conv = nn.Conv1d(c_in, c_out, kernel, stride, bias=False)
        self.norm: _ChannelAffine | nn.BatchNorm1d = (
            _ChannelAffine(c_out, eps)
            if batch_norm == "affine"
            else nn.BatchNorm1d(c_out, eps=eps, momentum=0.01)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        folded = self._folded_norm()
        if folded is None:  # batch statistics: the norm cannot go into the kernel
            return F.relu(self.norm(self._conv(x, self.conv.weight, None)))
        scale, shift = folded
        return F.relu(self._conv(x, self.conv.weight * scale[:, None, None], shift))

    def _folded_norm(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Scale and shift that equal the norm layer (None while batch norm trains)."""
        norm = self.norm
        if isinstance(norm, _ChannelAffine):
            return norm.weight * norm.inv_std, norm.bias
        if self.training or norm.running_var is None or norm.running_mean is None:
            return None
        scale = norm.weight * torch.rsqrt(norm.running_var + norm.eps)
        return scale, norm.bias - norm.running_mean * scale

    def _conv(
        self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
    ) -> torch.Tensor:
        length, kernel, stride = x.shape[-1], self.kernel, self.stride
        left, right = same_padding(length, kernel, stride)
        if stride == 1:
            return F.conv1d(F.pad(x, (left, right)), weight, bias)
        # A strided conv over few channels runs several times slower in oneDNN than the same
        # work as a stride-1 conv over ``stride`` phases of the signal: input sample
        # ``f * stride + p`` becomes channel p of frame f, kernel tap ``t * stride + p`` the
        # weight of that channel at lag t (the kernel zero-padded to whole frames).
        taps = math.ceil(kernel / stride)
        frames = math.ceil(length / stride) - 1 + taps
        x = F.pad(x, (left, frames * stride - length - left))
        c_in, c_out = self.conv.in_channels, self.conv.out_channels
        phases = x.reshape(-1, c_in, frames, stride).transpose(2, 3)
        phases = phases.reshape(-1, c_in * stride, frames)
        weight = F.pad(weight, (0, taps * stride - kernel)).reshape(c_out, c_in, taps, stride)
        return F.conv1d(phases, weight.transpose(2, 3).reshape(c_out, c_in * stride, taps), bias)


def _max_pool_same(x: torch.Tensor, size: int) -> torch.Tensor:
    """Max pooling with TF "same" padding (padded positions never win, as in TF).

    ``ceil_mode`` supplies the right padding, which TF makes equal or one longer than the left.
    """
    left, _ = same_padding(x.shape[-1], size, size)
    return F.max_pool1d(x, size, padding=left, ceil_mode=True)


class PeepholeLSTM(nn.Module):
    """Single-layer LSTM with peephole connections (TF ``LSTMCell(use_peepholes=True)``).

    Same call convention as ``nn.LSTM(batch_first=True)``. No library has a fused peephole
    kernel, so :class:`_PeepholeRecurrence` runs the time loop itself, kept short: the input
    projection of all epochs is one matrix product before it (``F.linear``; oneDNN's faster
    product is not used because its sums change with the thread count, and folds run in
    parallel must equal folds run one after the other), the loop (:func:`_peephole_steps`)
    runs under TorchScript on one thread (:func:`_one_thread`) writing into buffers
    allocated once, and the backward pass computes the weights' and peepholes' gradients
    as single products after its own loop. ``benchmarks/run.py`` compares it with the fused
    ``nn.LSTM``.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.input_proj = nn.Linear(input_size, 4 * hidden_size)
        self.hidden_proj = nn.Linear(hidden_size, 4 * hidden_size, bias=False)
        self.peep = nn.Parameter(torch.zeros(3, hidden_size))  # input, forget, output gates
        with torch.no_grad():  # TF's forget bias of 1.0, as an initial value
            self.input_proj.bias[hidden_size : 2 * hidden_size].fill_(1.0)

    def forward(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        if torch.onnx.is_in_onnx_export():
            return self._onnx(x, state)
        out, h, c = _PeepholeRecurrence.apply(
            x,
            state[0][0],
            state[1][0],
            self.input_proj.weight,
            self.input_proj.bias,
            self.hidden_proj.weight,
            self.peep,
        )
        return out, (h[None], c[None])

    def _onnx(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """The same computation through :class:`_OnnxLSTM`, in ONNX's layout."""

        def gates_ifgo_to_iofg(t: torch.Tensor) -> torch.Tensor:
            i, f, g, o = t.chunk(4)
            return torch.cat([i, o, f, g])[None]

        w = gates_ifgo_to_iofg(self.input_proj.weight)
        r = gates_ifgo_to_iofg(self.hidden_proj.weight)
        bias = gates_ifgo_to_iofg(self.input_proj.bias)
        b = torch.cat([bias, torch.zeros_like(bias)], dim=1)
        p = torch.cat([self.peep[0], self.peep[2], self.peep[1]])[None]
        y, h, c = _OnnxLSTM.apply(x.transpose(0, 1), w, r, b, p, state[0], state[1])
        return y[:, 0].transpose(0, 1), (h, c)


@contextlib.contextmanager
def _one_thread(device: torch.device) -> Iterator[None]:
    """Run the enclosed CPU operations on one thread, then restore torch's thread count.

    A step of the recurrence multiplies a few nights' states (128 units) by a 128 x 512
    matrix: far too little work to share between threads, yet with several threads MKL opens
    a parallel region at every step for the product and for ``tanh``. Each region costs more
    than the step's arithmetic, and on a machine whose cores are busy it waits for a
    descheduled thread (``benchmarks/README.md``).
    """
    threads = torch.get_num_threads()
    if device.type != "cpu" or threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _peephole_steps(
    acts: torch.Tensor,
    cells: torch.Tensor,
    hidden: torch.Tensor,
    weight_t: torch.Tensor,
    peep: torch.Tensor,
) -> None:
    """The time loop of :class:`_PeepholeRecurrence`, in place; TorchScript compiles it.

    ``acts`` (epochs, nights, 4, units) holds each epoch's input projection, gates in TF's
    order input, forget, cell, output, and is overwritten with the gates after their
    nonlinearities; ``cells`` and ``hidden`` (epochs + 1, nights, units) hold the state
    before the first epoch at index 0 and receive each epoch's ``c`` and ``h``; ``weight_t``
    (units, 4 * units) is the hidden projection, transposed; ``peep`` (3, units) the
    peephole weights of the input, forget and output gates. Time-major buffers make each
    step's slices contiguous; every step's views are made in bulk before the loop.
    """
    peep_if, peep_o = peep[:2], peep[2]
    z_steps, if_steps = acts.flatten(2).unbind(0), acts[:, :, :2].unbind(0)
    gates = acts.unbind(2)
    i_steps, f_steps, g_steps, o_steps = (gates[k].unbind(0) for k in range(4))
    cell_steps, hidden_steps = cells.unbind(0), hidden.unbind(0)
    c_prev_steps = cells[:-1].unsqueeze(2).unbind(0)  # (nights, 1, units): one for i and f
    for t in range(len(z_steps)):
        c, g, o = cell_steps[t + 1], g_steps[t], o_steps[t]
        z_steps[t].addmm_(hidden_steps[t], weight_t)
        if_steps[t].addcmul_(peep_if, c_prev_steps[t]).sigmoid_()
        g.tanh_()
        torch.mul(f_steps[t], cell_steps[t], out=c).addcmul_(i_steps[t], g)
        o.addcmul_(peep_o, c).sigmoid_()
        torch.tanh(c, out=hidden_steps[t + 1]).mul_(o)


@functools.cache
def _compiled_steps() -> Callable[..., None]:
    """:func:`_peephole_steps` under TorchScript, or as it is where TorchScript is missing.

    Compiled, a step of one night costs about 12 instead of 18 us of CPU time: the same
    operations without the Python interpreter between them (``benchmarks/README.md``).
    Compiling takes about 0.03 s, once per process. TorchScript warns that it is deprecated; where a
    torch no longer has it, or the source is not available (a frozen application), the loop
    runs as Python, giving the same numbers.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return cast(Callable[..., None], torch.jit.script(_peephole_steps))
    except (AttributeError, OSError, RuntimeError):
        return _peephole_steps


class _PeepholeRecurrence(torch.autograd.Function):
    """:class:`PeepholeLSTM`'s computation, with its backward pass written out.

    ``forward(x, h0, c0, input_weight, input_bias, weight, peep) -> (outputs, h, c)``: ``x``
    (nights, epochs, inputs) the epochs' features; ``h0``, ``c0`` (nights, units) the state
    before the first epoch; ``input_weight`` (4 * units, inputs) and ``input_bias`` the input
    projection and ``weight`` (4 * units, units) the hidden projection, gates in TF's order
    input, forget, cell, output; ``peep`` (3, units) the peephole weights of the input,
    forget and output gates. ``outputs`` (nights, epochs, units) holds every epoch's ``h``.

    The forward pass keeps each step's gate activations and cell states. The backward pass
    runs back through the steps with only what is recurrent in it (the state's gradients
    and one product by ``weight`` per step); the per-step factors are computed for all
    epochs at once before that loop, and the weights', bias's and peepholes' gradients as
    single products after it, instead of per step as autograd would.
    """

    @staticmethod
    def forward(
        ctx: Any,
        x: torch.Tensor,
        h0: torch.Tensor,
        c0: torch.Tensor,
        input_weight: torch.Tensor,
        input_bias: torch.Tensor,
        weight: torch.Tensor,
        peep: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        gates_x = F.linear(x, input_weight, input_bias)
        n, steps, four_units = gates_x.shape
        units = four_units // 4
        # Time-major (for one night no copy); overwritten with the gates' activations.
        acts = gates_x.transpose(0, 1).contiguous().view(steps, n, 4, units)
        cells = gates_x.new_empty(steps + 1, n, units)  # c before the first epoch, then each c
        hidden = gates_x.new_empty(steps + 1, n, units)
        cells[0], hidden[0] = c0, h0
        with _one_thread(x.device):
            _compiled_steps()(acts, cells, hidden, weight.t().contiguous(), peep)
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(x, input_weight, acts, cells, hidden, weight, peep)
        return hidden[1:].transpose(0, 1), hidden[-1], cells[-1]

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(
        ctx: Any, d_out: torch.Tensor, d_h: torch.Tensor, d_c: torch.Tensor
    ) -> tuple[torch.Tensor | None, ...]:
        x, input_weight, acts, cells, hidden, weight, peep = ctx.saved_tensors
        steps, n, _, units = acts.shape  # time-major, as the forward pass left them
        i, f, g, o = acts.unbind(2)
        c_prev, c = cells[:-1], cells[1:]
        tanh_cells = torch.tanh(c)
        # The gradients of the gate inputs are dh * k_o (output gate) and dc * k_ifg (the
        # others); dc collects dh * k_h from h = o tanh(c) and the output peephole, and
        # passes dc * carry to the cell before (through f and the input/forget peepholes).
        k_o = tanh_cells * o * (1 - o)
        k_h = o * (1 - tanh_cells.square()) + k_o * peep[2]
        k_ifg = torch.stack([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g.square())], 2)
        carry = f + k_ifg[:, :, 0] * peep[0] + k_ifg[:, :, 1] * peep[1]
        d_z = torch.empty_like(acts)
        dc = d_c.clone()
        # Per step, back from the last: what the step after it passes back (none for the last).
        d_z_next = [*d_z.view(steps, n, 4 * units).unbind(0)[1:], None]
        carry_next = [*carry.unbind(0)[1:], None]
        per_step = zip(
            d_out.transpose(0, 1).unbind(0),
            d_z_next,
            carry_next,
            k_h.unbind(0),
            k_ifg.unbind(0),
            k_o.unbind(0),
            d_z[:, :, :3].unbind(0),
            d_z[:, :, 3].unbind(0),
            strict=True,
        )
        with _one_thread(acts.device):
            for d_out_t, d_z_after, carry_after, k_h_t, k_ifg_t, k_o_t, d_ifg, d_o in reversed(
                list(per_step)
            ):
                if d_z_after is None:
                    dh = d_out_t + d_h
                else:
                    dh = torch.addmm(d_out_t, d_z_after, weight)
                    dc.mul_(carry_after)
                dc.addcmul_(dh, k_h_t)
                torch.mul(dc[:, None], k_ifg_t, out=d_ifg)
                torch.mul(dh, k_o_t, out=d_o)
        d_z_i, d_z_f, _, d_z_o = d_z.unbind(2)
        d_gates = d_z.view(steps * n, 4 * units)  # rows epoch-major, as hidden's
        d_weight = d_gates.t() @ hidden[:-1].reshape(-1, units)
        d_peep = torch.stack(
            [(d_z_i * c_prev).sum((0, 1)), (d_z_f * c_prev).sum((0, 1)), (d_z_o * c).sum((0, 1))]
        )
        needs = ctx.needs_input_grad
        d_x = None
        if needs[0]:  # (nights, epochs, inputs)
            d_gates_x = d_z.view(steps, n, 4 * units).transpose(0, 1)
            d_x = F.linear(d_gates_x, input_weight.t().contiguous())
        d_h0 = d_z[0].reshape(n, 4 * units) @ weight if needs[1] else None
        d_c0 = dc * carry[0] if needs[2] else None
        d_input_weight = None
        if needs[3]:  # x's epochs in the rows' order of d_gates: epoch-major
            d_input_weight = F.linear(d_gates.t(), x.permute(2, 1, 0).reshape(x.shape[-1], -1))
        d_input_bias = d_gates.sum(0) if needs[4] else None
        return d_x, d_h0, d_c0, d_input_weight, d_input_bias, d_weight, d_peep


class _OnnxLSTM(torch.autograd.Function):
    """ONNX's ``LSTM`` operator with peepholes, for exporting :class:`PeepholeLSTM`.

    Tracing the Python time loop would fix the number of epochs at the example's; the ONNX
    operator serves any number, and ONNX Runtime runs it as one kernel. Arguments follow the
    operator (sequence-first ``x``, gates ordered input, output, forget, cell; peepholes
    input, output, forget); :meth:`forward` computes the same, so the trace has its shapes.
    """

    @staticmethod
    def forward(
        ctx: Any,
        x: torch.Tensor,
        w: torch.Tensor,
        r: torch.Tensor,
        b: torch.Tensor,
        p: torch.Tensor,
        h0: torch.Tensor,
        c0: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h, c = h0[0], c0[0]
        w_b, r_b = b[0].chunk(2)
        p_i, p_o, p_f = p[0].chunk(3)
        outputs = []
        for x_t in x:
            i, o, f, g = (x_t @ w[0].T + w_b + h @ r[0].T + r_b).chunk(4, dim=-1)
            c = torch.sigmoid(f + p_f * c) * c + torch.sigmoid(i + p_i * c) * torch.tanh(g)
            h = torch.sigmoid(o + p_o * c) * torch.tanh(c)
            outputs.append(h)
        return torch.stack(outputs)[:, None], h[None], c[None]

    @staticmethod
    def symbolic(g, x, w, r, b, p, h0, c0):
        no_lengths = g.op("prim::Constant")
        no_lengths.setType(torch._C.OptionalType.ofTensor())
        units = r.type().sizes()[-1]
        return g.op("LSTM", x, w, r, b, no_lengths, h0, c0, p, hidden_size_i=units, outputs=3)


def _truncated_normal_fan_in_(weight: torch.Tensor, fan_in: int) -> None:
    """TF's ``variance_scaling_initializer(1.0, "fan_in", "normal")``: a normal truncated
    at two standard deviations, whose std is corrected so the variance is ``1 / fan_in``."""
    std = math.sqrt(1.0 / fan_in) / 0.87962566103423978
    nn.init.trunc_normal_(weight, std=std, a=-2 * std, b=2 * std)


def _glorot_uniform_(weight: torch.Tensor, fan_in: int, fan_out: int) -> None:
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    nn.init.uniform_(weight, -limit, limit)


def init_as_authors(model: TinySleepNet) -> None:
    """Give a network the initial weights of the authors' TF code (TF 1.x defaults).

    * conv and dense kernels: truncated normal, variance ``1 / fan_in`` (``nn.py``:
      ``variance_scaling_initializer(scale=1.0, mode="fan_in", distribution="normal")``);
    * the LSTM kernel: glorot-uniform over TF's one ``[inputs + units, 4 * units]`` matrix,
      i.e. the input and hidden weights share one limit; peephole weights (shape ``[units]``)
      glorot-uniform with fan-in = fan-out = units;
    * biases 0, except the LSTM's forget gate at 1.0, which equals TF's ``forget_bias=1.0``
      added at run time (same forward pass, same gradients); batch-norm gamma 1, beta 0.
    """
    with torch.no_grad():
        for block in [model.conv1, *model.convs]:
            weight = block.conv.weight  # (out, in, kernel): TF's fan-in is in * kernel
            _truncated_normal_fan_in_(weight, weight.shape[1] * weight.shape[2])
            block.norm.weight.fill_(1.0)
            block.norm.bias.zero_()
        _truncated_normal_fan_in_(model.classifier.weight, model.classifier.in_features)
        model.classifier.bias.zero_()
        units, n_inputs = model.config.lstm_units, model.n_features
        lstm = model.lstm
        if isinstance(lstm, PeepholeLSTM):
            weights, biases = (
                [lstm.input_proj.weight, lstm.hidden_proj.weight],
                [lstm.input_proj.bias],
            )
            _glorot_uniform_(lstm.peep, units, units)
        else:
            weights = [lstm.get_parameter("weight_ih_l0"), lstm.get_parameter("weight_hh_l0")]
            biases = [lstm.get_parameter("bias_ih_l0"), lstm.get_parameter("bias_hh_l0")]
        for weight in weights:
            _glorot_uniform_(weight, n_inputs + units, 4 * units)
        for bias in biases:
            bias.zero_()
        biases[0][units : 2 * units].fill_(1.0)


class TinySleepNet(nn.Module):
    """TinySleepNet for one EEG channel.

    Kernel and stride of the first convolution follow the sampling rate (``sfreq / 2`` and
    ``sfreq / 16``), as in the authors' code, so the network fits 100 Hz and 256 Hz alike.

    Parameters
    ----------
    config : Config
        Uses ``sfreq``, ``epoch_sec``, ``n_filters``, ``lstm_units``, ``dropout``,
        ``batch_norm``, ``batch_norm_eps``, ``peepholes``, ``init`` and ``input_scale``.

    Examples
    --------
    >>> net = TinySleepNet(Config())
    >>> x = torch.randn(2, 10, 3000)          # nights, epochs, samples
    >>> logits, state = net(x)                # state=None: start of the nights
    >>> logits.shape
    torch.Size([2, 10, 5])
    """

    def __init__(self, config: Config | None = None) -> None:
        super().__init__()
        config = config or Config()
        self.config = config
        self.epoch_samples = config.epoch_samples
        n, bn = config.n_filters, (config.batch_norm, config.batch_norm_eps)
        kernel, stride = int(config.sfreq / 2), max(int(config.sfreq / 16), 1)
        self.conv1 = _ConvBlock(1, n, kernel, stride, *bn)
        self.convs = nn.ModuleList(_ConvBlock(n, n, 8, 1, *bn) for _ in range(3))
        self.dropout = nn.Dropout(config.dropout)
        # The CNN's output size, measured on one empty epoch (its dropout draws no numbers
        # from the seeded generator that initialises the weights).
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            self.n_features = self._cnn(torch.zeros(1, 1, self.epoch_samples)).shape[1]
        self.lstm: nn.Module
        if config.peepholes:
            self.lstm = PeepholeLSTM(self.n_features, config.lstm_units)
        else:
            lstm = nn.LSTM(self.n_features, config.lstm_units, batch_first=True)
            with torch.no_grad():  # TF's forget bias of 1.0, as an initial value
                h = config.lstm_units
                lstm.get_parameter("bias_ih_l0")[h : 2 * h].fill_(1.0)
                lstm.get_parameter("bias_hh_l0")[h : 2 * h].fill_(0.0)
            self.lstm = lstm
        self.classifier = nn.Linear(config.lstm_units, N_STAGES)
        if config.init == "authors":
            init_as_authors(self)

    def conv_kernels(self) -> list[torch.Tensor]:
        """The four conv kernels, the only weights under the L2 penalty."""
        blocks = cast(list[_ConvBlock], [self.conv1, *self.convs])
        return [block.conv.weight for block in blocks]

    def initial_state(self, n_nights: int, device: torch.device | str | None = None) -> State:
        """Zero state for the start of ``n_nights`` nights."""
        return zero_state(n_nights, self.config.lstm_units, device)

    def epoch_features(self, x: torch.Tensor) -> torch.Tensor:
        """CNN features of each epoch: ``(..., samples)`` -> ``(..., n_features)``.

        On the CPU, epochs run through the CNN in groups of :data:`FEATURE_CHUNK`, so the
        largest activation (conv1's output, 256 kB per epoch) stays in the cache instead of
        being written to memory a whole night at a time; results do not depend on the grouping.
        """
        lead = x.shape[:-1]
        epochs = x.reshape(-1, 1, x.shape[-1])
        if self.config.input_scale != 1.0:
            epochs = epochs * self.config.input_scale
        if x.device.type != "cpu" or torch.onnx.is_in_onnx_export():
            # GPUs want large kernels; an exported graph must serve any number of epochs.
            return self._cnn(epochs).reshape(*lead, self.n_features)
        starts = range(0, len(epochs), FEATURE_CHUNK)
        chunks = [self._cnn(epochs[i : i + FEATURE_CHUNK]) for i in starts]
        features = chunks[0] if len(chunks) == 1 else torch.cat(chunks)
        return features.reshape(*lead, self.n_features)

    def _cnn(self, z: torch.Tensor) -> torch.Tensor:
        z = _max_pool_same(self.conv1(z), 8)
        z = self.dropout(z)
        for block in self.convs:
            z = block(z)
        z = _max_pool_same(z, 4)
        return self.dropout(z.flatten(1))

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Stage logits for consecutive epochs of several nights.

        Parameters
        ----------
        x : Tensor, shape (nights, epochs, samples)
            Raw EEG in microvolts, epochs in time order.
        state : (h, c) or None
            LSTM state after the previous epochs of the same nights; ``None`` starts afresh.

        Returns
        -------
        logits : Tensor, shape (nights, epochs, 5)
        state : (h, c)
            State after the last epoch, to pass with the next epochs of these nights.
        """
        if x.shape[-1] != self.epoch_samples:
            raise ValueError(f"expected epochs of {self.epoch_samples} samples, got {x.shape[-1]}")
        if state is None:
            state = self.initial_state(x.shape[0], x.device)
        features = self.epoch_features(x)
        # The recurrence stays in float32 under autocast: its state runs through whole nights.
        with torch.autocast(x.device.type, enabled=False):
            out, state = self._recur(features.float(), state)
            return self.classifier(self.dropout(out)), state

    def _recur(self, features: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        if isinstance(self.lstm, nn.LSTM) and features.shape[1] == 1:
            # One epoch (online staging): the plain cell is ~10x faster on the CPU than
            # nn.LSTM, whose oneDNN kernel costs a fixed ~1.5 ms to set up per call.
            weights = self.lstm.all_weights[0]
            h, c = torch.lstm_cell(features[:, 0], (state[0][0], state[1][0]), *weights)
            return h[:, None], (h[None], c[None])
        return self.lstm(features, state)
