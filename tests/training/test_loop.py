"""The training loop: recipe, checkpoints, resumption, early stopping, schedules."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from tinysleepnet.config import Config
from tinysleepnet.errors import TinySleepNetError
from tinysleepnet.nn import device as device_module
from tinysleepnet.nn.checkpoint import load_checkpoint
from tinysleepnet.nn.model import TinySleepNet
from tinysleepnet.training import loop, run
from tinysleepnet.training.fit import train


def weights(path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path)["model"]


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0, msg=name)


def without_time(log: pd.DataFrame) -> pd.DataFrame:
    return log.drop(columns="seconds")


def test_writes_its_files_with_the_nights_channel_rate_and_epoch(tmp_path, tiny_config, toy_nights):
    pz_oz = [[dataclasses.replace(n, channel="EEG Pz-Oz") for n in part] for part in toy_nights]
    config = tiny_config.replace(max_passes=3, patience=3, sfreq=256.0, epoch_sec=30.0)
    result = train(*pz_oz, config, tmp_path, progress=False)
    # the data's settings, not the config's, go with the weights
    expected = config.replace(
        sfreq=100.0, epoch_sec=3.0, channel="EEG Pz-Oz", extra={"world_size": 1}
    )
    assert Config.load(tmp_path / "config.json") == expected == result.config
    assert result.log["pass"].tolist() == [1, 2, 3]
    assert list(result.log.columns) == [
        "pass", "train_loss", "train_acc", "train_mf1", "train_top_share", "valid_loss",
        "valid_acc", "valid_mf1", "valid_top_share", "stalled", "world_size", "lr", "seconds",
    ]  # fmt: skip
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "log.csv"), result.log)
    best = load_checkpoint(result.best_path)
    assert best["pass_number"] == result.best_pass and best["scores"] == result.best_score
    assert Config.from_dict(best["config"]).channel == "EEG Pz-Oz"
    amplitude = np.median([np.median(np.abs(n.signal_uv)) for n in pz_oz[0]])
    assert best["reference_amplitude_uv"] == pytest.approx(amplitude, rel=0.03)
    assert not result.stopped_early


def test_nights_that_disagree_on_channel_or_epoch_are_refused(tmp_path, tiny_config, toy_nights):
    train_nights, valid_nights = toy_nights
    other = dataclasses.replace(valid_nights[0], channel="EEG Pz-Oz")
    with pytest.raises(TinySleepNetError, match=r"night 10: channel 'EEG Pz-Oz'.*'EEG Fpz-Cz'"):
        train(train_nights, [other], tiny_config, tmp_path, progress=False)
    shorter = dataclasses.replace(valid_nights[0], signal_uv=valid_nights[0].signal_uv[:, :200])
    with pytest.raises(TinySleepNetError, match=r"night 10: epoch_sec 2\.0"):
        train(train_nights, [shorter], tiny_config, tmp_path, progress=False)
    assert not (tmp_path / "config.json").exists()


def test_resumed_run_equals_uninterrupted_run(tmp_path, tiny_config, toy_nights):
    config = tiny_config.replace(max_passes=3)
    straight = train(*toy_nights, config, tmp_path / "straight", progress=False)
    train(*toy_nights, config.replace(max_passes=1), tmp_path / "resumed", progress=False)
    resumed = train(*toy_nights, config, tmp_path / "resumed", progress=False)
    pd.testing.assert_frame_equal(without_time(resumed.log), without_time(straight.log))
    assert_same_weights(weights(resumed.last_path), weights(straight.last_path))
    assert_same_weights(weights(resumed.best_path), weights(straight.best_path))
    assert resumed.best_pass == straight.best_pass


@pytest.mark.parametrize("schedule", ["constant", "onecycle"])
def test_run_interrupted_within_a_pass_resumes_where_it_was_saved(
    tmp_path, tiny_config, toy_nights, monkeypatch, schedule
):
    steps_taken = []
    adam_step = torch.optim.Adam.step

    def counting_step(self, *args, **kwargs):
        steps_taken.append(1)
        return adam_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", counting_step)
    config = tiny_config.replace(max_passes=2, schedule=schedule, dropout=0.5)
    straight = train(*toy_nights, config, tmp_path / "straight", progress=False)
    straight_steps, steps_taken[:] = len(steps_taken), []

    # Save the pass in progress after every step, and interrupt the run after the fifth
    # save of pass 2 (mid-group: the recurrent state is carried into the next step).
    monkeypatch.setattr(loop, "PASS_CHECKPOINT_SEC", 0.0)
    save = run.PassSaver.save

    def save_then_interrupt(self, pass_number, steps, *args):
        save(self, pass_number, steps, *args)
        if pass_number == 2 and steps == 5:
            raise KeyboardInterrupt

    monkeypatch.setattr(run.PassSaver, "save", save_then_interrupt)
    folder = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        train(*toy_nights, config, folder, progress=False)
    assert load_checkpoint(folder / "pass.pt")["steps"] == 5
    assert load_checkpoint(folder / "last.pt")["progress"]["passes_done"] == 1
    interrupted_steps, steps_taken[:] = len(steps_taken), []

    monkeypatch.setattr(run.PassSaver, "save", save)
    monkeypatch.setattr(loop, "PASS_CHECKPOINT_SEC", 3600.0)
    resumed = train(*toy_nights, config, folder, progress=False)
    # only the rest of pass 2 ran, and the run ends exactly as the uninterrupted one
    assert interrupted_steps + len(steps_taken) == straight_steps
    pd.testing.assert_frame_equal(without_time(resumed.log), without_time(straight.log))
    assert_same_weights(weights(resumed.last_path), weights(straight.last_path))
    assert_same_weights(weights(resumed.best_path), weights(straight.best_path))
    assert not (folder / "pass.pt").exists()


def test_pass_in_progress_of_other_settings_is_refused(
    tmp_path, tiny_config, toy_nights, monkeypatch
):
    monkeypatch.setattr(loop, "PASS_CHECKPOINT_SEC", 0.0)
    save = run.PassSaver.save

    def save_then_interrupt(self, *args):
        save(self, *args)
        raise KeyboardInterrupt

    monkeypatch.setattr(run.PassSaver, "save", save_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        train(*toy_nights, tiny_config, tmp_path, progress=False)
    assert not (tmp_path / "last.pt").exists()  # interrupted within pass 1
    with pytest.raises(TinySleepNetError, match=r"pass\.pt.*lr=0\.01"):
        train(*toy_nights, tiny_config.replace(lr=0.01), tmp_path, progress=False)


def test_finished_run_returns_without_training(tmp_path, tiny_config, toy_nights, monkeypatch):
    first = train(*toy_nights, tiny_config, tmp_path, progress=False)

    def fail(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(loop, "_train_one_pass", fail)
    again = train(*toy_nights, tiny_config, tmp_path, progress=False)
    pd.testing.assert_frame_equal(again.log, first.log)
    assert again.best_score == first.best_score


def test_run_killed_between_last_pt_and_the_log_gets_its_log_back(
    tmp_path, tiny_config, toy_nights, monkeypatch, killed_write
):
    straight = train(*toy_nights, tiny_config, tmp_path / "straight", progress=False)
    write_log, calls = run.write_log, []

    def killed_after_last_pt(path, rows):
        calls.append(len(rows))
        if len(rows) == 2:  # pass 2's last.pt is written; its log row never is
            raise KeyboardInterrupt
        write_log(path, rows)

    monkeypatch.setattr(run, "write_log", killed_after_last_pt)
    with pytest.raises(KeyboardInterrupt):
        train(*toy_nights, tiny_config, tmp_path / "killed", progress=False)
    monkeypatch.undo()
    assert len(pd.read_csv(tmp_path / "killed" / "log.csv")) == 1
    killed_write(tmp_path / "killed" / "last.pt")  # and a kill -9 left a partial last.pt
    resumed = train(*toy_nights, tiny_config, tmp_path / "killed", progress=False)
    log = pd.read_csv(tmp_path / "killed" / "log.csv")
    pd.testing.assert_frame_equal(without_time(log), without_time(straight.log))
    pd.testing.assert_frame_equal(log, resumed.log)
    assert sorted(p.name for p in (tmp_path / "killed").iterdir()) == [
        "best.pt", "config.json", "last.pt", "log.csv"
    ]  # fmt: skip


def test_resume_from_a_last_pt_holding_code_refuses_it_without_running_it(
    tmp_path, tiny_config, toy_nights, hostile_copy
):
    train(*toy_nights, tiny_config.replace(max_passes=1), tmp_path / "run", progress=False)
    last = tmp_path / "run" / "last.pt"
    hostile_copy(last, last, tmp_path / "ran")
    with pytest.raises(TinySleepNetError, match=r"last\.pt: refused: it holds the Python object"):
        train(*toy_nights, tiny_config, tmp_path / "run", progress=False)
    assert not (tmp_path / "ran").exists()


def test_other_settings_or_nights_in_the_same_folder_are_refused(tmp_path, tiny_config, toy_nights):
    train_nights, valid_nights = toy_nights
    train(train_nights, valid_nights, tiny_config.replace(max_passes=1), tmp_path, progress=False)
    with pytest.raises(TinySleepNetError, match=r"last\.pt.*lr=0\.001"):
        train(train_nights, valid_nights, tiny_config.replace(lr=1e-3), tmp_path, progress=False)
    with pytest.raises(TinySleepNetError, match="other nights"):
        train(train_nights[1:], valid_nights, tiny_config, tmp_path, progress=False)


def test_the_same_nights_with_other_signals_in_the_same_folder_are_refused(
    tmp_path, tiny_config, toy_nights
):
    train_nights, valid_nights = toy_nights
    train(train_nights, valid_nights, tiny_config.replace(max_passes=1), tmp_path, progress=False)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    louder = [dataclasses.replace(n, signal_uv=np.asarray(n.signal_uv) * 2) for n in train_nights]
    with pytest.raises(
        TinySleepNetError,
        match=r"last\.pt: holds a run on the same nights with other signals or stages "
        r"\(content SHA-256 [0-9a-f]{12}\.\.\., run has [0-9a-f]{12}\.\.\.\)",
    ):
        train(louder, valid_nights, tiny_config, tmp_path, progress=False)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_last_pt_of_an_earlier_version_resumes_and_says_its_contents_are_unchecked(
    tmp_path, tiny_config, toy_nights, caplog
):
    train(*toy_nights, tiny_config.replace(max_passes=1), tmp_path, progress=False)
    last = tmp_path / "last.pt"
    saved = load_checkpoint(last)
    assert set(saved["nights"]) == {"train", "valid", "content_sha256"}
    del saved["nights"]["content_sha256"]  # as an earlier version wrote it
    torch.save(saved, last)
    with caplog.at_level("WARNING", logger="tinysleepnet"):
        result = train(*toy_nights, tiny_config.replace(max_passes=2), tmp_path, progress=False)
    assert f"{last} records no contents of its nights" in caplog.text
    assert len(result.log) == 2  # pass 1 kept, pass 2 trained


def test_nights_at_another_rate_are_refused(tmp_path, tiny_config, toy_nights):
    train_nights, valid_nights = toy_nights
    odd = dataclasses.replace(valid_nights[0], sfreq=128.0)
    with pytest.raises(TinySleepNetError, match=f"night {odd.name}: sfreq 128.0"):
        train(train_nights, [odd], tiny_config, tmp_path, progress=False)
    with pytest.raises(TinySleepNetError, match="validation"):
        train(train_nights, [], tiny_config, tmp_path, progress=False)


def test_early_stopping(tmp_path, tiny_config, toy_nights):
    # With a learning rate of 0 the weights, hence the validation scores, never change:
    # pass 1 is kept, and the run stops once more than 2 passes have gone by since.
    config = tiny_config.replace(lr=0.0, max_passes=10, patience=2)
    result = train(*toy_nights, config, tmp_path, progress=False)
    assert result.stopped_early
    assert len(result.log) == 4 and result.best_pass == 1


def test_onecycle_schedule_runs_its_exact_length_and_resumes(
    tmp_path, tiny_config, toy_nights, monkeypatch
):
    config = tiny_config.replace(schedule="onecycle", max_passes=3)
    straight = train(*toy_nights, config, tmp_path / "straight", progress=False)
    schedule = load_checkpoint(straight.last_path)["scheduler"]
    assert schedule["last_epoch"] == schedule["total_steps"]  # counted up front, exactly
    lrs = straight.log["lr"]
    assert lrs.max() <= config.lr and lrs.iloc[-1] < 0.01 * config.lr

    validate = loop.validate
    passes = []

    def interrupt_at_pass_3(*args):
        passes.append(1)
        if len(passes) == 3:
            raise KeyboardInterrupt
        return validate(*args)

    monkeypatch.setattr(loop, "validate", interrupt_at_pass_3)
    with pytest.raises(KeyboardInterrupt):
        train(*toy_nights, config, tmp_path / "resumed", progress=False)
    monkeypatch.setattr(loop, "validate", validate)
    resumed = train(*toy_nights, config, tmp_path / "resumed", progress=False)
    pd.testing.assert_frame_equal(without_time(resumed.log), without_time(straight.log))
    assert_same_weights(weights(resumed.last_path), weights(straight.last_path))
    with pytest.raises(TinySleepNetError, match="max_passes"):
        train(*toy_nights, config.replace(max_passes=4), tmp_path / "resumed", progress=False)


def test_bfloat16_run_computes_in_bfloat16(tmp_path, tiny_config, toy_nights, monkeypatch):
    # Forced on, so that the bfloat16 path runs (emulated) on CPUs without the instructions.
    monkeypatch.setattr(device_module, "_cpu_has_native_bfloat16", lambda: True)
    autocast: dict[bool, set[tuple[bool, torch.dtype]]] = {True: set(), False: set()}
    forward = TinySleepNet.forward

    def spy(self, x, state=None):
        autocast[self.training].add(
            (torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu"))
        )
        return forward(self, x, state)

    monkeypatch.setattr(TinySleepNet, "forward", spy)
    config = tiny_config.replace(precision="bfloat16", max_passes=2)
    result = train(*toy_nights, config, tmp_path, progress=False)
    # training steps and validation both ran under bfloat16 autocast, and only so
    assert autocast == {True: {(True, torch.bfloat16)}, False: {(True, torch.bfloat16)}}
    assert np.isfinite(result.log["train_loss"]).all()


def test_resume_refuses_another_precision(tmp_path, tiny_config, toy_nights, monkeypatch):
    monkeypatch.setattr(device_module, "_cpu_has_native_bfloat16", lambda: True)
    config = tiny_config.replace(precision="float32", max_passes=1)
    train(*toy_nights, config, tmp_path, progress=False)
    with pytest.raises(TinySleepNetError, match=r"last\.pt.*precision='bfloat16'"):
        train(*toy_nights, config.replace(precision="bfloat16"), tmp_path, progress=False)


def test_state_is_carried_within_a_group_and_reset_between_groups(
    tmp_path, tiny_config, toy_nights, monkeypatch
):
    calls: list[tuple[int, bool]] = []
    forward = TinySleepNet.forward

    def spy(self, x, state=None):
        if self.training:
            assert state is None or not state[0].requires_grad  # truncated BPTT
            calls.append((x.shape[0], state is None))
        return forward(self, x, state)

    monkeypatch.setattr(TinySleepNet, "forward", spy)
    config = tiny_config.replace(max_passes=1, max_skip_epochs=0, max_shift_frac=0.0)
    train(*toy_nights, config, tmp_path, progress=False)
    # 4 nights of 30..45 epochs, 2 at a time, chunks of 5: two groups per pass
    resets = [i for i, (_, fresh) in enumerate(calls) if fresh]
    assert len(resets) == 2 and resets[0] == 0
    assert 0 < resets[1] < len(calls)


def test_segments_reset_the_state_and_validation_keeps_nights_whole(
    tmp_path, tiny_config, toy_nights, monkeypatch
):
    calls: list[tuple[bool, int, bool]] = []
    forward = TinySleepNet.forward

    def spy(self, x, state=None):
        calls.append((self.training, x.shape[1], state is None))
        return forward(self, x, state)

    monkeypatch.setattr(TinySleepNet, "forward", spy)
    config = tiny_config.replace(
        max_passes=1, max_skip_epochs=0, max_shift_frac=0.0, segment_epochs=10, batch_nights=1
    )
    result = train(*toy_nights, config, tmp_path, progress=False)
    training = [(length, fresh) for is_training, length, fresh in calls if is_training]
    # nights of 30, 35, 40, 45 epochs -> 3 + 4 + 4 + 5 segments of 8-10 epochs, one per
    # group: each is two chunks of 5, the first from a fresh state, the second carrying it
    assert training == [(config.seq_len, True), (config.seq_len, False)] * 16
    # validation stages each 30-epoch night in one piece, from a fresh state
    assert [length for is_training, length, _ in calls if not is_training] == [30]
    assert result.log["pass"].tolist() == [1]
