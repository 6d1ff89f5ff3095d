"""Augmentation and chunking of training nights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tinysleepnet.data.nights import Night, load_night, save_night
from tinysleepnet.training.batches import (
    augment_night,
    count_steps,
    iterate_chunks,
    iterate_pass,
    plan_pass,
    split_nights,
)

SAMPLES = 10  # samples per epoch in these tests


def ramp_night(n_epochs: int, first: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A night whose samples count up, so every value tells where it came from."""
    signal = np.arange(first, first + n_epochs * SAMPLES, dtype=np.float32)
    return signal.reshape(n_epochs, SAMPLES), np.arange(n_epochs, dtype=np.int64)


@pytest.mark.parametrize("shift", [3, -3, 9, -9])
def test_shift_keeps_labels_aligned(shift):
    signal, stages = ramp_night(6)
    shifted, labels = augment_night(signal, stages, skip=0, shift=shift)
    assert shifted.shape == (5, SAMPLES) and len(labels) == 5
    for epoch, label in zip(shifted, labels, strict=True):
        # the epoch labelled i holds the original samples i * S + shift ... (i + 1) * S + shift
        start = label * SAMPLES + shift
        np.testing.assert_array_equal(epoch, signal.reshape(-1)[start : start + SAMPLES])


def test_shift_drops_the_epoch_that_leaves_the_night():
    signal, stages = ramp_night(6)
    assert augment_night(signal, stages, 0, 4)[1].tolist() == [0, 1, 2, 3, 4]
    assert augment_night(signal, stages, 0, -4)[1].tolist() == [1, 2, 3, 4, 5]


def test_no_shift_keeps_every_epoch_and_skip_drops_the_first():
    signal, stages = ramp_night(6)
    kept, labels = augment_night(signal, stages, skip=2, shift=0)
    np.testing.assert_array_equal(kept, signal[2:])
    assert labels.tolist() == [2, 3, 4, 5]


def test_augment_night_does_not_copy_the_signal():
    signal, stages = ramp_night(6)
    assert np.shares_memory(augment_night(signal, stages, 1, -3)[0], signal)


def test_plan_is_seeded_and_within_bounds():
    plan = plan_pass(50, np.random.default_rng(1), max_skip_epochs=4, max_shift_samples=30)
    again = plan_pass(50, np.random.default_rng(1), max_skip_epochs=4, max_shift_samples=30)
    other = plan_pass(50, np.random.default_rng(2), max_skip_epochs=4, max_shift_samples=30)
    np.testing.assert_array_equal(plan.order, again.order)
    np.testing.assert_array_equal(plan.shift, again.shift)
    assert not np.array_equal(plan.order, other.order)
    assert sorted(plan.order) == list(range(50))
    assert set(plan.skip) == set(range(5))
    assert plan.shift.min() >= -30 and plan.shift.max() <= 30


def test_plan_lengths_match_the_augmented_nights():
    nights = [ramp_night(n) for n in (7, 12, 9)]
    plan = plan_pass(3, np.random.default_rng(0), max_skip_epochs=3, max_shift_samples=5)
    expected = [len(augment_night(*nights[i], plan.skip[i], plan.shift[i])[1]) for i in plan.order]
    assert plan.lengths([7, 12, 9]).tolist() == expected


def test_chunks_hold_consecutive_epochs_with_padding_weights():
    nights = [ramp_night(7), ramp_night(3, first=1000)]
    chunks = list(iterate_chunks([s for s, _ in nights], [y for _, y in nights], seq_len=3))
    assert len(chunks) == 3  # ceil(7 / 3)
    assert [first for *_, first in chunks] == [True, False, False]
    x = np.concatenate([c[0].numpy() for c in chunks], axis=1)
    y = np.concatenate([c[1].numpy() for c in chunks], axis=1)
    weight = np.concatenate([c[2].numpy() for c in chunks], axis=1)
    assert x.shape == (2, 9, SAMPLES) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0, :7], nights[0][0])
    np.testing.assert_array_equal(x[1, :3], nights[1][0])
    np.testing.assert_array_equal(y[0, :7], nights[0][1])
    np.testing.assert_array_equal(weight, [[1] * 7 + [0] * 2, [1] * 3 + [0] * 6])
    assert not x[weight == 0].any() and not y[weight == 0].any()


def test_pass_resets_at_each_group_and_counts_its_steps():
    lengths = [7, 12, 9, 4, 10]
    nights = [ramp_night(n, first=1000 * i) for i, n in enumerate(lengths)]
    plan = plan_pass(5, np.random.default_rng(3), max_skip_epochs=2, max_shift_samples=4)
    chunks = list(iterate_pass([s for s, _ in nights], [y for _, y in nights], plan, 2, 4))
    assert len(chunks) == count_steps(plan.lengths(lengths), batch_nights=2, seq_len=4)
    assert [c[0].shape[0] for c in chunks if c[3]] == [2, 2, 1]  # three groups of nights
    # the first row of each group is the night visited first, from its own samples
    firsts = [c[0][0, 0, 0].item() // 1000 for c in chunks if c[3]]
    assert firsts == plan.order[::2].tolist()


def test_count_steps_uses_the_longest_night_of_each_group():
    assert count_steps(np.array([10, 3, 4, 4, 1]), batch_nights=2, seq_len=4) == 3 + 1 + 1


def _night(n_epochs: int, name: str) -> Night:
    signal, stages = ramp_night(n_epochs)
    return Night(signal, stages, 100.0, "EEG Fpz-Cz", "00", 1, "", name)


@pytest.mark.parametrize(("n_epochs", "lengths"), [(10, [10]), (11, [6, 5]), (25, [8, 9, 8])])
def test_split_nights_cuts_near_equal_consecutive_segments(n_epochs, lengths):
    night = _night(n_epochs, "SC4001E0")
    segments = split_nights([night], max_epochs=10)
    assert [len(s.stages) for s in segments] == lengths
    assert [s.name for s in segments] == [f"SC4001E0/{k}" for k in range(len(lengths))]
    np.testing.assert_array_equal(np.concatenate([s.signal_uv for s in segments]), night.signal_uv)
    np.testing.assert_array_equal(np.concatenate([s.stages for s in segments]), night.stages)
    assert all(s.subject == night.subject and s.sfreq == night.sfreq for s in segments)


def test_split_nights_zero_keeps_nights_whole():
    nights = [_night(25, "a"), _night(7, "b")]
    assert split_nights(nights, max_epochs=0) == nights


def test_memory_mapped_nights_give_the_same_pass(tmp_path):
    """Nights read through memory maps (and their pages released per group) train the same."""
    in_memory = []
    for i, n_epochs in enumerate([7, 5, 9]):
        signal, stages = ramp_night(n_epochs, first=1000 * i)
        night = Night(signal, stages, 100.0, "EEG", str(i), 1, "", f"n{i}")
        save_night(tmp_path / f"n{i}.npz", night)
        in_memory.append(night)
    mapped = [load_night(tmp_path / f"n{i}.npz") for i in range(3)]
    assert all(isinstance(night.signal_uv, np.memmap) for night in mapped)
    plan = plan_pass(5, np.random.default_rng(3), max_skip_epochs=2, max_shift_samples=4)
    passes = []
    for nights in (in_memory, mapped):
        segments = split_nights(nights, max_epochs=5)  # 2 + 1 + 2 segments
        assert len(segments) == len(plan.order)
        signals, stages = [s.signal_uv for s in segments], [s.stages for s in segments]
        passes.append(list(iterate_pass(signals, stages, plan, batch_nights=2, seq_len=3)))
    assert len(passes[0]) == len(passes[1]) > 0
    for expected, got in zip(*passes, strict=True):
        for a, b in zip(expected, got, strict=True):
            assert torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b
