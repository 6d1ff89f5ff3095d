"""MASS (Montreal Archive of Sleep Studies): file naming, pairing, and epochs cut where scored.

MASS ships each night as two EDF files side by side (named as
:class:`~tinysleepnet.data.naming.MassName` parses them): ``CC-SS-NNNN PSG.edf`` (the signals)
and ``CC-SS-NNNN Base.edf`` (EDF+ holding only annotations, one per scored epoch:
"Sleep stage W", "1", "2", "3", "4", "R" or "?"). In ``01-03-0012``, ``03`` is the subset
(SS3) and ``0012`` the subject; every subject has one night. Subsets SS1 and SS3 are scored
in 30-s epochs per AASM, SS2, SS4 and SS5 per R&K, SS4 and SS5 in 20-s epochs.

A scored epoch starts where its annotation says, which need not be a multiple of the epoch
length from the PSG's first sample (a first epoch at 7.3 s gives epochs at 7.3 s, 37.3 s,
...), so the signal is cut at the annotations' own onsets (:func:`annotated_epochs`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..errors import PathError, TinySleepNetError
from ..stages import stage_from_annotation
from .adapters import Dataset
from .naming import PAIR_COLUMNS, MassName, pair_row

if TYPE_CHECKING:
    import mne
    import pandas as pd

    from ..io.recordings import Recording

logger = logging.getLogger("tinysleepnet")

#: Where MASS comes from, for messages about missing files.
MASS_SOURCE = "http://ceams-carsm.ca/mass/ (credentialed access; CEAMS, Montreal)"

#: The F4 EEG (named with its reference, which differs between subjects) minus the left
#: horizontal EOG: the paper's "F4-EOG(L)".
F4_EOG_LEFT = "EEG F4-CLE|EEG F4-LER minus EOG Left Horiz"
#: The paper's "C4-EOG(L)" (MASS-SS4).
C4_EOG_LEFT = "EEG C4-CLE|EEG C4-LER minus EOG Left Horiz"


@dataclass(frozen=True)
class Mass(Dataset):
    """One MASS subset (:data:`MASS_SUBSETS`): credentialed, so never downloaded.

    Attributes
    ----------
    subset : int
        1..5 (SS1..SS5): only files whose second name field is this subset are its nights.
    """

    subset: int

    #: One epoch per scored annotation, cut at its own onset (:func:`read_annotated_epochs`).
    epochs_from: ClassVar[str] = "annotations"
    default_subjects: ClassVar[tuple[int, ...]] = (1, 2)
    simulated_columns: ClassVar[tuple[str, ...]] = (
        "psg", "base", "n_epochs", "offset_sec", "eeg_channel",
    )  # fmt: skip

    @property
    def file_pattern(self) -> str:
        """``"01-03-NNNN PSG.edf with 01-03-NNNN Base.edf"`` for SS3."""
        return " with ".join(MassName.file_patterns(self.subset))

    def find_pairs(self, folder: str | Path) -> pd.DataFrame:
        """See :func:`find_mass_pairs`."""
        return find_mass_pairs(folder, self.subset)

    def scored_epochs(
        self, recording: Recording, hypnogram: str | Path, epoch_sec: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """The epochs the Base file scores, cut at their onsets (:func:`read_annotated_epochs`)."""
        return read_annotated_epochs(recording, hypnogram, epoch_sec)

    def subject_ids(self, subjects: Iterable[int]) -> list[str]:
        """Subject numbers as nights name them (``12`` -> ``"0012"``)."""
        return [MassName(self.subset, subject).subject_id for subject in subjects]

    def where_to_get(self) -> str:
        """Credentialed access from CEAMS (:data:`MASS_SOURCE`)."""
        return f"MASS is obtained from {MASS_SOURCE}"

    def requirements(self, row: str, n_subjects: int, title: str) -> str:
        """What a row of the paper's table on this subset needs, and where it comes from,
        as one message (``row`` its name, ``title`` as the paper names it)."""
        from ..io.channels import ChannelSpec

        channel = ChannelSpec.parse(self.channel)
        psg, base = MassName.file_patterns(self.subset)
        return (
            f"{row} needs the MASS recordings (credentialed access, not downloadable "
            f"here): pass --data DIR, a folder with, for each of the {n_subjects} "
            f"{title} subjects, {psg!r} (signals, with "
            f"{' or '.join(map(repr, channel.names))} and {channel.reference!r}) and "
            f"{base!r} (its sleep stages); {self.where_to_get()}"
        )

    def simulate(
        self,
        out: str | Path,
        subjects: Sequence[int] | None = None,
        *,
        n_epochs: int | None = None,
        seed: int = 0,
        difficulty: float = 1.0,
        n_jobs: int = 1,
        hypnograms: Sequence[str | Path] | None = None,
        official: bool = False,
        record_sec: float = 30.0,
        quirks: bool = True,
    ) -> pd.DataFrame:
        """Nights in MASS's layout (:func:`~tinysleepnet.data.simulate.mass.simulate_mass_cohort`);
        ``record_sec`` and ``quirks`` do not apply, following hypnogram files is refused."""
        from .simulate.mass import simulate_mass_cohort

        if hypnograms or official:
            raise TinySleepNetError("--hypnogram and --official are for the sleep-edf layout")
        return simulate_mass_cohort(
            out,
            self.subset,
            self.default_subjects if subjects is None else subjects,
            n_epochs=n_epochs,
            seed=seed,
            difficulty=difficulty,
            n_jobs=n_jobs,
        )


def _mass(subset: int, channel: str, epoch_sec: float) -> Mass:
    # No wake trim on MASS: its recordings run from lights off to lights on, and no public
    # preparation by the authors trims them (their code prepares Sleep-EDF only).
    return Mass(f"mass-ss{subset}", channel, 256.0, epoch_sec, "none", subset)


#: The five MASS subsets' adapters: SS1..SS3 and SS5 on F4-EOG(L), SS4 on C4-EOG(L), 256 Hz;
#: SS4 and SS5 scored in 20-s epochs.
MASS_SUBSETS = (
    _mass(1, F4_EOG_LEFT, 30.0),
    _mass(2, F4_EOG_LEFT, 30.0),
    _mass(3, F4_EOG_LEFT, 30.0),
    _mass(4, C4_EOG_LEFT, 20.0),
    _mass(5, F4_EOG_LEFT, 20.0),
)


def find_mass_pairs(folder: str | Path, subset: int) -> pd.DataFrame:
    """Pair every MASS PSG of one subset under ``folder`` (searched recursively) with its Base.

    Parameters
    ----------
    folder : str or Path
        Folder holding ``CC-SS-NNNN PSG.edf`` and ``CC-SS-NNNN Base.edf`` files.
    subset : int
        1..5: only files whose second name field is this subset are taken.

    Returns
    -------
    pandas.DataFrame
        One row per night, sorted by name, with columns ``name`` (``"01-03-0001"``),
        ``subject`` (``"0001"``), ``night`` (1), ``psg`` and ``hypnogram`` (the Base file).

    Raises
    ------
    PathError
        If a PSG has no Base file beside it (naming both).
    """
    import pandas as pd

    rows = []
    for psg in sorted(Path(folder).rglob("* PSG.edf")):
        try:
            name = MassName.parse(psg)
        except PathError:
            continue  # not a MASS recording
        if name.subset != subset:
            continue
        base = psg.with_name(name.base_file)
        if not base.is_file():
            raise PathError(
                psg, f"no annotation file {base.name!r} beside it; MASS scores each night there"
            )
        rows.append(pair_row(name, psg, base))
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def annotated_epochs(
    annotations: mne.Annotations,
    n_samples: int,
    sfreq: float,
    epoch_sec: float,
    path: str | Path = "<annotations>",
) -> tuple[np.ndarray, np.ndarray]:
    """First sample and stage of every scored epoch, cut where the annotations say.

    An annotation lasting ``k`` epochs gives ``k`` consecutive epochs from its onset.
    Epochs are kept in time order; an epoch that starts before the previous one ends
    (overlapping scoring) is dropped, as is one starting before the signal or running past
    its end. Gaps between annotations are left out: no epoch is invented there.

    Parameters
    ----------
    annotations : mne.Annotations
        Stage annotations, onsets in seconds from the signal's first sample.
    n_samples : int
        Length of the signal in samples.
    sfreq : float
        Sampling rate of the signal in Hz.
    epoch_sec : float
        Epoch length in seconds (MASS: 30, or 20 for SS4 and SS5).
    path : str or Path
        File named in errors and log messages.

    Returns
    -------
    starts : ndarray of int64, shape (n_epochs,)
        First sample of each epoch.
    stages : ndarray of int64, shape (n_epochs,)
        Class ids 0..4, :data:`~tinysleepnet.stages.UNSCORED` for ``Sleep stage ?``.

    Raises
    ------
    PathError
        If a stage annotation does not last a whole number of ``epoch_sec`` epochs (the
        file is scored in epochs of another length), or no epoch lies inside the signal.
    """
    onsets, stages = _epoch_onsets(annotations, epoch_sec, path, n_samples / sfreq)
    order = np.argsort(onsets, kind="stable")
    starts = np.round(onsets[order] * sfreq).astype(np.int64)
    stages = stages[order]
    epoch_samples = round(epoch_sec * sfreq)
    inside = (starts >= 0) & (starts + epoch_samples <= n_samples)
    keep = np.zeros(len(starts), dtype=bool)
    free_from = 0  # first sample not yet in a kept epoch
    for i in np.flatnonzero(inside):
        if starts[i] >= free_from:
            keep[i] = True
            free_from = starts[i] + epoch_samples
    if n_overlapping := int(np.sum(inside & ~keep)):
        logger.warning("%s: %d overlapping scored epochs dropped", path, n_overlapping)
    if n_outside := int(np.sum(~inside)):
        logger.info("%s: %d scored epochs outside the signal dropped", path, n_outside)
    if not keep.any():
        raise PathError(path, "no scored epoch lies inside the signal")
    return starts[keep], stages[keep]


def read_annotated_epochs(
    recording: Recording, base: str | Path, epoch_sec: float
) -> tuple[np.ndarray, np.ndarray]:
    """The epochs of ``recording`` its Base file scores, and their stages.

    Onsets count from the Base file's start: when it differs from the recording's (both
    read from their EDF headers), the onsets are moved by the difference.

    Returns
    -------
    epochs : ndarray of float32, shape (n_epochs, epoch_sec * sfreq)
        The signal of each scored epoch, in microvolts.
    stages : ndarray of int64, shape (n_epochs,)
        Class ids 0..4, :data:`~tinysleepnet.stages.UNSCORED` for ``?``.
    """
    import mne

    from ..io.hypnogram import read_hypnogram
    from ..io.recordings import edf_start

    annotations = read_hypnogram(base)
    base_start = edf_start(base)
    shift_sec = 0.0
    if base_start is not None and recording.start is not None:
        shift_sec = (base_start - recording.start.replace(tzinfo=None)).total_seconds()
    shifted = mne.Annotations(
        annotations.onset + shift_sec, annotations.duration, annotations.description
    )
    starts, stages = annotated_epochs(
        shifted, recording.signal_uv.size, recording.sfreq, epoch_sec, base
    )
    epoch_samples = round(epoch_sec * recording.sfreq)
    epochs = recording.signal_uv[starts[:, None] + np.arange(epoch_samples)]
    return epochs, stages


def _epoch_onsets(
    annotations: mne.Annotations, epoch_sec: float, path: str | Path, signal_sec: float
) -> tuple[np.ndarray, np.ndarray]:
    """Onset (s) and stage of every epoch the stage annotations cover within the signal's
    first ``signal_sec`` seconds, in file order (an annotation claiming to last far past
    the signal gives only the epochs that can lie in it, not an array of its length)."""
    from ..io.hypnogram import scoring_annotations

    scoring = scoring_annotations(annotations)
    onsets, stages = [], []
    for onset, duration, text in zip(
        scoring.onset, scoring.duration, scoring.description, strict=True
    ):
        stage = stage_from_annotation(text)
        n_epochs = round(duration / epoch_sec)
        if n_epochs < 1 or abs(duration - n_epochs * epoch_sec) > 1e-3:
            raise PathError(
                path,
                f"stage annotation {text!r} at {onset:g} s lasts {duration:g} s, not "
                f"a whole number of {epoch_sec:g}-s epochs; is the night scored in "
                f"{duration:g}-s epochs?",
            )
        # only the epochs that can start inside the signal
        first = max(0, int(np.ceil(-onset / epoch_sec)))
        last = min(n_epochs, max(0, int(np.ceil((signal_sec - onset) / epoch_sec))))
        onsets.extend(onset + epoch_sec * np.arange(first, max(first, last)))
        stages.extend([stage] * max(0, last - first))
    return np.asarray(onsets, dtype=np.float64), np.asarray(stages, dtype=np.int64)
