"""Any dataset listed in a CSV: the pairs-CSV adapter.

A CSV with columns ``psg``, ``hypnogram``, ``subject``, ``night`` (and optionally ``name``)
pairs recordings with hypnograms whatever their file names. The nights are cut as the
dataset it names is cut (:attr:`PairsCsv.like`: Sleep-EDF's grid by default, MASS's
annotation onsets for a MASS subset), with its defaults of channel, rate, epoch length and
wake trim: ``tinysleepnet prepare SRC OUT --pairs CSV [--dataset NAME]``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import PathError
from ..io.names import safe_name
from .adapters import Dataset

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from ..io.recordings import Recording

#: Columns a pairs CSV must have.
REQUIRED_COLUMNS = ("psg", "hypnogram", "subject", "night")


@dataclass(frozen=True)
class PairsCsv(Dataset):
    """The nights a CSV lists (:func:`read_pairs_csv`), cut as the dataset ``like`` is.

    Its name and defaults are ``like``'s (see :meth:`of`), so a folder prepared from a CSV
    records the same settings as one prepared from ``like``'s own file names.

    Attributes
    ----------
    csv : Path
        The pairs CSV.
    like : Dataset
        The dataset whose epoching and defaults the nights take.
    """

    csv: Path
    like: Dataset

    @classmethod
    def of(cls, csv: str | Path, like: Dataset) -> PairsCsv:
        """The nights of ``csv``, with ``like``'s name, defaults and epoching."""
        settings = {field.name: getattr(like, field.name) for field in fields(Dataset)}
        return cls(**settings, csv=Path(csv), like=like)

    @property
    def epochs_from(self) -> str:  # type: ignore[override]
        """``like``'s (the settings a prepared folder records)."""
        return self.like.epochs_from

    @property
    def file_pattern(self) -> str:
        """``like``'s, for messages."""
        return self.like.file_pattern

    def find_pairs(self, folder: str | Path) -> pd.DataFrame:
        """The CSV's nights, relative paths taken from ``folder`` (:func:`read_pairs_csv`)."""
        return read_pairs_csv(self.csv, folder)

    def scored_epochs(
        self, recording: Recording, hypnogram: str | Path, epoch_sec: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """As ``like`` cuts them."""
        return self.like.scored_epochs(recording, hypnogram, epoch_sec)


def read_pairs_csv(pairs_csv: str | Path, src: str | Path) -> pd.DataFrame:
    """Read a CSV pairing recordings with hypnograms (columns psg, hypnogram, subject, night;
    optionally name, else the PSG file's stem).

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``subject``, ``night``, ``psg``, ``hypnogram``, paths resolved
        against ``src``.

    Raises
    ------
    PathError
        If the CSV is missing or unreadable, lacks a column or has an empty cell in one,
        repeats a night name or has one that is not a file name (``../x``, ``/abs``:
        :func:`~tinysleepnet.io.names.safe_name`), or has a night that is not a whole number.
    """
    from ..io.tables import read_text_table

    pairs = read_text_table(pairs_csv, required=REQUIRED_COLUMNS)
    for column in ("psg", "hypnogram"):
        pairs[column] = [Path(src) / path for path in pairs[column]]
    names = pairs["name"] if "name" in pairs.columns else [""] * len(pairs)
    pairs["name"] = [
        safe_name(name or psg.stem, pairs_csv, "night name")  # <name>.npz is written in OUT
        for name, psg in zip(names, pairs["psg"], strict=True)
    ]
    if pairs["name"].duplicated().any():
        duplicated = sorted(set(pairs["name"][pairs["name"].duplicated()]))
        raise PathError(pairs_csv, f"night names must be unique; repeated: {duplicated}")
    if not pairs["night"].str.fullmatch(r"\d+").all():
        raise PathError(pairs_csv, "column night must hold whole numbers")
    pairs["night"] = pairs["night"].astype(int)
    return pairs[["name", "subject", "night", "psg", "hypnogram"]]
