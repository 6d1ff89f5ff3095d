from __future__ import annotations

import datetime as dt

import numpy as np
from matplotlib.figure import Figure

from tinysleepnet.prediction.plots import HYPNOGRAM_ORDER, plot_hypnogram

STAGES_SEQUENCE = np.array([0, 1, 2, 3, 2, 4, 4, 0])
PROBA = np.eye(5)[STAGES_SEQUENCE]


def test_hypnogram_above_hypnodensity_in_conventional_order() -> None:
    figure = plot_hypnogram(STAGES_SEQUENCE, PROBA)
    assert isinstance(figure, Figure)
    hypnogram, density = figure.axes[:2]
    labels = [tick.get_text() for tick in hypnogram.get_yticklabels()]
    assert labels == list(HYPNOGRAM_ORDER) == ["W", "REM", "N1", "N2", "N3"]
    low, high = hypnogram.get_ylim()
    assert low > high  # inverted: W (level 0) drawn on top
    assert density.get_ylim() == (0.0, 1.0)
    assert density.get_xlim() == (0.0, 8 * 30 / 3600)  # hours since the start
    # One red line per REM run (epochs 5-6 are one run).
    assert len(hypnogram.collections[0].get_segments()) == 1


def test_clock_time_axis_when_start_is_known() -> None:
    start = dt.datetime(2024, 3, 1, 23, 15, tzinfo=dt.timezone.utc)
    figure = plot_hypnogram(STAGES_SEQUENCE, PROBA, start=start)
    density = figure.axes[1]
    figure.canvas.draw()
    labels = [tick.get_text() for tick in density.get_xticklabels() if tick.get_text()]
    assert labels and all(":" in label for label in labels)
    assert "23:15" in density.get_xlabel()
