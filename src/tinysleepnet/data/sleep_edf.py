"""Sleep-EDF Expanded: pairing PSGs with hypnograms, downloading.

Files are named as :class:`~tinysleepnet.data.naming.SleepEdfName` parses them: a PSG
``SC4ssNE0-PSG.edf`` (sleep telemetry ``ST7ssNJ0-PSG.edf``) and its hypnogram
``SC4ssNEx-Hypnogram.edf``, ``x`` the scorer's letter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from mne.datasets.sleep_physionet import age as sleep_physionet_age

from ..errors import PathError, TinySleepNetError
from .naming import PAIR_COLUMNS, SleepEdfName, pair_row


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
