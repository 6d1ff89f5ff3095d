"""What a dataset adapter offers: one protocol for every corpus the package reads.

An adapter (:class:`Dataset`) knows, for one corpus: how its files are named and paired
(:meth:`~Dataset.find_pairs`), how a recording is cut into scored epochs
(:meth:`~Dataset.scored_epochs`, labelled through the stage vocabulary of
:mod:`tinysleepnet.stages`), its default channel, rate, epoch length and wake trim, how to
get it (:meth:`~Dataset.download` or :meth:`~Dataset.where_to_get`), how its subjects are
named (:meth:`~Dataset.subject_ids`) and how the simulator lays a cohort out in its files
(:meth:`~Dataset.simulate`). Each corpus has its own module
(:mod:`tinysleepnet.data.sleep_edf`, :mod:`tinysleepnet.data.mass`,
:mod:`tinysleepnet.data.pairs` for any corpus listed in a CSV) and one line in the registry,
:data:`~tinysleepnet.data.datasets.DATASETS`: adding a corpus touches nothing else.

Adapters import MNE and pandas only in the methods that use them, so the registry (and the
command line's ``--help``, which lists it) loads neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ..errors import TinySleepNetError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from ..io.recordings import Recording

#: Wake-trim rules: where the ``?`` and Movement epochs are dropped relative to the window;
#: ``"none"`` keeps every scored epoch.
TRIM_RULES = ("authors", "deepsleepnet", "none")


@dataclass(frozen=True)
class Dataset:
    """How one dataset's recordings are paired, read, cut into scored epochs and obtained.

    Subclasses (one module per dataset) give the naming (:meth:`find_pairs`,
    :attr:`file_pattern`), and where they differ from the defaults here the epoching
    (:meth:`scored_epochs`), the subjects' names, the download and the simulated layout.

    Attributes
    ----------
    name : str
        Key of the registry, e.g. ``"sleep-edf"``, ``"mass-ss3"``.
    channel : str
        Default channel spec (see :class:`~tinysleepnet.io.channels.ChannelSpec`).
    sfreq : float
        Default sampling rate the signal is kept at, in Hz.
    epoch_sec : float
        Default epoch length in seconds.
    trim : str
        Default wake-trim rule (see :func:`~tinysleepnet.data.prepare.trim_wake`); ``"none"``
        keeps every scored epoch.
    """

    name: str
    channel: str
    sfreq: float
    epoch_sec: float
    trim: str

    #: How :meth:`scored_epochs` cuts a recording, as a prepared folder's settings record
    #: it (a folder is never resumed with epochs cut otherwise): ``"signal"``, epochs at
    #: multiples of ``epoch_sec`` from the first sample, labelled by the hypnogram's runs.
    epochs_from: ClassVar[str] = "signal"
    #: Whether :meth:`download` fetches the recordings (else :meth:`where_to_get` says how).
    downloadable: ClassVar[bool] = False
    #: Subjects :meth:`simulate` writes when none are given.
    default_subjects: ClassVar[tuple[int, ...]] = (0, 1)
    #: Columns of :meth:`simulate`'s table worth printing, in order.
    simulated_columns: ClassVar[tuple[str, ...]] = ("psg", "hypnogram", "n_epochs")

    @property
    def file_pattern(self) -> str:
        """What the files of one night are called, for messages."""
        raise NotImplementedError

    def find_pairs(self, folder: str | Path) -> pd.DataFrame:
        """Recording/hypnogram pairs under ``folder``, found by this dataset's file names.

        Returns
        -------
        pandas.DataFrame
            One row per night, sorted by name, with columns
            :data:`~tinysleepnet.data.naming.PAIR_COLUMNS` (name, subject, night, psg,
            hypnogram).
        """
        raise NotImplementedError

    def scored_epochs(
        self, recording: Recording, hypnogram: str | Path, epoch_sec: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """The epochs of ``recording`` and the stage the hypnogram gives each.

        By default (:attr:`epochs_from` ``"signal"``) epochs at multiples of ``epoch_sec``
        from the first sample (a trailing partial epoch dropped), labelled by the
        hypnogram's onset/duration runs, shifted by whole epochs when the hypnogram starts
        after or before the recording (its own start time, see
        :func:`~tinysleepnet.io.hypnogram.read_epoch_labels`).

        Returns
        -------
        epochs : ndarray of float32, shape (n_epochs, epoch_sec * sfreq)
            The signal of each epoch, in microvolts.
        stages : ndarray of int64, shape (n_epochs,)
            Class ids 0..4, :data:`~tinysleepnet.stages.UNSCORED` for epochs to drop.
        """
        from ..io.hypnogram import read_epoch_labels

        epochs = recording.epochs(round(epoch_sec * recording.sfreq))
        labels = read_epoch_labels(hypnogram, len(epochs), epoch_sec, recording.start)
        return epochs, labels

    def subject_ids(self, subjects: Iterable[int]) -> list[str]:
        """Subject numbers as :meth:`find_pairs` names them in its ``subject`` column."""
        return [str(subject) for subject in subjects]

    def where_to_get(self) -> str:
        """Where the recordings come from, as one sentence for messages."""
        return f"{self.name} is not downloadable here; list its nights in a pairs CSV"

    def requirements(self, row: str, n_subjects: int, title: str) -> str:
        """What a run on this dataset (``row``, ``title`` as the paper names it) needs when
        its recordings cannot be downloaded, and where they come from, as one message."""
        return (
            f"{row} needs the {self.name} recordings of its {n_subjects} {title} subjects "
            f"({self.file_pattern}): pass --data DIR; {self.where_to_get()}"
        )

    def download(
        self, subjects: Iterable[int], dest: str | Path, nights: Iterable[int] | None = None
    ) -> list[tuple[Path, Path]]:
        """Fetch the recordings of ``subjects`` into ``dest`` (``nights``: only these nights
        of each, None: all); ``(psg, hypnogram)`` per night.

        Raises
        ------
        TinySleepNetError
            For a dataset that cannot be downloaded (:meth:`where_to_get` says why).
        """
        raise TinySleepNetError(self.where_to_get())

    def missing_subjects(self, folder: str | Path, subjects: Iterable[int]) -> list[int]:
        """Those of ``subjects`` of whom :meth:`find_pairs` finds no night in ``folder``."""
        present = set(self.find_pairs(folder)["subject"]) if Path(folder).is_dir() else set()
        wanted = list(subjects)
        ids = self.subject_ids(wanted)
        return sorted(s for s, id_ in zip(wanted, ids, strict=True) if id_ not in present)

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
        """Write simulated nights laid out as this dataset's files (:mod:`.simulate`).

        Parameters
        ----------
        out : str or Path
            Folder for the files.
        subjects : sequence of int or None
            Subject numbers; None: :attr:`default_subjects`.
        n_epochs : int or None
            Epochs per night; None: the layout's default.
        seed, difficulty, n_jobs
            As :func:`~tinysleepnet.data.simulate.simulate_cohort` takes them.
        hypnograms : sequence of path or None
            One night following each hypnogram file (layouts that can follow one).
        official : bool
            Follow the packaged official hypnograms (Sleep-EDF).
        record_sec, quirks
            EDF data-record length and the corpus's quirks (Sleep-EDF).

        Returns
        -------
        pandas.DataFrame
            One row per night written; :attr:`simulated_columns` among its columns.
        """
        raise TinySleepNetError(f"no simulated layout of {self.name}")
