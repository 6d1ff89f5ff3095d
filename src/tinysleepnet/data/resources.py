"""Sleep-EDF data packaged with tinysleepnet: official hypnograms and PSG lengths.

The package ships the 16 official hypnograms of Sleep-EDF Expanded subjects 0-7 (both nights)
and the length of every sleep-cassette PSG, so that simulated nights can follow real expert
scoring at the real length (see ``resources/sleep_edf/README.md``; ODC-By 1.0, cite Kemp et
al. 2000 and Goldberger et al. 2000). File names are those of
:class:`~tinysleepnet.data.naming.SleepEdfName`.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

import pandas as pd

from .naming import SleepEdfName


def resource_dir() -> Path:
    """Folder of the packaged Sleep-EDF files (hypnograms, lengths table, licence)."""
    # The package is installed as plain files (wheel or editable), never zipped, so the
    # resource folder is a real directory.
    return Path(str(files("tinysleepnet") / "resources" / "sleep_edf"))


def official_hypnograms() -> list[Path]:
    """The packaged official hypnogram files, sorted by name.

    Returns
    -------
    list of Path
        ``SC4001EC-Hypnogram.edf`` ... ``SC4072EH-Hypnogram.edf``: subjects 0-7, nights 1
        and 2 (EDF+ annotations, 30-s epochs, R&K labels).
    """
    return sorted(resource_dir().glob("*-Hypnogram.edf"))


def psg_lengths() -> pd.DataFrame:
    """Length of every Sleep-EDF sleep-cassette PSG.

    Returns
    -------
    pandas.DataFrame
        One row per night (153) with columns ``psg_file`` (``"SC4001E0-PSG.edf"``),
        ``hypnogram_file``, ``psg_sha256``, ``psg_bytes`` and ``epochs_30s``, the number of
        30-s epochs of signal in the PSG (also for SC4362F0, which stores 60-s records).
    """
    return _psg_lengths().copy()


@cache
def _psg_lengths() -> pd.DataFrame:
    return pd.read_csv(resource_dir() / "sc-psg-lengths.csv")


def official_n_epochs(name: str | Path) -> int | None:
    """Official number of 30-s epochs of signal of a Sleep-EDF night.

    Parameters
    ----------
    name : str or Path
        The night's PSG or hypnogram file name or path (``"SC4001E0-PSG.edf"``,
        ``"SC4001EC-Hypnogram.edf"``).

    Returns
    -------
    int or None
        Epochs of signal in the official PSG (2650 for SC4001E0), ``None`` for a night not in
        the sleep-cassette table.

    Raises
    ------
    PathError
        If the name is not shaped like Sleep-EDF's.
    """
    psg = SleepEdfName.parse(name).psg_file
    lengths = _psg_lengths()
    rows = lengths.loc[lengths["psg_file"] == psg, "epochs_30s"]
    return int(rows.iloc[0]) if len(rows) else None
