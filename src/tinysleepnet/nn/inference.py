"""Running a trained network over whole nights (the LSTM state carried through each night)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

import numpy as np
import torch
from tqdm.auto import tqdm

from ..config import PRECISIONS
from ..io.mapped import release_pages
from ..stages import N_STAGES
from .model import State


class StagingModel(Protocol):
    """What :func:`predict_proba` needs: :class:`~tinysleepnet.nn.model.TinySleepNet` or
    :class:`~tinysleepnet.nn.onnx_backend.OnnxModel`."""

    epoch_samples: int

    def __call__(self, x: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]: ...


def model_device(model: StagingModel) -> torch.device:
    """Device that holds the model's weights (CPU for a model that is not a torch module)."""
    if isinstance(model, torch.nn.Module):
        return next(model.parameters()).device
    return torch.device("cpu")


def proba_step(
    model: StagingModel, x: torch.Tensor, state: State | None
) -> tuple[torch.Tensor, State]:
    """Stage probabilities of consecutive epochs ``x`` (nights, epochs, samples), float32,
    and the recurrent state after them: the step that offline and online staging share."""
    logits, state = model(x, state)
    return torch.softmax(logits.float(), dim=-1), state


@torch.inference_mode()
def predict_proba(
    model: StagingModel,
    signals: Sequence[np.ndarray],
    *,
    batch_nights: int = 16,
    chunk_epochs: int = 256,
    precision: Literal["float32", "bfloat16"] = "float32",
    progress: str | None = None,
) -> list[np.ndarray]:
    """Stage probabilities of every epoch of several nights.

    Nights are staged side by side, in chunks of consecutive epochs with the recurrent state
    carried from chunk to chunk, which bounds memory while giving exactly the result of one
    pass over the whole night. Nights are grouped longest first and a chunk ends wherever a
    night of its group ends, so the network never runs on padding.

    Parameters
    ----------
    model : TinySleepNet or OnnxModel
        In evaluation mode (:func:`~tinysleepnet.nn.checkpoint.load_model` returns it so).
    signals : sequence of ndarray, shape (n_epochs, epoch_samples)
        Each night's EEG in microvolts, cut into epochs.
    batch_nights : int
        Nights staged together.
    chunk_epochs : int
        Most epochs per forward call.
    precision : {"float32", "bfloat16"}
        Arithmetic of the CNN of a torch model (the LSTM always runs in float32).
        ``"bfloat16"`` is about 1.5x faster on CPUs with bfloat16 instructions (AVX512-BF16,
        AMX) and slower than float32 on CPUs without them; it gave the float32 stage on at
        least 99 % of epochs in the checks of ``benchmarks/README.md``.
    progress : str or None
        Label of a progress bar over the epochs (on stderr, when it is a terminal; it
        disappears when done); None shows none.

    Returns
    -------
    list of ndarray, shape (n_epochs, 5)
        Softmax probabilities per night, float32, in the order given.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    device = model_device(model)
    order = sorted(range(len(signals)), key=lambda i: -len(signals[i]))
    results: dict[int, np.ndarray] = {}
    bar = tqdm(
        total=sum(len(signal) for signal in signals),
        desc=progress,
        unit="epoch",
        leave=False,
        disable=None if progress else True,  # None: only on a terminal
    )
    with bar, torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bfloat16"):
        for first in range(0, len(order), batch_nights):
            group = order[first : first + batch_nights]
            probs = _predict_group(model, [signals[i] for i in group], chunk_epochs, device, bar)
            results.update(zip(group, probs, strict=True))
    return [results[i] for i in range(len(signals))]


def _predict_group(
    model: StagingModel,
    nights: list[np.ndarray],
    chunk_epochs: int,
    device: torch.device,
    bar: tqdm,
) -> list[np.ndarray]:
    """Probabilities for nights sorted longest first, their signals copied to ``device`` once."""
    lengths = [len(night) for night in nights]
    x = torch.zeros(len(nights), lengths[0], model.epoch_samples, device=device)
    for i, night in enumerate(nights):
        # A read-only memory map (a prepared night) is copied: torch warns on sharing it.
        x[i, : len(night)] = torch.as_tensor(
            night if night.flags.writeable else np.array(night), device=device
        )
        release_pages(night)
    probs = torch.empty(len(nights), lengths[0], N_STAGES, device=device)
    ends = sorted({*range(chunk_epochs, lengths[0], chunk_epochs), *lengths} - {0})
    state: State | None = None
    start = 0
    for end in ends:
        active = sum(n >= end for n in lengths)  # nights still running: a prefix of the group
        if state is not None:
            state = (state[0][:, :active].contiguous(), state[1][:, :active].contiguous())
        probs[:active, start:end], state = proba_step(model, x[:active, start:end], state)
        bar.update(active * (end - start))
        start = end
    on_host = probs.cpu().numpy()
    return [on_host[i, :n] for i, n in enumerate(lengths)]
