"""Sleep-EDF Expanded: its adapter, pairing PSGs with hypnograms, downloading.

Files are named as :class:`~tinysleepnet.data.naming.SleepEdfName` parses them: a PSG
``SC4ssNE0-PSG.edf`` (sleep telemetry ``ST7ssNJ0-PSG.edf``) and its hypnogram
``SC4ssNEx-Hypnogram.edf``, ``x`` the scorer's letter. Epochs run at multiples of 30 s from
the PSG's first sample, labelled by the hypnogram's runs (the adapters' default epoching),
and long wake around sleep is trimmed as the authors trimmed it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ..errors import PathError, TinySleepNetError
from .adapters import Dataset
from .naming import PAIR_COLUMNS, SleepEdfName, pair_row

if TYPE_CHECKING:
    import pandas as pd

#: Where Sleep-EDF comes from, for messages.
SLEEP_EDF_SOURCE = "https://physionet.org/content/sleep-edfx/ (open access; PhysioNet)"


@dataclass(frozen=True)
class SleepEdf(Dataset):
    """Sleep-EDF Expanded (:data:`SLEEP_EDF`): downloadable from PhysioNet."""

    downloadable: ClassVar[bool] = True
    simulated_columns: ClassVar[tuple[str, ...]] = (
        "psg", "hypnogram", "n_epochs", "hypnogram_epochs", "record_sec", "source",
    )  # fmt: skip

    @property
    def file_pattern(self) -> str:
        """``"SC4ssNE0-PSG.edf with SC4ssNEx-Hypnogram.edf"``."""
        return " with ".join(SleepEdfName.FILE_PATTERNS)

    def find_pairs(self, folder: str | Path) -> pd.DataFrame:
        """See :func:`find_sleep_edf_pairs`."""
        return find_sleep_edf_pairs(folder)

    def subject_ids(self, subjects: Iterable[int]) -> list[str]:
        """Cassette subject numbers as nights name them (``0`` -> ``"00"``)."""
        return [SleepEdfName("SC", subject, 1).subject_id for subject in subjects]

    def where_to_get(self) -> str:
        """PhysioNet, through ``tinysleepnet download sleep-edf``."""
        return f"Sleep-EDF is downloaded from {SLEEP_EDF_SOURCE}: tinysleepnet download sleep-edf"

    def download(
        self, subjects: Iterable[int], dest: str | Path, nights: Iterable[int] | None = None
    ) -> list[tuple[Path, Path]]:
        """Cassette nights (None: both of each subject); see :func:`download_sleep_edf`."""
        if nights is None:
            return download_sleep_edf(subjects, dest)
        return download_sleep_edf(subjects, dest, recording=nights)

    def missing_subjects(self, folder: str | Path, subjects: Iterable[int]) -> list[int]:
        """Those of the cassette ``subjects`` with a night that ``folder`` lacks, by PSG file
        name (the nights the corpus holds are those of its packaged lengths table)."""
        from .resources import psg_lengths

        folder = Path(folder)
        present = {path.name for path in folder.rglob("*-PSG.edf")} if folder.is_dir() else set()
        wanted = set(subjects)
        nights = map(SleepEdfName.parse, psg_lengths()["psg_file"])
        missing = {
            night.subject
            for night in nights
            if night.subject in wanted and night.psg_file not in present
        }
        return sorted(missing)

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
        """Sleep-EDF-named nights (:func:`~tinysleepnet.data.simulate.simulate_cohort`), or
        with ``hypnograms`` one night following each file
        (:func:`~tinysleepnet.data.simulate.simulate_night`; numbered ``SC4ss1E0`` when the
        file is not named as Sleep-EDF's, ``subjects`` then ignored)."""
        import pandas as pd

        from .simulate import simulate_cohort, simulate_night

        if hypnograms:
            nights = []
            for i, path in enumerate(hypnograms):
                try:
                    name = SleepEdfName.parse(path).night_name
                except PathError:  # not named like Sleep-EDF: number the nights
                    name = SleepEdfName("SC", i, 1).night_name
                night = simulate_night(
                    out,
                    name,
                    hypnogram=path,
                    n_epochs=n_epochs,
                    record_sec=record_sec,
                    seed=[seed, i],
                    difficulty=difficulty,
                )
                nights.append(
                    {"psg": night.psg, "hypnogram": night.hypnogram, "n_epochs": night.n_epochs}
                )
            return pd.DataFrame(nights)
        return simulate_cohort(
            out,
            self.default_subjects if subjects is None else subjects,
            from_official=official,
            n_epochs=n_epochs,
            record_sec=record_sec,
            seed=seed,
            difficulty=difficulty,
            quirks=quirks,
            n_jobs=n_jobs,
        )


#: The Sleep-EDF adapter: Fpz-Cz at 100 Hz, 30-s epochs, the authors' wake trim.
SLEEP_EDF = SleepEdf("sleep-edf", "EEG Fpz-Cz", 100.0, 30.0, "authors")


def find_sleep_edf_pairs(folder: str | Path) -> pd.DataFrame:
    """Pair every Sleep-EDF PSG under ``folder`` (searched recursively) with its hypnogram.

    Parameters
    ----------
    folder : str or Path
        Folder holding ``*-PSG.edf`` and ``*-Hypnogram.edf`` files, e.g. the ``dest`` of
        :func:`download_sleep_edf`.

    Returns
    -------
    pandas.DataFrame
        One row per night, sorted by name, with columns ``name`` (``"SC4001E0"``),
        ``subject`` (``"00"``; ``"ST01"`` for telemetry subjects, whose numbers overlap the
        cassette study's), ``night`` (1 or 2), ``psg`` and ``hypnogram`` (paths).

    Raises
    ------
    PathError
        If a PSG has no hypnogram, or more than one.
    """
    import pandas as pd

    rows = []
    for psg in sorted(Path(folder).rglob("*-PSG.edf")):
        try:
            name = SleepEdfName.parse(psg)
        except PathError:
            continue  # not a Sleep-EDF recording
        hypnograms = sorted(psg.parent.glob(name.hypnogram_glob))
        if len(hypnograms) != 1:
            found = "none" if not hypnograms else ", ".join(h.name for h in hypnograms)
            raise PathError(
                psg, f"needs exactly one {name.hypnogram_glob} beside it, found {found}"
            )
        rows.append(pair_row(name, psg, hypnograms[0]))
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def parse_subjects(text: str) -> list[int]:
    """Subject numbers from a list of numbers and ranges, e.g. ``"0-19"`` or ``"0,3,5-7"``.

    Raises
    ------
    TinySleepNetError
        If ``text`` is not such a list.
    """
    subjects: set[int] = set()
    for part in text.replace(" ", "").split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        first, last = (int(match[1]), int(match[2] or match[1])) if match else (0, -1)
        if first > last:
            raise TinySleepNetError(
                f"subjects {text!r}: expected numbers and ranges such as '0-19' or '0,3,5-7'"
            )
        subjects.update(range(first, last + 1))
    return sorted(subjects)


def download_sleep_edf(
    subjects: Iterable[int],
    dest: str | Path,
    recording: Iterable[int] = (1, 2),
    on_missing: str = "warn",
) -> list[tuple[Path, Path]]:
    """Download Sleep-EDF cassette nights through MNE's PhysioNet fetcher.

    Files are checked against their SHA-1 sums and cached: a rerun downloads only what is
    missing. Needs an internet connection.

    Parameters
    ----------
    subjects : iterable of int
        Cassette subject numbers, 0..82 (Sleep-EDF-20 is 0..19); see :func:`parse_subjects`.
    dest : str or Path
        Folder to download to; MNE stores the files in ``dest/physionet-sleep-data``.
    recording : iterable of int
        Nights to fetch: 1, 2 or both.
    on_missing : {"warn", "raise", "ignore"}
        What to do about nights the corpus lacks (subject 13 has no night 2; subjects 36 and
        52 no night 1; subjects 39, 68, 69, 78 and 79 do not exist).

    Returns
    -------
    list of (Path, Path)
        ``(psg, hypnogram)`` per night downloaded or already present.

    Raises
    ------
    TinySleepNetError
        If a subject or night does not exist (with ``on_missing="raise"``) or the download
        fails.
    """
    from mne.datasets.sleep_physionet import age as sleep_physionet_age

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        files = sleep_physionet_age.fetch_data(
            subjects=list(subjects), recording=list(recording), path=dest, on_missing=on_missing
        )
    except ValueError as err:  # MNE's word for a subject or night the corpus lacks
        raise TinySleepNetError(f"Sleep-EDF download: {err}") from err
    except OSError as err:  # network failures (requests' errors are OSErrors)
        raise TinySleepNetError(
            f"Sleep-EDF download failed ({err}); rerun to resume, finished files are kept"
        ) from err
    return [(Path(psg), Path(hypnogram)) for psg, hypnogram in files]
