"""Device and precision settings: float32 unless bfloat16 is asked for and runs natively."""

from __future__ import annotations

import logging
import os
import platform
from pathlib import Path

import pytest
import torch

from tinysleepnet.errors import TinySleepNetError
from tinysleepnet.nn import device as device_module
from tinysleepnet.nn.device import (
    default_threads,
    resolve_precision,
    resolve_threads,
    torch_threads,
)


@pytest.mark.parametrize(
    ("setting", "device", "expected"),
    [
        ("auto", "cpu", "float32"),  # the paper's recipe stays in float32 on CPUs
        ("auto", "cuda", "bfloat16"),
        ("float32", "cpu", "float32"),
        ("float32", "cuda", "float32"),
        ("bfloat16", "cuda", "bfloat16"),
    ],
)
def test_precision_of_each_setting(setting, device, expected):
    assert resolve_precision(setting, torch.device(device)) == expected


def test_bfloat16_on_a_cpu_needs_bfloat16_instructions(monkeypatch, caplog):
    cpu = torch.device("cpu")
    monkeypatch.setattr(device_module, "_told_no_bfloat16", False)
    monkeypatch.setattr(device_module, "_cpu_has_native_bfloat16", lambda: True)
    with caplog.at_level(logging.WARNING, logger="tinysleepnet"):
        assert resolve_precision("bfloat16", cpu) == "bfloat16"
        assert not caplog.records
        monkeypatch.setattr(device_module, "_cpu_has_native_bfloat16", lambda: False)
        assert resolve_precision("bfloat16", cpu) == "float32"
        assert resolve_precision("bfloat16", cpu) == "float32"  # said once, not per fold
    # one log line, without Python's file name and source line
    assert [r.getMessage() for r in caplog.records] == [
        "this CPU has no bfloat16 instructions (AVX512-BF16, AMX or ARM BF16); "
        "running in float32 instead"
    ]
    with pytest.raises(TinySleepNetError, match=r"precision.*'half'"):
        resolve_precision("half", cpu)


def test_threads_setting_is_applied_and_restored():
    before = torch.get_num_threads()
    assert resolve_threads(3) == 3
    assert resolve_threads(0) == default_threads()
    with torch_threads(1) as chosen:
        assert chosen == 1 == torch.get_num_threads()
    assert torch.get_num_threads() == before
    with torch_threads(0) as chosen:  # the caller's setting
        assert chosen == before == torch.get_num_threads()
    with pytest.raises(TinySleepNetError, match="threads must be 0"):
        resolve_threads(-1)


@pytest.mark.skipif(
    platform.machine() != "x86_64" or not Path("/proc/cpuinfo").is_file(),
    reason="reads the x86 CPU flags of Linux",
)
def test_native_bfloat16_matches_the_cpu_flags():
    flags = Path("/proc/cpuinfo").read_text().split()
    native = "avx512_bf16" in flags or "amx_bf16" in flags
    assert device_module._cpu_has_native_bfloat16() == (
        native and torch.backends.mkldnn.is_available()
    )


@pytest.mark.parametrize(
    ("cores", "load", "expected"),
    [
        (2, 0.0, 2),  # idle: every core
        (2, 0.4, 2),  # a little other work: still both
        (2, 0.6, 1),  # more than half a core busy
        (2, 19.6, 1),  # a crowded machine: one thread, never none
        (16, 0.0, device_module.MAX_DEFAULT_THREADS),  # capped
        (16, 14.0, 2),
        (1, 0.0, 1),
    ],
)
def test_default_threads_are_the_idle_cores_1_to_4(monkeypatch, cores, load, expected):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert device_module.default_threads(cores=cores, load=load) == expected


@pytest.mark.parametrize(("setting", "expected"), [("3", 3), (" 8 ", 8), ("0", 1), ("two", 1)])
def test_default_threads_follow_omp_num_threads_when_it_is_a_count(monkeypatch, setting, expected):
    monkeypatch.setenv("OMP_NUM_THREADS", setting)
    assert device_module.default_threads(cores=2, load=5.0) == expected


def test_default_threads_read_this_machine(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(device_module.os, "getloadavg", lambda: (0.0, 0.0, 0.0), raising=False)
    cores = device_module._physical_cores()
    assert 1 <= cores <= (os.cpu_count() or 1)
    assert device_module.default_threads() == min(cores, device_module.MAX_DEFAULT_THREADS)
