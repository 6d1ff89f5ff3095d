"""A training run is the authors' recipe step by step: each element is checked on what the
loop actually computes (the loss it backpropagates, the gradients it steps, the batches it
feeds, the passes it keeps), so changing any one of them fails a test."""

from __future__ import annotations

import copy
import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tinysleepnet.config import preset
from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.training import loop, run
from tinysleepnet.training.adam import TFAdam
from tinysleepnet.training.fit import train

PAPER = preset("paper")


@pytest.fixture
def fed(monkeypatch) -> list[tuple[torch.Tensor, ...]]:
    """Every chunk the training loop feeds, in order."""
    chunks: list[tuple[torch.Tensor, ...]] = []
    iterate = loop.iterate_pass

    def spy(*args, **kwargs):
        for chunk in iterate(*args, **kwargs):
            chunks.append(chunk)
            yield chunk

    monkeypatch.setattr(loop, "iterate_pass", spy)
    return chunks


@pytest.fixture
def stepped(monkeypatch) -> SimpleNamespace:
    """``steps``: the gradients of every optimizer step by parameter name, as Adam receives
    them; ``initial``: the weights before the first step."""
    spied = SimpleNamespace(steps=[], initial=None, net=None)
    forward, adam_step = TinySleepNet.forward, TFAdam.step

    def spy_forward(self, x, state=None):
        if spied.net is None:
            spied.net, spied.initial = self, copy.deepcopy(self.state_dict())
        return forward(self, x, state)

    def spy_step(self, *args, **kwargs):
        spied.steps.append({n: p.grad.clone() for n, p in spied.net.named_parameters()})
        return adam_step(self, *args, **kwargs)

    monkeypatch.setattr(TinySleepNet, "forward", spy_forward)
    monkeypatch.setattr(TFAdam, "step", spy_step)  # the paper's optimiser
    return spied


def test_the_loss_is_weighted_cross_entropy_plus_l2_on_the_four_conv_kernels(
    tmp_path, tiny_config, toy_nights, fed, stepped
):
    # no dropout (so the step can be recomputed) and no clipping (tested on its own)
    config = tiny_config.replace(dropout=0.0, clip_norm=1e12, max_passes=1)
    train(*toy_nights, config, tmp_path, progress=False)
    x, y, weight, is_first = fed[0]
    assert is_first and (y[weight > 0] == 1).any()  # the chunk holds N1 epochs
    net = TinySleepNet(config).train()
    net.load_state_dict(stepped.initial)
    logits, _ = net(x)
    # docs/method.md, "Training": class weights [1, 1.5, 1, 1, 1], padded positions weigh 0,
    # the mean over the real epochs; plus 1e-3 * sum(w^2) / 2 over the four conv kernels;
    # nothing else.
    per_epoch = F.cross_entropy(logits.reshape(-1, 5), y.reshape(-1), reduction="none")
    class_weight = torch.tensor([1.0, 1.5, 1.0, 1.0, 1.0])[y.reshape(-1)]
    loss = (per_epoch * class_weight * weight.reshape(-1)).sum() / weight.sum()
    kernels = [net.conv1.conv.weight, *(block.conv.weight for block in net.convs)]
    loss = loss + 1e-3 * sum((k**2).sum() for k in kernels) / 2
    loss.backward()
    for name, param in net.named_parameters():
        torch.testing.assert_close(stepped.steps[0][name], param.grad, msg=name)


def test_the_gradients_stepped_are_clipped_to_a_global_norm_of_5(
    tmp_path, tiny_config, toy_nights, stepped
):
    loud = [
        [dataclasses.replace(n, signal_uv=100 * n.signal_uv) for n in part] for part in toy_nights
    ]
    train(*loud, tiny_config.replace(max_passes=1), tmp_path, progress=False)
    norms = [float(torch.cat([g.flatten() for g in s.values()]).norm()) for s in stepped.steps]
    assert max(norms) == pytest.approx(PAPER.clip_norm, rel=1e-4)  # clipped, and needed to be


def test_each_pass_feeds_every_night_shifted_and_skipped_as_drawn(
    tmp_path, tiny_config, toy_nights, fed, monkeypatch
):
    plans = []
    plan_pass = loop.plan_pass

    def spy(*args, **kwargs):
        plans.append(plan_pass(*args, **kwargs))
        return plans[-1]

    monkeypatch.setattr(loop, "plan_pass", spy)
    config = tiny_config.replace(
        max_skip_epochs=PAPER.max_skip_epochs, batch_nights=1, seq_len=64, max_passes=2
    )
    train_nights = toy_nights[0]
    train(train_nights, toy_nights[1], config, tmp_path, progress=False)
    samples = config.epoch_samples
    skips = np.concatenate([p.skip for p in plans])
    shifts = np.concatenate([p.shift for p in plans])
    # B_seq = 5: 0..4 epochs dropped; B_sig = 10 %: up to +/-10 % of an epoch, both drawn
    assert skips.min() >= 0 and skips.max() <= 4 and skips.any()
    assert np.abs(shifts).max() <= round(0.1 * samples) and shifts.any()
    assert len(fed) == 2 * len(train_nights)  # one chunk per night (seq_len 64)
    for plan, chunks in zip(plans, [fed[:4], fed[4:]], strict=True):
        for (x, y, weight, _), index in zip(chunks, plan.order, strict=True):
            night, skip, shift = train_nights[index], plan.skip[index], plan.shift[index]
            first = skip + (shift < 0)  # a negative shift loses the first epoch's window
            kept = night.n_epochs - first - (shift > 0)
            flat = night.signal_uv.reshape(-1)
            expected = np.stack(
                [flat[(first + k) * samples + shift :][:samples] for k in range(kept)]
            )
            assert int(weight.sum()) == kept
            np.testing.assert_array_equal(x[0, :kept].numpy(), expected)
            np.testing.assert_array_equal(y[0, :kept].numpy(), night.stages[first : first + kept])


#: Validation (accuracy, macro-F1) of each pass, scripted.
SCRIPT = [(0.5, 0.4), (0.6, 0.4), (0.7, 0.3), (0.6, 0.5), (0.6, 0.6), (0.65, 0.45),
          (0.9, 0.44), (0.5, 0.9), (0.66, 0.45)] + [(0.1, 0.1)] * 11  # fmt: skip


@pytest.mark.parametrize(
    ("monitor", "kept", "passes_run"),
    [
        # accuracy strictly higher and macro-F1 not lower; stop after kept + patience + 1
        ("authors", [1, 2, 6, 9], 13),
        ("mf1", [1, 2, 4, 5, 8], 12),
        ("acc", [1, 2, 3, 7], 11),
    ],
)
def test_checkpoint_rule_and_early_stop_on_scripted_scores(
    tmp_path, tiny_config, toy_nights, monkeypatch, monitor, kept, passes_run
):
    monkeypatch.setattr(loop, "_train_one_pass", lambda *a: {"loss": 1.0, "acc": 0.0, "mf1": 0.0})
    scripted = iter(SCRIPT)

    def validate(*args):
        acc, mf1 = next(scripted)
        return {"loss": 1.0, "acc": acc, "mf1": mf1, "top_stage": "W", "top_share": 0.3}

    saved = []
    save = run.save_checkpoint

    def spy_save(path, *args, **kwargs):
        if path.name == "best.pt":
            saved.append(kwargs["pass_number"])
        save(path, *args, **kwargs)

    monkeypatch.setattr(loop, "validate", validate)
    monkeypatch.setattr(run, "save_checkpoint", spy_save)
    # the scripted loss is flat, a stall: only warned about, so the rule alone decides
    config = tiny_config.replace(
        monitor=monitor, patience=3, max_passes=len(SCRIPT), on_stall="warn"
    )
    result = train(*toy_nights, config, tmp_path, progress=False)
    assert saved == kept
    assert len(result.log) == passes_run and result.stopped_early
    assert result.best_pass == kept[-1]


def test_authors_rule_unit():
    best = {"acc": 0.7, "mf1": 0.5}
    assert loop.keeps({"acc": 0.71, "mf1": 0.5}, best, "authors")
    assert not loop.keeps({"acc": 0.7, "mf1": 0.9}, best, "authors")  # accuracy must rise
    assert not loop.keeps({"acc": 0.9, "mf1": 0.49}, best, "authors")  # MF1 must not fall
    assert loop.keeps({"acc": 0.0, "mf1": 0.0}, None, "authors")  # the first pass is kept


def test_gradient_centralization_takes_each_conv_channels_mean_gradient_and_nothing_else(
    tmp_path, tiny_config, toy_nights, stepped
):
    config = tiny_config.replace(clip_norm=1e12, max_passes=1)  # clipping: tested on its own
    train(*toy_nights, config, tmp_path / "plain", progress=False)
    plain, stepped.steps, stepped.net = stepped.steps[0], [], None
    train(*toy_nights, config.replace(grad_centralize=True), tmp_path / "gc", progress=False)
    centred = stepped.steps[0]  # the first step: the same weights, dropout and chunk
    kernels = {f"{name}.conv.weight" for name in ("conv1", "convs.0", "convs.1", "convs.2")}
    assert kernels <= set(plain)
    for name, grad in plain.items():
        if name in kernels:  # each output channel's gradient now sums to zero
            assert grad.mean(dim=(1, 2)).abs().max() > 1e-6, name  # it did not before
            torch.testing.assert_close(centred[name].mean(dim=(1, 2)), torch.zeros(len(grad)))
            torch.testing.assert_close(centred[name], grad - grad.mean(dim=(1, 2), keepdim=True))
        else:  # norms, LSTM, classifier: as backpropagated
            torch.testing.assert_close(centred[name], grad, msg=name)
