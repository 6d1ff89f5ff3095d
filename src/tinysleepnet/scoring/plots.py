"""Figure of a night: the hypnogram, above the hypnodensity for a staged night.

Figures are built on :class:`matplotlib.figure.Figure` directly (the Agg canvas), so
plotting works without a display and leaves pyplot's global state alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..io.quality import OK
from ..stages import EPOCH_SEC, REM, STAGE_IDS, STAGES, UNSCORED, stage_runs

#: Stages from top to bottom, the conventional hypnogram order.
HYPNOGRAM_ORDER = ("W", "REM", "N1", "N2", "N3")
STAGE_COLORS = {"W": "#f4d35e", "N1": "#9ad1d4", "N2": "#3c91e6", "N3": "#1b3a6b", "REM": "#d62839"}
#: Colour of the band over unscorable epochs (drawn across both panels).
UNSCORABLE_COLOR = "#9e9e9e"
REVIEW_COLOR = "#f28e2b"
#: The expert's hypnogram, drawn beside the model's, and the marks of their disagreements.
EXPERT_COLOR = "#2a9d8f"
DISAGREE_COLOR = "#c1121f"


def plot_hypnogram(
    stages: np.ndarray,
    proba: np.ndarray | None,
    epoch_sec: float = EPOCH_SEC,
    start: dt.datetime | None = None,
    quality: np.ndarray | None = None,
    *,
    review: np.ndarray | None = None,
    expert: np.ndarray | None = None,
    title: str | None = None,
) -> Figure:
    """Hypnogram (step plot, REM in red) above the hypnodensity (stacked probabilities).

    Parameters
    ----------
    stages : ndarray of int, shape (n_epochs,)
        Class ids 0..4, :data:`~tinysleepnet.stages.UNSCORED` (a gap) where unscored.
    proba : ndarray, shape (n_epochs, 5) or None
        Stage probabilities, columns in :data:`~tinysleepnet.stages.STAGES` order; None
        (an expert's hypnogram) draws the hypnogram alone.
    epoch_sec : float
        Epoch length in seconds.
    start : datetime or None
        Recording start. When given the time axis shows clock times (as the file states
        them, time zone dropped), otherwise hours since the start.
    quality : ndarray of str, shape (n_epochs,) or None
        ``"ok"`` or why an epoch is unscorable; runs of unscorable epochs are covered by a
        grey band labelled "unscorable" in both panels (the hypnogram has a gap there).
    review : ndarray of bool, shape (n_epochs,) or None
        Epochs flagged for review; each run is marked by an orange band along the top of
        the hypnogram, labelled "review".
    expert : ndarray of int, shape (n_epochs,) or None
        An expert's stages (:data:`~tinysleepnet.stages.UNSCORED` where not scored), drawn
        as a second trace; epochs where both scored and disagree are marked by red ticks
        along the bottom of the hypnogram, and the legend gives their count.
    title : str or None
        The figure's title (e.g. the recording's and the model's names).

    Returns
    -------
    matplotlib.figure.Figure
    """
    edges_sec = np.arange(len(stages) + 1) * epoch_sec
    if start is None:
        edges = edges_sec / 3600.0
    else:
        clock_start = mdates.date2num(start.replace(tzinfo=None))
        edges = clock_start + edges_sec / 86400.0  # matplotlib dates count days

    if proba is None:
        figure = Figure(figsize=(10, 2.5), layout="constrained")
        hypno_ax = figure.subplots(1, 1)
        panels = [hypno_ax]
    else:
        figure = Figure(figsize=(10, 5), layout="constrained")
        hypno_ax, density_ax = figure.subplots(2, 1, sharex=True, height_ratios=(1, 1))
        panels = [hypno_ax, density_ax]

    level = np.array(
        [np.nan if s == UNSCORED else HYPNOGRAM_ORDER.index(STAGES[s]) for s in stages]
    )
    hypno_ax.stairs(level, edges, baseline=None, color="black", linewidth=1)
    first, length, stage = stage_runs(stages)
    rem = stage == REM
    hypno_ax.hlines(
        np.full(rem.sum(), HYPNOGRAM_ORDER.index("REM")),
        edges[first[rem]],
        edges[first[rem] + length[rem]],
        color=STAGE_COLORS["REM"],
        linewidth=4,
    )
    if expert is not None:
        _draw_expert(hypno_ax, np.asarray(expert), np.asarray(stages), edges)
    hypno_ax.set_yticks(range(len(HYPNOGRAM_ORDER)), HYPNOGRAM_ORDER)
    hypno_ax.set_ylim(len(HYPNOGRAM_ORDER) - 0.5, -0.5)  # W on top
    hypno_ax.set_ylabel("Stage")
    hypno_ax.set_title("Hypnogram")

    if proba is not None:
        _draw_hypnodensity(density_ax, proba, edges)
    if quality is not None:
        for ax in panels:
            unscorable = np.asarray(quality) != OK
            _flag_bands(ax, unscorable, edges, "unscorable", color=UNSCORABLE_COLOR, alpha=0.6)
    if review is not None:
        review = np.asarray(review, dtype=bool)
        _flag_bands(hypno_ax, review, edges, "review", color=REVIEW_COLOR, ymin=0.9)
    if review is not None or expert is not None:
        hypno_ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    if title:
        figure.suptitle(title)
    if proba is not None:
        density_ax.set_ylim(0, 1)
        density_ax.set_ylabel("Probability")
        density_ax.set_title("Hypnodensity")
        handles, labels = density_ax.get_legend_handles_labels()
        density_ax.legend(
            handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False
        )

    time_ax = panels[-1]
    time_ax.set_xlim(edges[0], edges[-1])
    if start is None:
        time_ax.set_xlabel("Time since start (h)")
    else:
        time_ax.xaxis_date()
        time_ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
        time_ax.set_xlabel(f"Clock time (start {start:%Y-%m-%d %H:%M:%S})")
    return figure


def _draw_hypnodensity(ax: Axes, proba: np.ndarray, edges: np.ndarray) -> None:
    """The stage probabilities stacked in hypnogram order (W on top), so both panels read
    the same way."""
    bottom = np.zeros(len(proba))
    for name in reversed(HYPNOGRAM_ORDER):
        top = bottom + proba[:, STAGE_IDS[name]]
        ax.stairs(top, edges, baseline=bottom, fill=True, color=STAGE_COLORS[name], label=name)
        bottom = top


def _draw_expert(ax: Axes, expert: np.ndarray, stages: np.ndarray, edges: np.ndarray) -> None:
    """The expert's hypnogram as a second, offset trace, and ticks where the two differ."""
    level = np.array(
        [np.nan if s == UNSCORED else HYPNOGRAM_ORDER.index(STAGES[s]) for s in expert]
    )
    ax.stairs(level + 0.15, edges, baseline=None, color=EXPERT_COLOR, linewidth=1, label="expert")
    ax.plot([], [], color="black", linewidth=1, label="model")
    differ = (expert != stages) & (expert != UNSCORED) & (stages != UNSCORED)
    centres = (edges[:-1] + edges[1:]) / 2
    ax.plot(
        centres[differ],
        np.full(differ.sum(), len(HYPNOGRAM_ORDER) - 0.55),
        "|",
        color=DISAGREE_COLOR,
        markersize=6,
        label=f"disagree ({differ.sum()} epochs)",
    )


def _flag_bands(ax: Axes, flagged: np.ndarray, edges: np.ndarray, label: str, **style: Any) -> None:
    """A band over each run of ``flagged`` epochs, the first one labelled for the legend."""
    first, length, flag = stage_runs(flagged.astype(int))
    for i, (f, n) in enumerate(zip(first[flag == 1], length[flag == 1], strict=True)):
        ax.axvspan(edges[f], edges[f + n], linewidth=0, label=label if i == 0 else None, **style)
