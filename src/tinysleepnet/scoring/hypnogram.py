"""A hypnogram as a value: one stage per epoch, with its epoch length, start and unscorable
epochs; predicted and expert hypnograms alike.

Modelled on YASA's ``Hypnogram``: one object to crop (to epochs or an in-bed window), to
summarise (:meth:`Hypnogram.statistics`), to compare with another scoring
(:meth:`Hypnogram.agreement`), to draw (:meth:`Hypnogram.plot`) and to turn into annotations
and back. It imports only NumPy (scikit-learn, matplotlib and MNE when a method needs them),
so every layer above may use it.

Examples
--------
>>> night = Hypnogram([0, 0, 1, 2, 2, 0, 2, 4, 4, 0])
>>> night.statistics()["sol_min"], night.crop(slice(2, 8)).n_epochs
(1.0, 6)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..stages import (
    EPOCH_SEC,
    N_STAGES,
    STAGE_TO_ANNOTATION,
    UNSCORED,
    annotation_stages,
    run_annotations,
    stage_names,
)
from .in_bed import InBedWindow
from .statistics import sleep_statistics

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class Hypnogram:
    """One night's stages, one per epoch.

    Parameters
    ----------
    stages : array of int, shape (n_epochs,)
        Class ids 0..4 (W, N1, N2, N3, REM) in time order,
        :data:`~tinysleepnet.stages.UNSCORED` for epochs without a stage.
    epoch_sec : float
        Epoch length in seconds.
    start : datetime or None
        Start of the first epoch, None if unknown.
    unscorable : array of bool, shape (n_epochs,) or None
        Epochs whose signal could not be staged (their stage must be ``UNSCORED``); they
        are excluded from sleep efficiency (:func:`~.statistics.sleep_statistics`'s
        ``excluded``) and banded in grey on the plot. None: none is.

    Raises
    ------
    ValueError
        If a stage is not a class id or ``UNSCORED``, the mask has another length, or an
        unscorable epoch has a stage.
    """

    def __init__(
        self,
        stages: Sequence[int] | np.ndarray,
        epoch_sec: float = EPOCH_SEC,
        start: dt.datetime | None = None,
        unscorable: Sequence[bool] | np.ndarray | None = None,
    ) -> None:
        stages = np.array(stages, dtype=np.int64).reshape(-1)
        mask = np.zeros(stages.size, bool) if unscorable is None else np.array(unscorable, bool)
        if outside := sorted(set(stages[(stages < UNSCORED) | (stages >= N_STAGES)].tolist())):
            raise ValueError(f"stage ids must be 0..{N_STAGES - 1} or {UNSCORED}, got {outside}")
        if mask.shape != stages.shape:
            raise ValueError(f"unscorable mask has {mask.size} epochs, stages have {stages.size}")
        if np.any(stages[mask] != UNSCORED):
            raise ValueError("an unscorable epoch has a stage; its stage must be UNSCORED")
        stages.flags.writeable = mask.flags.writeable = False
        self._stages, self._unscorable = stages, mask
        self._epoch_sec, self._start = float(epoch_sec), start

    @property
    def stages(self) -> np.ndarray:
        """Class ids (int64, read-only), ``UNSCORED`` for epochs without a stage."""
        return self._stages

    @property
    def epoch_sec(self) -> float:
        """Epoch length in seconds."""
        return self._epoch_sec

    @property
    def start(self) -> dt.datetime | None:
        """Start of the first epoch, None if unknown."""
        return self._start

    @property
    def unscorable(self) -> np.ndarray:
        """Mask (read-only) of the epochs whose signal could not be staged."""
        return self._unscorable

    @property
    def n_epochs(self) -> int:
        """Epochs, unscored ones included."""
        return self._stages.size

    @property
    def scored(self) -> np.ndarray:
        """Mask of the epochs with a stage."""
        return self._stages != UNSCORED

    @property
    def stage_names(self) -> list[str]:
        """Name of each epoch's stage (``"W"`` ... ``"REM"``, ``"?"`` where unscored)."""
        return stage_names(self._stages)

    def __len__(self) -> int:
        return self.n_epochs

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Hypnogram):
            return NotImplemented
        return (
            self.epoch_sec == other.epoch_sec
            and self.start == other.start
            and np.array_equal(self.stages, other.stages)
            and np.array_equal(self.unscorable, other.unscorable)
        )

    __hash__ = None  # type: ignore[assignment]  # equal by value, and holds arrays

    def __repr__(self) -> str:
        start = "" if self.start is None else f", start={self.start.isoformat()!r}"
        return (
            f"Hypnogram({self.n_epochs} epochs of {self.epoch_sec:g} s{start}, "
            f"{int(self.scored.sum())} scored, {int(self.unscorable.sum())} unscorable)"
        )

    def crop(self, epochs: slice | InBedWindow) -> Hypnogram:
        """The hypnogram over some of its epochs, its start moved to the first one kept.

        Parameters
        ----------
        epochs : slice or InBedWindow
            A slice of epoch indices (step 1), or an in-bed window
            (:class:`~tinysleepnet.scoring.in_bed.InBedWindow`: lights off to lights on).

        Raises
        ------
        ValueError
            If the window ends past the hypnogram or the slice has a step.
        """
        if isinstance(epochs, InBedWindow):
            if epochs.stop > self.n_epochs:
                raise ValueError(
                    f"in-bed window ends at epoch {epochs.stop}, hypnogram has {self.n_epochs}"
                )
            epochs = epochs.epochs
        first, _, step = epochs.indices(self.n_epochs)
        if step != 1:
            raise ValueError("a hypnogram is cropped to consecutive epochs (slice step 1)")
        start = self.start
        if start is not None and first:
            start = start + dt.timedelta(seconds=first * self.epoch_sec)
        return Hypnogram(self.stages[epochs], self.epoch_sec, start, self.unscorable[epochs])

    def statistics(self, **kwargs: Any) -> dict[str, Any]:
        """Sleep statistics (:func:`~tinysleepnet.scoring.statistics.sleep_statistics`), the
        unscorable epochs excluded; ``kwargs`` go to it (``min_awakening_sec``)."""
        return sleep_statistics(self.stages, self.epoch_sec, excluded=self.unscorable, **kwargs)

    def compared(self, reference: Hypnogram) -> np.ndarray:
        """Mask of the epochs both this hypnogram and ``reference`` scored.

        Raises
        ------
        ValueError
            If the two have different numbers of epochs.
        """
        if reference.n_epochs != self.n_epochs:
            raise ValueError(
                f"reference hypnogram has {reference.n_epochs} epochs, this one {self.n_epochs}"
            )
        return self.scored & reference.scored

    def agreement(self, reference: Hypnogram) -> dict[str, Any]:
        """Scores of this hypnogram against ``reference`` (the expert's), on the epochs
        both scored.

        Returns
        -------
        dict
            :func:`~tinysleepnet.scoring.metrics.scores` (``reference`` as the truth) plus
            ``n_unscored``, the epochs ``reference`` left unscored, and ``n_unscorable``,
            those it scored but this hypnogram did not (for a staging, whose unscored epochs
            are those with unscorable signal: the epochs left out for their signal). Both are
            counted, not compared, so accuracy, confusion matrix, kappa and macro-F1 all cover
            the same ``n_epochs``.

        Raises
        ------
        ValueError
            If the two have different numbers of epochs, or no epoch is scored by both.
        """
        from .metrics import scores  # scikit-learn, loaded when scores are asked for

        compared = self.compared(reference)
        if not compared.any():
            raise ValueError("the reference hypnogram scores no epoch this one scores")
        return {
            **scores(reference.stages[compared], self.stages[compared]),
            "n_unscored": int(np.sum(~reference.scored)),
            "n_unscorable": int(np.sum(reference.scored & ~self.scored)),
        }

    def plot(
        self,
        proba: np.ndarray | None = None,
        *,
        reference: Hypnogram | None = None,
        review: np.ndarray | None = None,
        title: str | None = None,
    ) -> Figure:
        """The hypnogram drawn (:func:`~tinysleepnet.scoring.plots.plot_hypnogram`): clock
        times when :attr:`start` is known, unscorable epochs banded in grey.

        Parameters
        ----------
        proba : ndarray, shape (n_epochs, 5) or None
            Stage probabilities, drawn as a hypnodensity below the hypnogram.
        reference : Hypnogram or None
            Another scoring (the expert's) drawn beside it, disagreements marked.
        review : ndarray of bool, shape (n_epochs,) or None
            Epochs flagged for review, banded in orange.
        title : str or None
            The figure's title.
        """
        from ..io.quality import OK
        from .plots import plot_hypnogram

        return plot_hypnogram(
            self.stages,
            proba,
            self.epoch_sec,
            self.start,
            np.where(self.unscorable, "unscorable", OK),
            review=review,
            expert=None if reference is None else reference.stages,
            title=title,
        )

    def to_annotations(self) -> list[tuple[float, float, str]]:
        """``(onset_s, duration_s, text)`` of each run of one stage, onsets from the first
        epoch, as Sleep-EDF hypnograms store them; texts ``"Sleep stage W"``,
        ``"Sleep stage N1"`` ... ``"Sleep stage R"``; unscored epochs get none."""
        return [
            (onset, duration, STAGE_TO_ANNOTATION[stage])
            for onset, duration, stage in run_annotations(self.stages, self.epoch_sec)
            if stage != UNSCORED
        ]

    @classmethod
    def from_annotations(
        cls,
        annotations: Any,
        n_epochs: int | None = None,
        epoch_sec: float = EPOCH_SEC,
        start: dt.datetime | None = None,
    ) -> Hypnogram:
        """The hypnogram that stage annotations give, one stage per epoch.

        Parameters
        ----------
        annotations : mne.Annotations or iterable of (onset_s, duration_s, text)
            Annotations counted from the first epoch, e.g. :meth:`to_annotations`' or
            :func:`~tinysleepnet.io.hypnogram.read_hypnogram`'s once aligned. Texts that
            score no epoch (arousals, lights off) are ignored; ``Sleep stage ?``, Movement
            time and epochs no annotation covers are ``UNSCORED``.
        n_epochs : int or None
            Length: epochs past it cut off, missing ones unscored; None: up to the end of
            the last stage annotation.
        epoch_sec : float
            Epoch length in seconds.
        start : datetime or None
            Start of the first epoch.
        """
        onsets, durations, texts = _annotation_columns(annotations)
        return cls(
            annotation_stages(onsets, durations, texts, n_epochs, epoch_sec), epoch_sec, start
        )

    @classmethod
    def read(
        cls,
        path: str | Path,
        n_epochs: int,
        epoch_sec: float = EPOCH_SEC,
        recording_start: dt.datetime | None = None,
    ) -> Hypnogram:
        """An expert hypnogram file laid on a recording's ``n_epochs`` epochs, aligned on
        ``recording_start`` (:func:`~tinysleepnet.io.hypnogram.read_epoch_labels`, whose
        errors it raises).

        Raises
        ------
        PathError
            If the file cannot be read or aligned, or ends more than one epoch before the
            recording.
        """
        from ..io.hypnogram import read_epoch_labels  # MNE reads the file

        labels = read_epoch_labels(path, n_epochs, epoch_sec, recording_start)
        return cls(labels, epoch_sec, recording_start)


def _annotation_columns(annotations: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Onsets, durations (s) and texts of ``mne.Annotations`` or of tuples."""
    if hasattr(annotations, "onset"):  # mne.Annotations, read without importing MNE
        rows: Iterable[tuple[float, float, str]] = zip(
            annotations.onset, annotations.duration, annotations.description, strict=True
        )
    else:
        rows = annotations
    onsets, durations, texts = [], [], []
    for onset, duration, text in rows:
        onsets.append(float(onset))
        durations.append(float(duration))
        texts.append(str(text))
    return (
        np.asarray(onsets, dtype=np.float64),
        np.asarray(durations, dtype=np.float64),
        np.asarray(texts, dtype=object),
    )
