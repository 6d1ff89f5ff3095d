"""A plain PyTorch formulation of TinySleepNet: the baseline of ``benchmarks/run.py``.

It is what a straightforward port looks like: an ``nn.Sequential`` of padding, conv, batch
norm as a separate scale-and-shift, ReLU and pooling layers, ``nn.LSTM``, and inference that
loops over nights and chunks of epochs in Python. Same weights and same outputs as
:class:`tinysleepnet.nn.model.TinySleepNet` (:func:`copy_weights`), so timings compare like
for like.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from tinysleepnet.config import Config
from tinysleepnet.nn.model import TinySleepNet, same_padding
from tinysleepnet.stages import N_STAGES


class Affine(nn.Module):
    """Per-channel scale and shift (the authors' batch norm, frozen in inference mode)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight[:, None] + self.bias[:, None]


def _conv(c_in: int, c_out: int, kernel: int, stride: int, length: int) -> list[nn.Module]:
    return [
        nn.ConstantPad1d(same_padding(length, kernel, stride), 0.0),
        nn.Conv1d(c_in, c_out, kernel, stride, bias=False),
        Affine(c_out),
        nn.ReLU(),
    ]


def _pool(size: int, length: int) -> list[nn.Module]:
    return [nn.ConstantPad1d(same_padding(length, size, size), 0.0), nn.MaxPool1d(size)]


class PlainTinySleepNet(nn.Module):
    """TinySleepNet as a naive port writes it (affine batch norm, no peepholes)."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        n, samples = config.n_filters, config.epoch_samples
        kernel, stride = int(config.sfreq / 2), max(int(config.sfreq / 16), 1)
        length1 = -(-samples // stride)
        length2 = -(-length1 // 8)
        layers = [*_conv(1, n, kernel, stride, samples), *_pool(8, length1)]
        layers.append(nn.Dropout(config.dropout))
        for _ in range(3):
            layers += _conv(n, n, 8, 1, length2)
        layers += [*_pool(4, length2), nn.Flatten(), nn.Dropout(config.dropout)]
        self.cnn = nn.Sequential(*layers)
        self.epoch_samples = samples
        self.n_features = -(-length2 // 4) * n
        self.lstm = nn.LSTM(self.n_features, config.lstm_units, batch_first=True)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(config.lstm_units, N_STAGES)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        nights, epochs, samples = x.shape
        features = self.cnn(x.reshape(nights * epochs, 1, samples)).reshape(nights, epochs, -1)
        out, state = self.lstm(features, state)
        return self.classifier(self.dropout(out)), state

    def conv_kernels(self) -> list[torch.Tensor]:
        return [m.weight for m in self.cnn if isinstance(m, nn.Conv1d)]


def copy_weights(source: TinySleepNet, target: PlainTinySleepNet) -> None:
    """Give ``target`` the weights of ``source`` (affine batch norm, no peepholes)."""
    blocks = [source.conv1, *source.convs]
    convs = [m for m in target.cnn if isinstance(m, nn.Conv1d)]
    affines = [m for m in target.cnn if isinstance(m, Affine)]
    with torch.no_grad():
        for block, conv, affine in zip(blocks, convs, affines, strict=True):
            conv.weight.copy_(block.conv.weight)
            affine.weight.copy_(block.norm.weight * block.norm.inv_std)  # TF's BN epsilon
            affine.bias.copy_(block.norm.bias)
    target.lstm.load_state_dict(source.lstm.state_dict())
    target.classifier.load_state_dict(source.classifier.state_dict())


def predict_proba(
    model: PlainTinySleepNet, signals: list[np.ndarray], chunk_epochs: int = 256
) -> list[np.ndarray]:
    """Stage probabilities night by night and chunk by chunk, as a naive port does."""
    model.eval()
    results = []
    with torch.no_grad():
        for night in signals:
            units = model.lstm.hidden_size
            state = (torch.zeros(1, 1, units), torch.zeros(1, 1, units))
            probs = []
            for start in range(0, len(night), chunk_epochs):
                x = torch.tensor(night[start : start + chunk_epochs])[None]
                logits, state = model(x, state)
                probs.append(torch.softmax(logits[0], dim=-1).numpy())
            results.append(np.concatenate(probs))
    return results
