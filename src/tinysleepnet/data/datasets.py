"""The datasets and the paper's protocols: one home for every row of its table.

A :class:`Dataset` says how a corpus's files are found and cut into epochs (channel, rate,
epoch length, wake trim): ``tinysleepnet prepare --dataset NAME``. A :class:`Protocol` is one
row of the paper's whole table (authors' README, ``compare_performance.png``): which dataset
and subjects, how many folds, how many test epochs the pooled scores were counted on, and the
published scores: ``tinysleepnet reproduce NAME``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import TinySleepNetError
from ..stages import STAGES
from .naming import MassName, SleepEdfName

if TYPE_CHECKING:
    import pandas as pd

#: Wake-trim rules: where the ``?`` and Movement epochs are dropped relative to the window;
#: ``"none"`` keeps every scored epoch.
TRIM_RULES = ("authors", "deepsleepnet", "none")

#: The F4 EEG (named with its reference, which differs between subjects) minus the left
#: horizontal EOG: the paper's "F4-EOG(L)".
F4_EOG_LEFT = "EEG F4-CLE|EEG F4-LER minus EOG Left Horiz"
#: The paper's "C4-EOG(L)" (MASS-SS4).
C4_EOG_LEFT = "EEG C4-CLE|EEG C4-LER minus EOG Left Horiz"


@dataclass(frozen=True)
class Dataset:
    """How one dataset's recordings are paired, read and cut into scored epochs.

    Attributes
    ----------
    name : str
        ``"sleep-edf"``, ``"mass-ss1"`` ... ``"mass-ss5"``.
    channel : str
        Channel spec (see :class:`~tinysleepnet.io.channels.ChannelSpec`).
    sfreq : float
        Sampling rate the signal is kept at, in Hz.
    epoch_sec : float
        Epoch length in seconds.
    trim : str
        Wake-trim rule (see :func:`~tinysleepnet.data.prepare.trim_wake`); ``"none"``
        keeps every scored epoch.
    epochs_from : {"signal", "annotations"}
        ``"signal"``: epochs at multiples of ``epoch_sec`` from the first sample, labelled by
        the hypnogram's runs (Sleep-EDF). ``"annotations"``: one epoch per scored
        annotation, cut at its own onset (MASS, see :mod:`tinysleepnet.data.mass`).
    subset : int or None
        MASS subset (1..5).
    """

    name: str
    channel: str
    sfreq: float
    epoch_sec: float
    trim: str
    epochs_from: str
    subset: int | None = None

    def find_pairs(self, folder: str | Path) -> pd.DataFrame:
        """Recording/hypnogram pairs under ``folder`` (columns name, subject, night, psg,
        hypnogram), found by this dataset's file names."""
        # Imported here: the command line lists the datasets without loading MNE.
        from .mass import find_mass_pairs
        from .sleep_edf import find_sleep_edf_pairs

        if self.subset is None:
            return find_sleep_edf_pairs(folder)
        return find_mass_pairs(folder, self.subset)

    @property
    def file_pattern(self) -> str:
        """What the files of one night are called, for messages."""
        if self.subset is None:
            return " with ".join(SleepEdfName.FILE_PATTERNS)
        return " with ".join(MassName.file_patterns(self.subset))


def _mass(subset: int, channel: str, epoch_sec: float) -> Dataset:
    # No wake trim on MASS: its recordings run from lights off to lights on, and no public
    # preparation by the authors trims them (their code prepares Sleep-EDF only).
    return Dataset(f"mass-ss{subset}", channel, 256.0, epoch_sec, "none", "annotations", subset)


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset("sleep-edf", "EEG Fpz-Cz", 100.0, 30.0, "authors", "signal"),
        _mass(1, F4_EOG_LEFT, 30.0),
        _mass(2, F4_EOG_LEFT, 30.0),
        _mass(3, F4_EOG_LEFT, 30.0),
        _mass(4, C4_EOG_LEFT, 20.0),
        _mass(5, F4_EOG_LEFT, 20.0),
    )
}


def dataset(name: str) -> Dataset:
    """The dataset called ``name`` (see :data:`DATASETS`)."""
    if name not in DATASETS:
        raise TinySleepNetError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    return DATASETS[name]


@dataclass(frozen=True)
class Protocol:
    """One row of the paper's table: how it was evaluated and what it scored.

    Attributes
    ----------
    name : str
        ``"sleep-edf-20"``, ``"sleep-edf-78"``, ``"mass-ss1"`` ... ``"mass-ss5"``.
    title : str
        The row as the paper names it.
    manual : str
        Scoring manual of the expert hypnograms (``"R&K"`` or ``"AASM"``).
    dataset : str
        Key of :data:`DATASETS`.
    paper_channel : str
        The channel as the paper writes it (``"Fpz-Cz"``, ``"F4-EOG(L)"``).
    n_folds : int
        Subject-wise folds.
    test_epochs : int
        Test epochs pooled over all folds in the published scores.
    acc, mf1 : float
        Published accuracy and macro-F1, in percent.
    kappa : float
        Published Cohen's kappa.
    f1 : tuple of float
        Published F1 per stage (W, N1, N2, N3, REM), in percent.
    n_subjects : int
        Subjects of the row (MASS: the subset's).
    subjects : tuple of int or None
        Sleep-EDF cassette subjects of the row; None for every subject the files hold.
    """

    name: str
    title: str
    manual: str
    dataset: str
    paper_channel: str
    n_folds: int
    test_epochs: int
    acc: float
    mf1: float
    kappa: float
    f1: tuple[float, float, float, float, float]
    n_subjects: int
    subjects: tuple[int, ...] | None = None

    @property
    def data(self) -> Dataset:
        """The dataset's naming, channel, rate and epoch length."""
        return DATASETS[self.dataset]

    @property
    def public(self) -> bool:
        """Whether the recordings can be downloaded without credentials (Sleep-EDF)."""
        return self.dataset == "sleep-edf"

    def published(self) -> dict[str, float]:
        """The published scores keyed ``acc``, ``mf1``, ``kappa``, ``f1_W`` ... ``f1_REM``
        (percent, kappa as a fraction)."""
        per_stage = {f"f1_{stage}": f1 for stage, f1 in zip(STAGES, self.f1, strict=True)}
        return {"acc": self.acc, "mf1": self.mf1, "kappa": self.kappa, **per_stage}


#: Sleep-EDF-78's cassette subjects: 0..82 less the numbers the corpus lacks.
SLEEP_EDF_78_SUBJECTS = tuple(s for s in range(83) if s not in (39, 68, 69, 78, 79))

PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol("sleep-edf-20", "Sleep-EDF-20 (SC 0-19)", "R&K", "sleep-edf", "Fpz-Cz", 20,
                 44_220, 85.4, 80.5, 0.80, (90.1, 51.4, 88.5, 88.3, 84.3), 20, tuple(range(20))),
        Protocol("sleep-edf-78", "Sleep-EDF-78 (SC, all)", "R&K", "sleep-edf", "Fpz-Cz", 10,
                 199_352, 83.1, 78.1, 0.77, (92.8, 51.0, 85.3, 81.1, 80.3), 78,
                 SLEEP_EDF_78_SUBJECTS),
        Protocol("mass-ss1", "MASS-SS1", "AASM", "mass-ss1", "F4-EOG(L)", 27,
                 51_293, 83.1, 79.3, 0.76, (90.0, 60.6, 87.4, 73.2, 85.1), 53),
        Protocol("mass-ss2", "MASS-SS2", "R&K", "mass-ss2", "F4-EOG(L)", 19,
                 26_711, 82.6, 75.5, 0.75, (76.6, 48.2, 87.8, 80.5, 84.3), 19),
        Protocol("mass-ss3", "MASS-SS3", "AASM", "mass-ss3", "F4-EOG(L)", 31,
                 59_317, 87.5, 83.2, 0.82, (87.3, 62.7, 91.8, 85.5, 88.6), 62),
        Protocol("mass-ss4", "MASS-SS4", "R&K", "mass-ss4", "C4-EOG(L)", 20,
                 55_310, 84.0, 78.0, 0.77, (79.8, 50.2, 88.9, 82.4, 88.5), 40),
        Protocol("mass-ss5", "MASS-SS5", "R&K", "mass-ss5", "F4-EOG(L)", 26,
                 36_409, 86.6, 80.9, 0.81, (85.5, 55.0, 89.9, 86.6, 87.7), 26),
    )
}  # fmt: skip


def protocol(name: str) -> Protocol:
    """The row of the paper's table called ``name`` (see :data:`PROTOCOLS`)."""
    if name not in PROTOCOLS:
        raise TinySleepNetError(f"unknown protocol {name!r}; choose from {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]
