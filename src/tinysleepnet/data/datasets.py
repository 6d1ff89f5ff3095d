"""The registry of datasets and the paper's protocols: one home for every row of its table.

A :class:`~tinysleepnet.data.adapters.Dataset` says how a corpus's files are found and cut
into epochs (channel, rate, epoch length, wake trim), how it is obtained and simulated:
``tinysleepnet prepare --dataset NAME``. Each corpus's adapter lives in its own module
(:mod:`tinysleepnet.data.sleep_edf`, :mod:`tinysleepnet.data.mass`;
:mod:`tinysleepnet.data.pairs` for a CSV of pairs) and is registered here, in
:data:`DATASETS`.

A :class:`Protocol` is one row of the paper's whole table (authors' README,
``compare_performance.png``): which dataset and subjects, how many folds, how many test
epochs the pooled scores were counted on, and the published scores:
``tinysleepnet reproduce NAME``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import TinySleepNetError
from ..stages import STAGES
from .adapters import TRIM_RULES, Dataset
from .mass import MASS_SUBSETS
from .pairs import PairsCsv
from .sleep_edf import SLEEP_EDF

__all__ = ["DATASETS", "PROTOCOLS", "TRIM_RULES", "Dataset", "Protocol", "dataset", "protocol"]

#: Every dataset the package knows, by name: the registry of adapters (one line each).
DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        SLEEP_EDF,
        *MASS_SUBSETS,
    )
}


def dataset(name: str, pairs_csv: str | Path | None = None) -> Dataset:
    """The dataset called ``name`` (see :data:`DATASETS`); with ``pairs_csv``, the nights
    that CSV lists, cut as ``name``'s are (:class:`~tinysleepnet.data.pairs.PairsCsv`)."""
    if name not in DATASETS:
        raise TinySleepNetError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    if pairs_csv is not None:
        return PairsCsv.of(pairs_csv, DATASETS[name])
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
        return self.data.downloadable

    @property
    def subject_ids(self) -> list[str] | None:
        """The row's subjects as prepared nights name them (Sleep-EDF: ``"00"``); None for
        every subject the files hold."""
        return None if self.subjects is None else self.data.subject_ids(self.subjects)

    def missing_subjects(self, folder: str | Path) -> list[int]:
        """The row's subjects with a night ``folder`` lacks (see
        :meth:`~tinysleepnet.data.adapters.Dataset.missing_subjects`)."""
        return self.data.missing_subjects(folder, self.subjects or ())

    def requirements(self) -> str:
        """What the row needs when its recordings cannot be downloaded (MASS), and where
        they come from, as one message."""
        return self.data.requirements(self.name, self.n_subjects, self.title)

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
