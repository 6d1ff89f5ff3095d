"""Atomic file writes: a result is either complete on disk or absent; and reading back the
JSON files written here, with one-line errors."""

from __future__ import annotations

import glob
import json
import math
import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import PathError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

try:
    import fcntl
except ImportError:  # Windows: no advisory locks (see :func:`exclusive`)
    fcntl = None  # type: ignore[assignment]

#: This machine's name as temporary names carry it (no dots: the suffix follows).
_HOST = socket.gethostname().split(".")[0] or "host"


#: Infix of the temporary names :func:`atomic_path` writes to before renaming.
PARTIAL = ".partial"


def partial_path(path: str | Path) -> Path:
    """A temporary file for one write of ``path``, unique to this host, process and call.

    ``night.csv`` -> ``night.partial-<host>-<pid>-<token>.csv``: visible (not a dot file),
    so a write killed before its rename leaves a file people can see, and naming its
    writer, so the next write of ``path`` on this host removes it once that process is gone
    (:func:`stale_partials`). Unique, so that several jobs writing the same file at once
    (cluster folds writing one ``folds.json``) never share a temporary file.
    """
    path = Path(path)
    token = secrets.token_hex(3)
    return path.with_name(f"{path.stem}{PARTIAL}-{_HOST}-{os.getpid()}-{token}{path.suffix}")


def partials(path: str | Path) -> list[Path]:
    """Every temporary file of ``path`` on disk (:func:`partial_path`), from any writer."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    return sorted(path.parent.glob(f"{glob.escape(path.stem)}{PARTIAL}-*{path.suffix}"))


def stale_partials(path: str | Path) -> list[Path]:
    """The temporary files of ``path`` left by writers that are gone: processes of this
    host that no longer run (a ``kill -9``, a crash). Files of other hosts sharing the
    folder are left to them, as their processes cannot be looked up from here."""
    path = Path(path)
    prefix = f"{path.stem}{PARTIAL}-"
    stale = []
    for partial in partials(path):
        writer = partial.name[len(prefix) : len(partial.name) - len(path.suffix)]
        host, _, pid = writer.rpartition("-")[0].rpartition("-")
        if host == _HOST and pid.isdigit() and not _running(int(pid)):
            stale.append(partial)
    return stale


def remove_stale_partials(path: str | Path) -> None:
    """Delete the :func:`stale_partials` of ``path`` (each write does, before writing)."""
    for stale in stale_partials(path):
        stale.unlink(missing_ok=True)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    The temporary file (:func:`partial_path`) lives in the same folder so the final
    :func:`os.replace` is atomic. It is not created in advance: the writer creates it, so
    it gets the permissions of the user's umask (0644 under umask 022), as a file written
    directly would (a pre-created ``mkstemp`` file is 0600, which breaks shared folders).
    If the body raises, the temporary file is removed and ``path`` is left untouched.
    Temporary files of ``path`` that a killed run left are removed
    (:func:`stale_partials`). The temporary name keeps ``path``'s suffix, so writers that
    choose a format from the extension (numpy, matplotlib, MNE) behave as for the final
    name.

    Examples
    --------
    >>> with atomic_path("night.npz") as tmp:  # doctest: +SKIP
    ...     np.savez(tmp, x=x)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(path)
    tmp = partial_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def exclusive(lock: str | Path) -> Iterator[None]:
    """Hold the lock file ``lock`` for the length of the block: several processes writing
    the same set of files (two ``predict`` runs of same-named recordings into one folder)
    write one after the other, so the set on disk is always one writer's.

    The lock is an advisory ``flock`` on ``lock``, created for it and removed when the
    block ends; a process that waited on a file removed meanwhile takes the new one. On
    systems without ``fcntl`` (Windows) the block runs unlocked.
    """
    lock = Path(lock)
    if fcntl is None:
        yield
        return
    lock.parent.mkdir(parents=True, exist_ok=True)  # as atomic_path makes the folder
    while True:
        fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o666)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            held = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:  # its holder removed it as we waited
            held = False
        if held:
            break
        os.close(fd)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)
        os.close(fd)


def _running(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (assumed so where that cannot be asked)."""
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | Path, values: dict[str, Any]) -> None:
    """Write a dict as indented JSON, atomically (NaN written as ``null``)."""
    text = json.dumps(_nan_to_none(values), indent=2, allow_nan=False)
    write_text_atomic(path, text + "\n")


def read_json(path: str | Path, what: str) -> dict[str, Any]:
    """The JSON object in ``path``, one of the tool's own files (``what`` names its kind).

    Raises
    ------
    PathError
        If the file is missing, unreadable, or not a JSON object (a damaged copy, a
        file cut short): ``"<path>: not a readable <what> (<why>)"``.
    """
    path = Path(path)
    if not path.is_file():
        raise PathError(path, "file not found")
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PathError.wrap(path, f"not a readable {what}", err) from err
    if not isinstance(values, dict):
        raise PathError(path, f"not a readable {what} (a JSON {type(values).__name__})")
    return values


def write_figure(
    path: str | Path, figure: Figure, dpi: int = 120, metadata: dict[str, str] | None = None
) -> None:
    """Save a matplotlib figure (format from the suffix, e.g. ``.png``), atomically.

    ``metadata`` is stored in the file as the format allows (PNG text chunks such as
    ``Software`` or ``Source``; see :meth:`matplotlib.figure.Figure.savefig`).
    """
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=dpi, metadata=metadata)


def _nan_to_none(value: Any) -> Any:
    # JSON has no NaN; metrics of an empty comparison are NaN and must read back as null.
    if isinstance(value, dict):
        return {key: _nan_to_none(v) for key, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
