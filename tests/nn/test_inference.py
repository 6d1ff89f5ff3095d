"""Whole-night staging: chunked, batched nights give the result of one pass per night."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from tinysleepnet.config import Config
from tinysleepnet.data.simulate import simulate_eeg, simulate_hypnogram
from tinysleepnet.nn.inference import predict_proba
from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.stages import stage_from_annotation


@pytest.fixture(scope="module")
def network() -> TinySleepNet:
    torch.manual_seed(1)
    return TinySleepNet(Config(n_filters=16, lstm_units=16)).eval()


def _one_pass(network: TinySleepNet, night: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        logits, _ = network(torch.as_tensor(night)[None])
    return torch.softmax(logits[0], dim=-1).numpy()


def test_chunks_and_groups_equal_one_pass_per_night(network):
    rng = np.random.default_rng(0)
    lengths = [20, 45, 3, 0, 33, 16]
    nights = [rng.normal(0, 30, (n, network.epoch_samples)).astype(np.float32) for n in lengths]
    probs = predict_proba(network, nights, batch_nights=3, chunk_epochs=16)
    assert [p.shape for p in probs] == [(n, 5) for n in lengths]
    for night, p in zip(nights, probs, strict=True):
        assert p.dtype == np.float32
        if len(night):
            np.testing.assert_allclose(p, _one_pass(network, night), atol=1e-5)
            np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


def test_result_does_not_depend_on_the_company_of_a_night(network):
    rng = np.random.default_rng(1)
    nights = [rng.normal(0, 30, (n, network.epoch_samples)).astype(np.float32) for n in (20, 45)]
    alone = predict_proba(network, nights[:1])[0]
    together = predict_proba(network, nights)[0]
    np.testing.assert_allclose(alone, together, atol=1e-5)


def test_memory_mapped_nights_stage_the_same_without_warnings(network, tmp_path):
    rng = np.random.default_rng(2)
    nights = [rng.normal(0, 30, (n, network.epoch_samples)).astype(np.float32) for n in (9, 4)]
    mapped = []
    for i, night in enumerate(nights):
        np.save(tmp_path / f"{i}.npy", night)
        mapped.append(np.load(tmp_path / f"{i}.npy", mmap_mode="r"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns when it shares a read-only array
        from_maps = predict_proba(network, mapped, chunk_epochs=4)
    in_memory = predict_proba(network, nights, chunk_epochs=4)
    for expected, got in zip(in_memory, from_maps, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_bfloat16_agrees_with_float32_on_a_simulated_night(network):
    stages = [stage_from_annotation(text) for text in simulate_hypnogram(240, rng=0)]
    night = simulate_eeg(np.array(stages), rng=0).reshape(len(stages), network.epoch_samples)
    reference = predict_proba(network, [night])[0]
    fast = predict_proba(network, [night], precision="bfloat16")[0]
    tolerance = 0.015  # the README promises 0.02
    np.testing.assert_allclose(fast, reference, atol=tolerance)
    # An untrained network is unsure (top probabilities near 0.25), so a few epochs are
    # near-ties; bfloat16 may flip those and only those.
    changed = fast.argmax(1) != reference.argmax(1)
    top_two = np.sort(reference, axis=1)[:, -2:]
    assert np.all(top_two[changed, 1] - top_two[changed, 0] < 2 * tolerance)
    assert np.mean(~changed) >= 0.95


def test_unknown_precision_is_refused(network):
    with pytest.raises(ValueError, match="precision"):
        predict_proba(network, [np.zeros((2, network.epoch_samples), np.float32)], precision="int4")
