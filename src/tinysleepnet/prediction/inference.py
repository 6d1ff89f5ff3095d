"""Running a trained network over whole nights (the LSTM state carried through each night)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..model import TinySleepNet


@torch.inference_mode()
def predict_proba(
    model: TinySleepNet,
    signals: Sequence[np.ndarray],
    *,
    batch_nights: int = 16,
    chunk_epochs: int = 256,
) -> list[np.ndarray]:
    """Stage probabilities of every epoch of several nights.

    Nights are staged side by side (padded to the longest), in chunks of consecutive epochs
    with the recurrent state carried from chunk to chunk, which bounds memory while giving
    exactly the result of one pass over the whole night. Padding sits after each night's
    end, so it never reaches that night's earlier outputs.

    Parameters
    ----------
    model : TinySleepNet
        Put in evaluation mode by the caller (:func:`~tinysleepnet.training.checkpoint.load_model` does).
    signals : sequence of ndarray, shape (n_epochs, epoch_samples)
        Each night's EEG in microvolts, cut into epochs.
    batch_nights : int
        Nights staged together.
    chunk_epochs : int
        Epochs per forward call.

    Returns
    -------
    list of ndarray, shape (n_epochs, 5)
        Softmax probabilities per night, float32, in the order given.
    """
    device = next(model.parameters()).device
    results: list[np.ndarray] = []
    for first in range(0, len(signals), batch_nights):
        group = signals[first : first + batch_nights]
        lengths = [len(s) for s in group]
        x = torch.zeros(len(group), max(lengths), model.epoch_samples)
        for i, night in enumerate(group):
            x[i, : len(night)] = torch.as_tensor(night)
        state = None
        probs = []
        for start in range(0, x.shape[1], chunk_epochs):
            logits, state = model(x[:, start : start + chunk_epochs].to(device), state)
            probs.append(torch.softmax(logits.float(), dim=-1).cpu())
        stacked = torch.cat(probs, dim=1).numpy()
        results.extend(stacked[i, :n] for i, n in enumerate(lengths))
    return results
