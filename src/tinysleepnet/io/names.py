"""Names taken from users' files that become file or folder names: night names (a pairs
CSV's ``name`` cell), model names (``release --name``, a model card's ``name``).

Such a name is joined to an output folder, so it must be one path component that stays
inside it: ``../../x`` or ``/abs`` would write, or delete, elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import PathError

#: Longest name accepted, in characters (room left for suffixes and temporary infixes).
MAX_NAME_CHARS = 100


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be one file or folder name inside a folder; None when it can.

    Refused: an empty name, one starting with a dot (``.``, ``..``, hidden and temporary
    files), one holding a path separator (``/`` or ``\\``), a drive colon, a control
    character, or longer than :data:`MAX_NAME_CHARS`.
    """
    if not name:
        return "is empty"
    if name.startswith("."):
        return "starts with a dot"
    if "/" in name or "\\" in name:
        return "holds a path separator"
    if ":" in name:
        return "holds a ':'"
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        return "holds a control character"
    if len(name) > MAX_NAME_CHARS:
        return f"is longer than {MAX_NAME_CHARS} characters"
    return None


def safe_name(name: str, source: str | Path, what: str) -> str:
    """``name`` itself when it can be one file or folder name (see :func:`name_problem`).

    Parameters
    ----------
    name : str
        The name, e.g. a CSV cell or a model card's ``name``.
    source : str or Path
        Where the name comes from, named first in the error (the CSV, the card, the
        output folder).
    what : str
        What the name names, e.g. ``"night name"`` or ``"model name"``.

    Raises
    ------
    PathError
        ``"<source>: <what> '../x' cannot be a file name: it holds a path separator ..."``.
    """
    if problem := name_problem(name):
        raise PathError(
            source,
            f"{what} {name!r} cannot be a file name: it {problem} (use one name of letters, "
            "digits, '-', '_' and '.', not starting with a dot)",
        )
    return name
