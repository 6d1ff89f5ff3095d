"""File names of the datasets: Sleep-EDF Expanded and MASS, parsed and built in one place.

Both name types share one interface: :meth:`parse` a file name (or path, or night name),
then ``psg_file``, ``hypnogram_file``, ``night_name``, ``subject`` (a number) and
``subject_id`` (the text tables hold).

Sleep-EDF's sleep cassette files are ``SC4ssNE0-PSG.edf`` and ``SC4ssNEx-Hypnogram.edf``
(``ss`` subject, ``N`` night, ``x`` the scorer's letter), its sleep telemetry files
``ST7ssNJ0-PSG.edf`` and ``ST7ssNJx-Hypnogram.edf``; the letter after the night is ``E``,
``F`` or ``G`` in the cassette study, ``J`` in telemetry. MASS ships ``CC-SS-NNNN PSG.edf``
with its annotations in ``CC-SS-NNNN Base.edf`` (``SS`` subset, ``NNNN`` subject; ``CC`` is
01 in every release).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

from ..errors import PathError, TinySleepNetError

_SLEEP_EDF = re.compile(
    r"(?P<study>SC|ST)(?P<digit>\d)(?P<subject>\d\d)(?P<night>\d)(?P<letter>[A-Z])"
    r"(?:0|0-PSG\.edf|(?P<scorer>[A-Z])-Hypnogram\.edf)"
)
_STUDY_DIGIT = {"SC": "4", "ST": "7"}  # SC4..., ST7...

_MASS = re.compile(r"(?P<cohort>\d\d)-(?P<subset>\d\d)-(?P<subject>\d{4})(?: PSG\.edf| Base\.edf)?")

#: Columns of a table of recording/hypnogram pairs, one row per night (:func:`pair_row`).
PAIR_COLUMNS = ("name", "subject", "night", "psg", "hypnogram")


class _NightName:
    """Parsing, as the name types of every dataset offer it."""

    _WHAT: ClassVar[str]  # what a name is expected to be, for messages

    @classmethod
    def parse(cls, name: str | Path) -> Self:
        """Parse the name of a night's recording, of its hypnogram, or the night's name;
        a path's folders are ignored.

        Raises
        ------
        PathError
            If the name is not shaped like one of those.
        """
        night = cls._from_name(Path(name).name)
        if night is None:
            raise PathError(name, f"not a {cls._WHAT}")
        return night

    @classmethod
    def _from_name(cls, name: str) -> Self | None:
        raise NotImplementedError


@dataclass(frozen=True)
class SleepEdfName(_NightName):
    """The name of a Sleep-EDF night, e.g. ``SleepEdfName("SC", 0, 1)`` for ``SC4001E0``.

    Attributes
    ----------
    study : {"SC", "ST"}
        Sleep cassette or sleep telemetry.
    subject : int
        Subject number, 0..99 (the two study's numbers overlap).
    night : int
        Night of the subject, 1 or 2.
    letter : str
        The capital letter after the night (``E``, ``F``, ``G`` or ``J``).
    scorer : str or None
        Capital letter of the hypnogram's scorer (``C`` in ``SC4001EC``); None when parsed
        from a PSG or night name.
    """

    study: str
    subject: int
    night: int
    letter: str = "E"
    scorer: str | None = None

    def __post_init__(self) -> None:
        if (
            self.study not in _STUDY_DIGIT
            or not 0 <= self.subject <= 99
            or not 0 <= self.night <= 9
            or not _is_capital(self.letter)
            or not (self.scorer is None or _is_capital(self.scorer))
        ):
            raise TinySleepNetError(f"not a Sleep-EDF name: {self!r}")

    #: How a night's two files are named, for messages: recording, hypnogram.
    FILE_PATTERNS: ClassVar[tuple[str, str]] = ("SC4ssNE0-PSG.edf", "SC4ssNEx-Hypnogram.edf")
    _WHAT = f"Sleep-EDF name ({', '.join(FILE_PATTERNS)})"

    @classmethod
    def _from_name(cls, name: str) -> Self | None:
        match = _SLEEP_EDF.fullmatch(name)
        if match is None or _STUDY_DIGIT[match["study"]] != match["digit"]:
            return None
        return cls(
            match["study"], int(match["subject"]), int(match["night"]), match["letter"],
            match["scorer"],
        )  # fmt: skip

    @property
    def night_name(self) -> str:
        """``"SC4001E0"``: what the PSG file is named after and prepared nights are called."""
        return f"{self._stem}0"

    @property
    def psg_file(self) -> str:
        """``"SC4001E0-PSG.edf"``."""
        return f"{self.night_name}-PSG.edf"

    @property
    def hypnogram_file(self) -> str:
        """``"SC4001EC-Hypnogram.edf"``; needs :attr:`scorer`.

        Raises
        ------
        TinySleepNetError
            If the name has no scorer (give one with ``dataclasses.replace``).
        """
        if self.scorer is None:
            raise PathError(self.night_name, "no scorer letter to name its hypnogram")
        return f"{self._stem}{self.scorer}-Hypnogram.edf"

    @property
    def hypnogram_glob(self) -> str:
        """``"SC4001E?-Hypnogram.edf"``: the hypnogram of this night by any scorer."""
        return f"{self._stem}?-Hypnogram.edf"

    @property
    def subject_id(self) -> str:
        """``"00"``; ``"ST00"`` in telemetry, whose numbers overlap the cassette study's."""
        return f"{'' if self.study == 'SC' else 'ST'}{self.subject:02d}"

    @property
    def _stem(self) -> str:
        """The seven characters a PSG and its hypnogram share, ``"SC4001E"``."""
        study = self.study + _STUDY_DIGIT[self.study]
        return f"{study}{self.subject:02d}{self.night}{self.letter}"


@dataclass(frozen=True)
class MassName(_NightName):
    """The name of a MASS night, e.g. ``MassName(3, 1)`` for ``01-03-0001``.

    Attributes
    ----------
    subset : int
        MASS subset, 1..5 (SS1..SS5).
    subject : int
        Subject number within the subset, 1..9999; every subject has one night.
    cohort : int
        The name's first field (1 in every MASS release).
    """

    subset: int
    subject: int
    cohort: int = 1

    def __post_init__(self) -> None:
        if not (0 <= self.subset <= 99 and 0 <= self.subject <= 9999 and 0 <= self.cohort <= 99):
            raise TinySleepNetError(f"not a MASS name: {self!r}")

    _WHAT = "MASS name (CC-SS-NNNN PSG.edf, CC-SS-NNNN Base.edf)"

    @staticmethod
    def file_patterns(subset: int, cohort: int = 1) -> tuple[str, str]:
        """How the two files of a night of one subset are named, for messages: recording,
        annotations (``("01-03-NNNN PSG.edf", "01-03-NNNN Base.edf")`` for SS3)."""
        stem = f"{cohort:02d}-{subset:02d}-NNNN"
        return f"{stem} PSG.edf", f"{stem} Base.edf"

    @classmethod
    def _from_name(cls, name: str) -> Self | None:
        match = _MASS.fullmatch(name)
        if match is None:
            return None
        return cls(int(match["subset"]), int(match["subject"]), int(match["cohort"]))

    @property
    def night(self) -> int:
        """1: MASS holds one night per subject."""
        return 1

    @property
    def night_name(self) -> str:
        """``"01-03-0001"``."""
        return f"{self.cohort:02d}-{self.subset:02d}-{self.subject:04d}"

    @property
    def psg_file(self) -> str:
        """``"01-03-0001 PSG.edf"``."""
        return f"{self.night_name} PSG.edf"

    @property
    def base_file(self) -> str:
        """``"01-03-0001 Base.edf"``: the night's annotations, its hypnogram."""
        return f"{self.night_name} Base.edf"

    @property
    def hypnogram_file(self) -> str:
        """The same as :attr:`base_file`, under the name Sleep-EDF's type uses."""
        return self.base_file

    @property
    def subject_id(self) -> str:
        """``"0001"``."""
        return f"{self.subject:04d}"


def _is_capital(letter: str) -> bool:
    return len(letter) == 1 and "A" <= letter <= "Z"


def pair_row(name: SleepEdfName | MassName, psg: Path, hypnogram: Path) -> dict[str, Any]:
    """A night's row in a table of recording/hypnogram pairs (columns :data:`PAIR_COLUMNS`)."""
    row = (name.night_name, name.subject_id, name.night, psg, hypnogram)
    return dict(zip(PAIR_COLUMNS, row, strict=True))
