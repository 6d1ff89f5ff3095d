"""Atomic file writes: a result is either complete on disk or absent."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure


#: Infix of the temporary name :func:`atomic_path` writes to before renaming.
PARTIAL = ".partial"


def partial_path(path: str | Path) -> Path:
    """The temporary file :func:`atomic_path` writes ``path`` through.

    ``night.csv`` -> ``night.partial.csv``: visible (not a dot file) and always the same
    name, so a write killed before its rename leaves a file people can see and that the
    next write of ``path`` replaces, instead of a hidden one nothing ever removes.
    """
    path = Path(path)
    return path.with_name(f"{path.stem}{PARTIAL}{path.suffix}")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    The temporary file (:func:`partial_path`) lives in the same folder so the final
    :func:`os.replace` is atomic. It is not created in advance: the writer creates it, so
    it gets the permissions of the user's umask (0644 under umask 022), as a file written
    directly would (a pre-created ``mkstemp`` file is 0600, which breaks shared folders).
    If the body raises, the temporary file is removed and ``path`` is left untouched.
    The temporary name keeps ``path``'s suffix, so writers that choose a format from the
    extension (numpy, matplotlib, MNE) behave as for the final name. Two writers of the
    same ``path`` at the same moment share the temporary name: callers write each path
    from one place at a time.

    Examples
    --------
    >>> with atomic_path("night.npz") as tmp:  # doctest: +SKIP
    ...     np.savez(tmp, x=x)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(path)
    tmp.unlink(missing_ok=True)  # left by a killed run: its mode must not carry over
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | Path, values: dict[str, Any]) -> None:
    """Write a dict as indented JSON, atomically (NaN written as ``null``)."""
    text = json.dumps(_nan_to_none(values), indent=2, allow_nan=False)
    write_text_atomic(path, text + "\n")


def write_figure(path: str | Path, figure: Figure, dpi: int = 120) -> None:
    """Save a matplotlib figure (format from the suffix, e.g. ``.png``), atomically."""
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=dpi)


def _nan_to_none(value: Any) -> Any:
    # JSON has no NaN; metrics of an empty comparison are NaN and must read back as null.
    if isinstance(value, dict):
        return {key: _nan_to_none(v) for key, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
