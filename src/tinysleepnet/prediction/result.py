"""The result of staging a night: stages, probabilities, quality and provenance, and every
file a staging writes (CSV, EDF+, PNG, statistics, agreement, BIDS events)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mne
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..io.atomic import exclusive, write_figure, write_json, write_text_atomic
from ..io.quality import OK
from ..models.folder import ModelFolder
from ..scoring.hypnogram import Hypnogram
from ..scoring.in_bed import InBedWindow
from ..scoring.statistics import statistics_table
from ..stages import EPOCH_SEC, UNSCORED, stage_names
from . import outputs
from .bids import events_frame, events_sidecar, write_events
from .review import (
    ReviewRule,
    review_agreement,
    review_agreement_table,
    review_statistics,
    review_table,
)


@dataclass(frozen=True)
class SavedStaging:
    """What :meth:`StagingResult.save` wrote.

    Attributes
    ----------
    paths : dict of str to Path
        The files, keyed ``csv``, ``edf``, ``png``, ``statistics``, ``statistics_txt``,
        ``events``, ``events_json``, and with an expert hypnogram ``agreement`` and
        ``agreement_txt``.
    statistics : dict
        The sleep statistics written (:meth:`StagingResult.statistics`).
    agreement : dict or None
        The agreement with the expert hypnogram written, if one was given.
    """

    paths: dict[str, Path]
    statistics: dict[str, Any]
    agreement: dict[str, Any] | None


@dataclass
class StagingResult:
    """The staging of one night.

    Attributes
    ----------
    proba : ndarray of float32, shape (n_epochs, 5)
        Stage probabilities per epoch, columns in :data:`~tinysleepnet.stages.STAGES` order.
    start : datetime or None
        Start of the first epoch (the recording's start), None if unknown.
    epoch_sec : float
        Epoch length in seconds.
    quality : ndarray of str, shape (n_epochs,) or None
        ``"ok"`` or why the epoch is unscorable (:func:`~tinysleepnet.io.quality.epoch_quality`);
        None: every epoch is scorable.
    warnings : list of str
        One-line warnings about the whole recording (e.g. its amplitude).
    provenance : dict
        What produced the staging (tool version, model file and checksum, input file,
        channel, time of run), written into the statistics; empty when unknown.
    review_rule : ReviewRule or None
        Which epochs to flag for a human scorer (:mod:`.review`); None flags none.
    window : InBedWindow or None
        Lights off to lights on (:mod:`~tinysleepnet.scoring.in_bed`): the statistics, the
        agreement and the plot cover only these epochs; None: the whole recording.
    name : str or None
        The recording's name, shown on the plot.
    stages : ndarray of int64, shape (n_epochs,)
        The most probable stage of each epoch (class ids 0..4), derived from ``proba``;
        :data:`~tinysleepnet.stages.UNSCORED` for unscorable epochs (their ``proba`` is NaN).
    """

    proba: np.ndarray
    start: dt.datetime | None = None
    epoch_sec: float = EPOCH_SEC
    quality: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    review_rule: ReviewRule | None = None
    window: InBedWindow | None = None
    name: str | None = None
    stages: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.proba = np.asarray(self.proba, dtype=np.float32)
        if self.quality is None:
            self.quality = np.full(len(self.proba), OK)
        self.quality = np.asarray(self.quality, dtype=str)
        self.stages = self.proba.argmax(axis=1).astype(np.int64)
        self.stages[~self.scorable] = UNSCORED
        if self.window is not None and self.window.stop > self.n_epochs:
            raise ValueError(
                f"in-bed window ends at epoch {self.window.stop}, staging has {self.n_epochs}"
            )

    @property
    def n_epochs(self) -> int:
        """Epochs staged, unscorable ones included."""
        return len(self.stages)

    @property
    def scorable(self) -> np.ndarray:
        """Mask of the epochs whose signal passed the quality checks."""
        return np.asarray(self.quality) == OK

    @property
    def review(self) -> np.ndarray | None:
        """Mask of the epochs flagged for review by :attr:`review_rule` (None: no rule)."""
        return None if self.review_rule is None else self.review_rule.flag(self.proba)

    @property
    def in_bed(self) -> slice:
        """The epochs in bed (:attr:`window`), all of them when no window is set."""
        return slice(None) if self.window is None else self.window.epochs

    @property
    def stage_names(self) -> list[str]:
        """Name of each epoch's stage (``"W"``, ``"N1"``, ... ``"REM"``)."""
        return stage_names(self.stages)

    @property
    def hypnogram(self) -> Hypnogram:
        """The predicted hypnogram over the whole recording: :attr:`stages`, the epochs
        whose signal failed the quality checks marked unscorable."""
        return Hypnogram(self.stages, self.epoch_sec, self.start, unscorable=~self.scorable)

    def in_bed_hypnogram(self) -> Hypnogram:
        """:attr:`hypnogram` cropped to the epochs in bed (:attr:`window`; all of them
        when no window is set), its start at lights off."""
        return self.hypnogram if self.window is None else self.hypnogram.crop(self.window)

    def statistics(self, **kwargs: Any) -> dict[str, Any]:
        """Sleep statistics of the predicted hypnogram; see :meth:`.Hypnogram.statistics`.

        Over the epochs in bed (:attr:`window`, described under ``in_bed``; the whole
        recording when none is set). Unscorable epochs are excluded (``excluded_min`` says
        how long they last), and the :attr:`provenance` is included when known.
        """
        bed = self.in_bed
        stats = self.in_bed_hypnogram().statistics(**kwargs)
        if self.window is not None:
            stats["in_bed"] = self.window.to_dict(self.epoch_sec, self.start)
        if self.provenance:
            stats["provenance"] = self.provenance
        if self.review is not None:
            stats.update(review_statistics(self.stages[bed], self.review[bed], self.epoch_sec))
        return stats

    def plot(self, expert_stages: np.ndarray | Hypnogram | None = None) -> Figure:
        """Hypnogram above hypnodensity over the epochs in bed; see :meth:`.Hypnogram.plot`.

        The title names the recording (:attr:`name`) and the model (its released name, or
        its file); ``expert_stages`` (class ids per epoch, or a :class:`.Hypnogram`) adds
        the expert's hypnogram with the disagreements.
        """
        bed = self.in_bed
        review = None if self.review is None else self.review[bed]
        expert = None if expert_stages is None else self._expert(expert_stages).crop(bed)
        model = model_card_summary(self.provenance.get("model")).get("name")
        if model is None and self.provenance.get("model") is not None:
            model = Path(self.provenance["model"]).name
        title = " - ".join(
            part for part in (self.name, None if model is None else f"model {model}") if part
        )
        if self.window is not None:
            title = f"{title} ({self.window.describe(self.epoch_sec, self.start)})".lstrip()
        return self.in_bed_hypnogram().plot(
            self.proba[bed], reference=expert, review=review, title=title or None
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per epoch; see :func:`.outputs.hypnogram_frame`."""
        frame = outputs.hypnogram_frame(
            self.stages, self.proba, self.epoch_sec, self.start, self.quality
        )
        if self.review is not None:
            frame["review"] = self.review.astype(int)
        if self.window is not None:
            frame["in_bed"] = self.window.mask(self.n_epochs).astype(int)
        return frame

    def to_csv(self, path: str | Path) -> None:
        """Write :meth:`to_frame` as CSV, atomically."""
        outputs.write_csv(path, self.to_frame())

    def to_annotations(self) -> mne.Annotations:
        """The hypnogram as :class:`mne.Annotations` with ``orig_time`` = :attr:`start`."""
        return outputs.to_annotations(self.stages, self.epoch_sec, self.start, self.quality)

    def to_edf(self, path: str | Path) -> None:
        """Write the hypnogram as an annotation-only EDF+ file, atomically."""
        outputs.write_hypnogram_edf(
            path, self.stages, self.epoch_sec, self.start, self.quality, review=self.review
        )

    def agreement(self, expert_stages: np.ndarray | Hypnogram) -> dict[str, Any]:
        """Scores against an expert hypnogram, on the epochs both scored.

        The epochs compared are those in bed (:attr:`window`) that the expert staged and
        whose signal passed the quality checks. Epochs the expert left unscored
        (``n_unscored``) and epochs the expert staged but whose signal was unscorable
        (``n_unscorable``) are counted, not compared, so accuracy, the confusion matrix,
        kappa and macro-F1 all cover the same ``n_epochs``.

        Parameters
        ----------
        expert_stages : ndarray of int, shape (n_epochs,), or Hypnogram
            Expert class ids, :data:`~tinysleepnet.stages.UNSCORED` for epochs left out
            (e.g. from :func:`~tinysleepnet.io.hypnogram.epoch_labels`), or the expert's
            :class:`.Hypnogram` (:func:`.expert.expert_hypnogram`).

        Returns
        -------
        dict
            :meth:`.Hypnogram.agreement` (:func:`~tinysleepnet.scoring.metrics.scores` plus
            ``n_unscored``, ``n_unscorable``), ``in_bed`` (with a window) and, with a
            :attr:`review_rule`, ``review`` (:func:`.review.review_agreement`: accuracy on
            the unflagged epochs and once the flagged ones are corrected).

        Raises
        ------
        ValueError
            If ``expert_stages`` has another length or scores no epoch.
        """
        staged, expert = self.in_bed_hypnogram(), self._expert(expert_stages).crop(self.in_bed)
        compared = staged.compared(expert)
        if not compared.any():
            raise ValueError(
                "the expert hypnogram scores no epoch of the staged signal"
                + (" in bed" if self.window is not None else "")
            )
        agreement = staged.agreement(expert)
        if self.window is not None:
            agreement["in_bed"] = self.window.to_dict(self.epoch_sec, self.start)
        if self.review is not None:
            review = self.review[self.in_bed][compared]
            agreement["review"] = review_agreement(
                expert.stages[compared], staged.stages[compared], review
            )
        return agreement

    def _expert(self, expert_stages: np.ndarray | Hypnogram) -> Hypnogram:
        """The expert's hypnogram on this staging's epochs.

        Raises
        ------
        ValueError
            If it has another number of epochs.
        """
        if not isinstance(expert_stages, Hypnogram):
            expert_stages = Hypnogram(expert_stages, self.epoch_sec, self.start)
        if expert_stages.n_epochs != self.n_epochs:
            raise ValueError(
                f"expert hypnogram has {expert_stages.n_epochs} epochs, staging has {self.n_epochs}"
            )
        return expert_stages

    def save(
        self, out_dir: str | Path, name: str, expert_stages: np.ndarray | Hypnogram | None = None
    ) -> SavedStaging:
        """Write every output of the ``predict`` command into ``out_dir``.

        Files are ``<name>_hypnogram.csv``, ``<name>_hypnogram.edf``, ``<name>_hypnogram.png``,
        ``<name>_statistics.json`` and ``.txt``, and with ``expert_stages`` also
        ``<name>_agreement.json`` and ``.txt``, and the BIDS events table
        ``<name>_events.tsv`` with its sidecar ``.json`` (:mod:`.bids`; a trailing ``_eeg``
        of ``name`` is dropped); each is written atomically. They replace the
        whole set of an earlier staging of ``name``: its files this staging does not write
        (an agreement with another expert hypnogram, say) are removed. The statistics JSON,
        which records the provenance, is removed first and written last, so a save that is
        interrupted never leaves what looks like a complete set; and saves of one ``name``
        into one folder run one at a time (a lock file, ``.<name>.lock``, while it writes),
        so two runs never leave a set mixed from both.

        Returns
        -------
        SavedStaging
            The files written and the statistics and agreement they hold, so a caller
            reports them without computing them again.
        """
        with exclusive(Path(out_dir) / f".{name}.lock"):  # one staging of name at a time
            return self._save(out_dir, name, expert_stages)

    def _save(
        self, out_dir: str | Path, name: str, expert_stages: np.ndarray | Hypnogram | None
    ) -> SavedStaging:
        paths = outputs.output_paths(out_dir, name)
        if expert_stages is None:
            del paths["agreement"], paths["agreement_txt"]
        paths["statistics"].unlink(missing_ok=True)
        self.to_csv(paths["csv"])
        self.to_edf(paths["edf"])
        provenance = {key: str(value) for key, value in self.provenance.items()}
        metadata = {"Software": "tinysleepnet", **provenance}
        write_figure(paths["png"], self.plot(expert_stages), metadata=metadata)
        stats = self.statistics()
        table = statistics_table(stats)
        if self.review is not None:
            table += review_table(stats)
        write_text_atomic(paths["statistics_txt"], table)
        paths["events"], paths["events_json"] = self.to_bids(out_dir, name)
        agreement = None
        if expert_stages is not None:
            agreement = self.agreement(expert_stages)
            write_json(paths["agreement"], agreement)
            text = outputs.agreement_table(agreement)
            if "review" in agreement:
                text += review_agreement_table(agreement["review"])
            write_text_atomic(paths["agreement_txt"], text)
        outputs.remove_stale_outputs(out_dir, name, keep=paths.values())
        write_json(paths["statistics"], stats)
        return SavedStaging(paths, stats, agreement)

    def to_bids(self, out_dir: str | Path, name: str) -> tuple[Path, Path]:
        """Write the BIDS events table and its sidecar (:func:`.bids.write_events`).

        The sidecar names the model from :attr:`provenance` and, for a released or
        installed model (a model folder's ``model.pt``), its card (name, weights'
        checksum, temperature, parent: :func:`model_card_summary`).
        """
        frame = events_frame(self.stages, self.proba, self.epoch_sec, self.review)
        model = {**self.provenance, **model_card_summary(self.provenance.get("model"))}
        rule = None if self.review_rule is None else str(self.review_rule)
        return write_events(out_dir, name, frame, events_sidecar(model, rule))


def model_card_summary(model_file: str | Path | None) -> dict[str, Any]:
    """Name, weights' checksum, temperature and parent from the card of the released or
    installed model whose ``model.pt`` is ``model_file``
    (:meth:`~tinysleepnet.models.folder.ModelFolder.holding`).

    Empty for any other file: a bare checkpoint or an ONNX graph, even beside another
    model's ``model.json``, which describes that model's ``model.pt``, not this file.
    """
    if model_file is None or (folder := ModelFolder.holding(model_file)) is None:
        return {}
    card = folder.read_card()
    return {
        "name": card["name"],
        "weights_sha256": card["weights"]["sha256"],
        "temperature": card["temperature"],
        "parent": (card.get("parent") or {}).get("name"),
    }
