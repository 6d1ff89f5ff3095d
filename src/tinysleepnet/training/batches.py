"""Minibatches of nights for training: per-pass augmentation and chunks of consecutive epochs.

One pass over the training nights, as in the authors' code:

1. shuffle the nights and draw each night's augmentation (:func:`plan_pass`);
2. shift each night's signal by a few samples and drop a few epochs at its start
   (:func:`augment_night`), so chunk boundaries and epoch windows move from pass to pass;
3. put ``batch_nights`` nights side by side and cut them into chunks of ``seq_len``
   consecutive epochs (:func:`iterate_chunks`); nights shorter than the longest of their group
   are padded with zeros of weight 0. The training loop carries the LSTM state from one chunk
   of a group to the next and resets it at the first chunk of each group.

Everything here is a pure function of its inputs (the randomness comes in through ``rng``),
so a pass can be replayed exactly, and its number of optimizer steps known before it runs.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..data.nights import Night
from ..io.mapped import release_pages

#: One training step's data: epochs (nights, seq_len, samples) float32, stages
#: (nights, seq_len) int64, weights (nights, seq_len) float32 (0 on padding), and whether
#: the chunk starts a new group of nights (the recurrent state must be reset).
Chunk = tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool]


@dataclass(frozen=True)
class PassPlan:
    """The random choices of one pass over the training nights.

    Attributes
    ----------
    order : ndarray of int, shape (n_nights,)
        Night indices in the order the pass visits them.
    skip : ndarray of int, shape (n_nights,)
        Epochs dropped at the start of each night (indexed by night, not by visit order).
    shift : ndarray of int, shape (n_nights,)
        Shift of each night's signal, in samples; positive takes later samples.
    """

    order: np.ndarray
    skip: np.ndarray
    shift: np.ndarray

    def lengths(self, n_epochs: Sequence[int]) -> np.ndarray:
        """Epochs of each night after augmentation, in visit order."""
        kept = np.asarray(n_epochs) - (self.shift != 0) - self.skip
        return np.maximum(kept, 0)[self.order]


def split_nights(nights: Sequence[Night], max_epochs: int) -> list[Night]:
    """Cut each night into near-equal consecutive segments of at most ``max_epochs`` epochs.

    Segments are named ``"<night>/<k>"``; ``max_epochs=0`` keeps every night whole.
    """
    if max_epochs <= 0:
        return list(nights)
    segments = []
    for night in nights:
        n_epochs = len(night.stages)
        bounds = np.linspace(0, n_epochs, -(-n_epochs // max_epochs) + 1).round().astype(int)
        for k, (first, end) in enumerate(itertools.pairwise(bounds)):
            segments.append(
                dataclasses.replace(
                    night,
                    signal_uv=night.signal_uv[first:end],
                    stages=night.stages[first:end],
                    name=f"{night.name}/{k}",
                )
            )
    return segments


def plan_pass(
    n_nights: int, rng: np.random.Generator, max_skip_epochs: int, max_shift_samples: int
) -> PassPlan:
    """Draw the visit order and the augmentation of every night for one pass.

    Parameters
    ----------
    n_nights : int
        Number of training nights.
    rng : numpy.random.Generator
        Source of randomness; the same generator state gives the same plan.
    max_skip_epochs : int
        Each night drops 0..``max_skip_epochs`` epochs at its start (uniform).
    max_shift_samples : int
        Each night's signal shifts by -``max_shift_samples``..+``max_shift_samples``
        samples (uniform).
    """
    order = rng.permutation(n_nights)
    skip = rng.integers(0, max_skip_epochs + 1, size=n_nights)
    shift = rng.integers(-max_shift_samples, max_shift_samples + 1, size=n_nights)
    return PassPlan(order=order, skip=skip, shift=shift)


def augment_night(
    signal: np.ndarray, stages: np.ndarray, skip: int, shift: int
) -> tuple[np.ndarray, np.ndarray]:
    """Shift a night's signal along time, then drop its first epochs; labels stay aligned.

    The night is treated as one continuous signal: after a shift of ``shift`` samples, the
    epoch labelled ``stages[i]`` holds the original samples ``i * S + shift`` to
    ``(i + 1) * S + shift`` (``S`` samples per epoch). The one epoch whose window would
    leave the recording (the last for ``shift > 0``, the first for ``shift < 0``) is dropped;
    nothing wraps around.

    Parameters
    ----------
    signal : ndarray, shape (n_epochs, samples)
        The night's EEG, one row per epoch.
    stages : ndarray, shape (n_epochs,)
        Stage of each epoch.
    skip : int
        Epochs dropped at the start, after the shift.
    shift : int
        Shift in samples, smaller in magnitude than one epoch.

    Returns
    -------
    signal : ndarray, shape (n_kept, samples)
        A view of ``signal`` when it is C-contiguous (no copy).
    stages : ndarray, shape (n_kept,)
    """
    n_epochs, samples = signal.shape
    if shift:
        start = shift if shift > 0 else samples + shift
        flat = signal.reshape(-1)
        signal = flat[start : start + (n_epochs - 1) * samples].reshape(-1, samples)
        stages = stages[:-1] if shift > 0 else stages[1:]
    return signal[skip:], stages[skip:]


def iterate_chunks(
    signals: Sequence[np.ndarray],
    stages: Sequence[np.ndarray],
    seq_len: int,
    n_chunks: int | None = None,
) -> Iterator[Chunk]:
    """Cut a group of nights, side by side, into chunks of ``seq_len`` consecutive epochs.

    Every chunk has the full shape ``(len(signals), seq_len, samples)``; positions past the
    end of a night hold zeros with weight 0 and stage 0. There are
    ``ceil(longest / seq_len)`` chunks, so each holds at least one real epoch.

    Parameters
    ----------
    signals : sequence of ndarray, shape (n_epochs_i, samples)
        The nights' EEG; lengths may differ.
    stages : sequence of ndarray, shape (n_epochs_i,)
        The nights' stages.
    seq_len : int
        Epochs per chunk.
    n_chunks : int or None
        Chunks to yield (default: enough for the longest night); more pad with weight 0.

    Yields
    ------
    x, y, weight, is_first : Tensor, Tensor, Tensor, bool
        See :data:`Chunk`; ``is_first`` is true for the first chunk only.
    """
    lengths = np.array([len(s) for s in stages])
    samples = signals[0].shape[1]
    if n_chunks is None:
        n_chunks = -(-int(lengths.max(initial=0)) // seq_len)
    for index in range(n_chunks):
        start = index * seq_len
        x = np.zeros((len(signals), seq_len, samples), dtype=np.float32)
        y = np.zeros((len(signals), seq_len), dtype=np.int64)
        for night, (signal, labels) in enumerate(zip(signals, stages, strict=True)):
            part = slice(start, start + seq_len)
            x[night, : len(labels[part])] = signal[part]
            y[night, : len(labels[part])] = labels[part]
        weight = (start + np.arange(seq_len) < lengths[:, None]).astype(np.float32)
        yield torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(weight), index == 0


def iterate_pass(
    signals: Sequence[np.ndarray],
    stages: Sequence[np.ndarray],
    plan: PassPlan,
    batch_nights: int,
    seq_len: int,
    *,
    rank: int = 0,
    world_size: int = 1,
) -> Iterator[Chunk]:
    """All chunks of one pass: nights in ``plan.order``, augmented, ``batch_nights`` at a time.

    Yields the chunks of :func:`iterate_chunks` for each group of nights in turn. Once a
    group is done, the pages of its memory-mapped signals leave this process's resident
    memory (:func:`~tinysleepnet.io.mapped.release_pages`), so memory does not grow
    with the cohort. With ``world_size`` processes (data-parallel training), the nights of
    each group are dealt out (the k-th to process ``k % world_size``) and process ``rank``
    yields its share;
    every process yields as many chunks as the whole group needs, so all of them take the
    same steps, and one left without a night of a group feeds padding of weight 0.
    """
    lengths = plan.lengths([len(s) for s in stages])
    for first in range(0, len(plan.order), batch_nights):
        longest = int(lengths[first : first + batch_nights].max())
        mine = plan.order[first : first + batch_nights][rank::world_size]
        group = [augment_night(signals[i], stages[i], plan.skip[i], plan.shift[i]) for i in mine]
        if not group:
            group = [(np.zeros((0, signals[0].shape[1]), np.float32), np.zeros(0, np.int64))]
        yield from iterate_chunks(
            [s for s, _ in group], [y for _, y in group], seq_len, -(-longest // seq_len)
        )
        for i in mine:
            release_pages(signals[i])


def count_steps(lengths: np.ndarray, batch_nights: int, seq_len: int) -> int:
    """Chunks (optimizer steps) of a pass, from the nights' lengths in visit order.

    Parameters
    ----------
    lengths : ndarray of int
        Epochs of each night after augmentation, in visit order (:meth:`PassPlan.lengths`).
    batch_nights, seq_len : int
        As for :func:`iterate_pass`.
    """
    longest = [lengths[i : i + batch_nights].max() for i in range(0, len(lengths), batch_nights)]
    return int(sum(-(-int(n) // seq_len) for n in longest))
