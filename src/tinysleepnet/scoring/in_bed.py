"""The in-bed window of a recording: from lights off to lights on.

Sleep statistics and agreement scores are defined over the time in bed. A polysomnography
file often holds more: Sleep-EDF's cassette recordings run 20-22 h, most of it daytime wake,
so statistics over the whole file (time in bed 22 h, sleep efficiency 25 %) and agreement
inflated by hours of easy wake mean little. The window comes, in this order of preference,
from clock times given by the user, from the recording's own "Lights off" / "Lights on"
annotations, or from the staged hypnogram itself (:func:`auto_window`), and always says
which (:attr:`InBedWindow.source`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import TinySleepNetError
from ..stages import UNSCORED, WAKE

#: Where a window came from.
WHOLE, GIVEN, ANNOTATIONS, AUTO = "whole recording", "given", "recording annotations", "auto"

#: Wake kept before the first and after the last epoch of the main sleep period by
#: :func:`auto_window`, in minutes (as in the usual preparation of Sleep-EDF).
AUTO_MARGIN_MIN = 30.0
#: Wake (or unscorable signal) between two sleep periods that :func:`auto_window` still
#: counts as one night, in minutes.
AUTO_MAX_GAP_MIN = 60.0

_OFFSET = re.compile(r"^\+\s*(\d+(?:\.\d*)?)\s*(s|sec|min|m|h)?$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_OFFSET_UNITS = {None: 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class InBedWindow:
    """Epochs ``first`` (lights off) to ``stop`` (lights on, exclusive) of a recording.

    Attributes
    ----------
    first, stop : int
        Index of the first epoch in bed and one past the last.
    source : str
        :data:`GIVEN`, :data:`ANNOTATIONS`, :data:`AUTO` or :data:`WHOLE`.
    """

    first: int
    stop: int
    source: str = WHOLE

    def __post_init__(self) -> None:
        if not 0 <= self.first < self.stop:
            raise TinySleepNetError(
                f"in-bed window: lights off (epoch {self.first}) must come before lights on "
                f"(epoch {self.stop})"
            )

    @property
    def epochs(self) -> slice:
        """The window as a slice of epoch indices."""
        return slice(self.first, self.stop)

    def mask(self, n_epochs: int) -> np.ndarray:
        """Boolean mask of the epochs in bed among ``n_epochs``."""
        inside = np.zeros(n_epochs, dtype=bool)
        inside[self.epochs] = True
        return inside

    def to_dict(self, epoch_sec: float, start: dt.datetime | None = None) -> dict[str, Any]:
        """JSON-ready description: epochs, offsets (s), clock times (ISO) when ``start`` is
        known, and the source."""
        described: dict[str, Any] = {
            "source": self.source,
            "first_epoch": self.first,
            "n_epochs": self.stop - self.first,
            "lights_off_sec": self.first * epoch_sec,
            "lights_on_sec": self.stop * epoch_sec,
        }
        if start is not None:
            off, on = self.clock_times(epoch_sec, start)
            described["lights_off"], described["lights_on"] = off.isoformat(), on.isoformat()
        return described

    def clock_times(self, epoch_sec: float, start: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """Lights off and lights on as clock times, from the recording's ``start``."""
        return (
            start + dt.timedelta(seconds=self.first * epoch_sec),
            start + dt.timedelta(seconds=self.stop * epoch_sec),
        )

    def describe(self, epoch_sec: float, start: dt.datetime | None = None) -> str:
        """One line, e.g. ``"in bed 23:13:00-07:12:30 (auto), 959 epochs"``."""
        if start is None:
            span = f"{self.first * epoch_sec / 3600:.2f}-{self.stop * epoch_sec / 3600:.2f} h"
        else:
            off, on = self.clock_times(epoch_sec, start)
            span = f"{off:%H:%M:%S}-{on:%H:%M:%S}"
        return f"in bed {span} ({self.source}), {self.stop - self.first} epochs"


#: The forms a lights-off or lights-on time may take, as refusals say them.
_TIME_FORMS = (
    "a clock time HH:MM[:SS] (23:10, 23:10:30) or an offset from the recording's start "
    "(+5400, +90min, +1.5h)"
)


@dataclass(frozen=True)
class LightsTime:
    """A lights-off or lights-on time as given, before any recording is read: a clock time
    or an offset from the recording's start (exactly one of the two).

    :meth:`parse` reads the text a user gives (once: a malformed one is refused before any
    recording is opened); :meth:`seconds` places it in one recording.

    Attributes
    ----------
    offset_sec : float or None
        Seconds from the recording's start (``"+90min"``, or a number of seconds).
    clock : datetime.time or None
        A clock time (``"23:10"``): the first such time at or after the recording's start.

    Examples
    --------
    >>> LightsTime.parse("+90min")
    LightsTime(offset_sec=5400.0, clock=None)
    >>> LightsTime.parse("07:00").seconds(dt.datetime(2024, 3, 1, 22, 0))  # the next morning
    32400.0
    """

    offset_sec: float | None = None
    clock: dt.time | None = None

    def __post_init__(self) -> None:
        if (self.offset_sec is None) == (self.clock is None):
            raise TinySleepNetError(
                "a lights-off/on time is a clock time or an offset, one of the two"
            )
        if self.offset_sec is not None and not (
            math.isfinite(self.offset_sec) and self.offset_sec >= 0
        ):
            raise TinySleepNetError(
                f"{self.offset_sec:g} s: an offset from the recording's start is >= 0 s"
            )

    @classmethod
    def parse(cls, value: str | float | LightsTime) -> LightsTime:
        """The time a text (``"23:10"``, ``"23:10:30"``, ``"+5400"``, ``"+90min"``,
        ``"+1.5h"``) or a number of seconds from the start gives; a time is returned as it is.

        Raises
        ------
        TinySleepNetError
            If the text is neither a clock time nor an offset (the message quotes it), or
            the clock time does not exist (``"25:99"``), or the offset is negative.
        """
        if isinstance(value, LightsTime):
            return value
        if isinstance(value, int | float):
            return cls(offset_sec=float(value))
        text = str(value).strip()
        if match := _OFFSET.match(text):
            return cls(offset_sec=float(match[1]) * _OFFSET_UNITS[match[2]])
        if match := _CLOCK.match(text):
            hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
            if hour > 23 or minute > 59 or second > 59:
                raise TinySleepNetError(
                    f"{text!r}: not a clock time HH:MM[:SS] (hours 0-23, minutes and seconds 0-59)"
                )
            return cls(clock=dt.time(hour, minute, second))
        raise TinySleepNetError(f"{text!r}: give {_TIME_FORMS}")

    def seconds(self, start: dt.datetime | None) -> float:
        """Seconds from a recording's ``start`` to this time (a clock time is the first at or
        after the start: ``07:00`` after a 22:00 start is the next morning).

        Raises
        ------
        TinySleepNetError
            If this is a clock time and the recording has no start time (None).
        """
        if self.offset_sec is not None:
            return self.offset_sec
        assert self.clock is not None
        if start is None:
            raise TinySleepNetError(
                f"{self}: a clock time needs the recording's start time; give an offset "
                "such as '+90min'"
            )
        clock = dt.datetime.combine(start.date(), self.clock, tzinfo=start.tzinfo)
        if clock < start.replace(microsecond=0):
            clock += dt.timedelta(days=1)
        return (clock - start).total_seconds()

    def __str__(self) -> str:
        """``"23:10:00"`` or ``"+5400 s"``."""
        return f"+{self.offset_sec:g} s" if self.clock is None else self.clock.isoformat()


def given_times(
    lights_off: str | float | LightsTime | None, lights_on: str | float | LightsTime | None
) -> tuple[LightsTime | None, LightsTime | None]:
    """Lights off and lights on as given (None: not given), each read by
    :meth:`LightsTime.parse`.

    Raises
    ------
    TinySleepNetError
        If either is malformed; the message names which (``lights_off '25:99': ...``).
    """
    times: list[LightsTime | None] = []
    for name, value in (("lights_off", lights_off), ("lights_on", lights_on)):
        try:
            times.append(None if value is None else LightsTime.parse(value))
        except TinySleepNetError as err:
            raise TinySleepNetError(f"{name} {err}") from None
    return times[0], times[1]


def window_from_times(
    lights_off_sec: float | None,
    lights_on_sec: float | None,
    n_epochs: int,
    epoch_sec: float,
    source: str = GIVEN,
) -> InBedWindow:
    """The epochs between lights off and lights on (seconds from the start; None: the
    recording's start or end).

    An epoch is in bed when it starts at or after lights off and ends at or before lights on
    (lights off inside an epoch starts the window at the next one).

    Raises
    ------
    TinySleepNetError
        If a time lies outside the recording or lights on is not after lights off by at
        least one epoch.
    """
    length_sec = n_epochs * epoch_sec
    for name, value in (("lights off", lights_off_sec), ("lights on", lights_on_sec)):
        if value is not None and not 0 <= value <= length_sec:
            raise TinySleepNetError(
                f"{name} at {value:g} s lies outside the recording (0-{length_sec:g} s)"
            )
    first = 0 if lights_off_sec is None else math.ceil(lights_off_sec / epoch_sec - 1e-9)
    stop = n_epochs if lights_on_sec is None else math.floor(lights_on_sec / epoch_sec + 1e-9)
    if stop <= first:
        raise TinySleepNetError(
            "lights on must come at least one epoch after lights off "
            f"(lights off {first * epoch_sec:g} s, lights on {stop * epoch_sec:g} s)"
        )
    return InBedWindow(first, stop, source)


def auto_window(
    stages: np.ndarray,
    epoch_sec: float,
    *,
    margin_min: float = AUTO_MARGIN_MIN,
    max_gap_min: float = AUTO_MAX_GAP_MIN,
) -> InBedWindow:
    """An in-bed window chosen from the hypnogram: the main sleep period and a margin.

    Sleep epochs (N1, N2, N3, REM) separated by at most ``max_gap_min`` of wake or
    unscorable signal form one sleep period; the period with the most sleep is the night.
    The window runs from ``margin_min`` before its first sleep epoch to ``margin_min``
    after its last, within the recording. A night without sleep gives the whole recording.

    Parameters
    ----------
    stages : ndarray of int, shape (n_epochs,)
        Class ids 0..4, :data:`~tinysleepnet.stages.UNSCORED` for unscorable epochs.
    epoch_sec : float
        Epoch length in seconds.
    margin_min, max_gap_min : float
        Minutes of wake kept around the sleep period, and the longest wake inside it.

    Examples
    --------
    >>> day, night = [0] * 600, [2] * 100 + [0] * 20 + [4] * 100
    >>> auto_window(np.array(day + night + day), 30.0)
    InBedWindow(first=540, stop=880, source='auto')
    """
    stages = np.asarray(stages)
    asleep = np.flatnonzero((stages != WAKE) & (stages != UNSCORED))
    if asleep.size == 0:
        return InBedWindow(0, stages.size, WHOLE)
    max_gap = max_gap_min * 60.0 / epoch_sec
    breaks = np.flatnonzero(np.diff(asleep) > max_gap + 1)
    starts = np.concatenate([[0], breaks + 1])
    stops = np.concatenate([breaks + 1, [asleep.size]])
    longest = int(np.argmax(stops - starts))  # the period holding the most sleep epochs
    margin = round(margin_min * 60.0 / epoch_sec)
    first = max(int(asleep[starts[longest]]) - margin, 0)
    stop = min(int(asleep[stops[longest] - 1]) + 1 + margin, stages.size)
    return InBedWindow(first, stop, AUTO)
