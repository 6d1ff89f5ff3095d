from __future__ import annotations

import datetime as dt

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from tinysleepnet.scoring.plots import HYPNOGRAM_ORDER, plot_hypnogram

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
    start = dt.datetime(2024, 3, 1, 23, 15, tzinfo=dt.UTC)
    figure = plot_hypnogram(STAGES_SEQUENCE, PROBA, start=start)
    density = figure.axes[1]
    figure.canvas.draw()
    labels = [tick.get_text() for tick in density.get_xticklabels() if tick.get_text()]
    assert labels and all(":" in label for label in labels)
    assert "23:15" in density.get_xlabel()


def test_unscorable_and_review_runs_drawn_as_bands() -> None:
    quality = np.array(["ok", "flat", "flat", "ok", "ok", "nonfinite", "ok", "ok"])
    review = np.array([0, 0, 0, 1, 1, 0, 0, 1], dtype=bool)
    figure = plot_hypnogram(STAGES_SEQUENCE, PROBA, quality=quality, review=review)
    hypnogram, density = figure.axes[:2]

    def bands(ax: Axes) -> list[tuple[int, int]]:
        """(first epoch, epochs) of each band drawn over ``ax``."""
        epoch_h = 30 / 3600
        return [
            (round(p.get_x() / epoch_h), round(p.get_width() / epoch_h))
            for p in ax.patches
            if isinstance(p, Rectangle)
        ]

    assert bands(density) == [(1, 2), (5, 1)]  # the two unscorable runs
    assert bands(hypnogram) == [(1, 2), (5, 1), (3, 2), (7, 1)]  # and the two review runs
    legend = [text.get_text() for text in hypnogram.get_legend().get_texts()]
    assert legend == ["unscorable", "review"]
