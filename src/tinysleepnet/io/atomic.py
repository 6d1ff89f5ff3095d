"""Atomic file writes: a result is either complete on disk or absent."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    The temporary file lives in the same folder so the final :func:`os.replace` is atomic.
    If the body raises, the temporary file is removed and ``path`` is left untouched.
    The temporary name keeps ``path``'s suffix, so writers that choose a format from the
    extension (numpy, matplotlib, MNE) behave as for the final name.

    Examples
    --------
    >>> with atomic_path("night.npz") as tmp:  # doctest: +SKIP
    ...     np.savez(tmp, x=x)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent
    )
    os.close(fd)
    tmp = Path(name)
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
