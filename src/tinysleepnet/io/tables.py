"""CSV tables people write by hand (pairs of files, cohort manifests), read as text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import PathError


def read_text_table(path: str | Path, required: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV file as a table of stripped strings, empty cells as ``""``.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    required : tuple of str
        Columns that must be present and hold no empty cell.

    Raises
    ------
    PathError
        If the file is missing or not a readable CSV, lacks a required column, or has an
        empty cell in one (naming the first such data row, counted from 1).
    """
    path = Path(path)
    if not path.is_file():
        raise PathError(path, "file not found")
    try:
        table = pd.read_csv(path, dtype=str, skipinitialspace=True, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise PathError.wrap(path, "not a readable CSV", err) from err
    table.columns = [str(column).strip() for column in table.columns]
    table = table.astype(object).apply(lambda column: column.str.strip())
    if missing := [column for column in required if column not in table.columns]:
        found = ", ".join(map(repr, table.columns)) or "none"
        raise PathError(path, f"missing column(s) {', '.join(missing)} (columns: {found})")
    for column in required:
        if (empty := table.index[table[column] == ""]).size:
            raise PathError(path, f"data row {empty[0] + 1}: empty {column!r} cell")
    return table
