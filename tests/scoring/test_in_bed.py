"""The in-bed window: lights off/on from text, from times, and chosen from a hypnogram."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tinysleepnet.errors import TinySleepNetError
from tinysleepnet.scoring.in_bed import (
    AUTO,
    GIVEN,
    WHOLE,
    InBedWindow,
    LightsTime,
    auto_window,
    given_times,
    window_from_times,
)
from tinysleepnet.stages import UNSCORED

START = dt.datetime(2024, 3, 1, 22, 0, 0)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("+5400", 5400.0),
        ("+90min", 5400.0),
        ("+1.5h", 5400.0),
        ("+30 s", 30.0),
        ("23:30", 5400.0),
        ("22:00:30", 30.0),
        ("07:00", 9 * 3600.0),  # the next morning
    ],
)
def test_a_time_reads_clock_times_and_offsets(text: str, seconds: float) -> None:
    assert LightsTime.parse(text).seconds(START) == seconds


@pytest.mark.parametrize("text", ["tonight", "25:00", "23:61", "-5min", "+5 days", ""])
def test_a_time_refuses_other_text_quoting_it(text: str) -> None:
    with pytest.raises(TinySleepNetError, match=r"give a clock time|not a clock time") as err:
        LightsTime.parse(text)
    assert str(err.value).startswith(repr(text))


def test_a_number_is_an_offset_and_a_time_is_kept() -> None:
    assert LightsTime.parse(90) == LightsTime(offset_sec=90.0)
    given = LightsTime.parse("23:10")
    assert LightsTime.parse(given) is given
    assert (str(given), str(LightsTime.parse("+1.5h"))) == ("23:10:00", "+5400 s")
    for bad in (-5.0, float("nan"), float("inf")):
        with pytest.raises(TinySleepNetError, match="offset from the recording's start is >= 0"):
            LightsTime.parse(bad)


def test_given_times_name_the_malformed_one() -> None:
    assert given_times(None, "+60") == (None, LightsTime(offset_sec=60.0))
    with pytest.raises(TinySleepNetError, match=r"^lights_on '25:99': not a clock time"):
        given_times("23:00", "25:99")


def test_a_clock_time_needs_the_recordings_start() -> None:
    with pytest.raises(TinySleepNetError, match="23:00:00: a clock time needs the recording's"):
        LightsTime.parse("23:00").seconds(None)
    assert LightsTime.parse("+60min").seconds(None) == 3600.0


def test_a_clock_time_keeps_the_starts_time_zone() -> None:
    start = dt.datetime(2024, 3, 1, 22, 0, 0, 500_000, tzinfo=dt.UTC)
    assert LightsTime.parse("23:00").seconds(start) == 3599.5


def test_window_holds_the_epochs_wholly_between_lights_off_and_on() -> None:
    window = window_from_times(45.0, 300.0, n_epochs=20, epoch_sec=30.0)
    assert (window.first, window.stop, window.source) == (2, 10, GIVEN)
    assert window.mask(20).sum() == 8
    assert window_from_times(None, None, 20, 30.0).epochs == slice(0, 20)


@pytest.mark.parametrize(
    ("off", "on", "message"),
    [(-30.0, None, "outside"), (None, 700.0, "outside"), (300.0, 300.0, "at least one epoch"),
     (300.0, 60.0, "at least one epoch")],
)  # fmt: skip
def test_window_refuses_times_outside_or_reversed(
    off: float | None, on: float | None, message: str
) -> None:
    with pytest.raises(TinySleepNetError, match=message):
        window_from_times(off, on, n_epochs=20, epoch_sec=30.0)


def test_window_describes_itself_in_clock_time() -> None:
    window = InBedWindow(2, 10, AUTO)
    assert window.describe(30.0, START) == "in bed 22:01:00-22:05:00 (auto), 8 epochs"
    assert window.to_dict(30.0, START)["lights_on"] == "2024-03-01T22:05:00"
    assert window.describe(30.0) == "in bed 0.02-0.08 h (auto), 8 epochs"


def test_auto_window_keeps_the_main_sleep_period_and_30_min_of_wake() -> None:
    day, night = [0] * 600, [2] * 300 + [0] * 100 + [4] * 100  # 50 min awake at night
    nap = [1] * 10  # a daytime doze: a shorter sleep period, more than 60 min away
    stages = np.array(day + nap + day + night + day)
    window = auto_window(stages, 30.0)
    night_start = 1210
    assert (window.first, window.stop) == (night_start - 60, night_start + 500 + 60)
    assert window.source == AUTO


def test_auto_window_splits_periods_apart_by_more_than_the_gap() -> None:
    stages = np.array([2] * 100 + [0] * 121 + [2] * 150 + [UNSCORED] * 10)
    window = auto_window(stages, 30.0, margin_min=0.0)
    assert (window.first, window.stop) == (221, 371)  # 60.5 min apart: the longer period
    merged = auto_window(stages, 30.0, margin_min=0.0, max_gap_min=61.0)
    assert (merged.first, merged.stop) == (0, 371)


def test_auto_window_of_a_night_without_sleep_is_the_whole_recording() -> None:
    window = auto_window(np.zeros(50, dtype=int), 30.0)
    assert (window.first, window.stop, window.source) == (0, 50, WHOLE)
