"""User-facing errors.

Every problem caused by the user's input (a file, a flag) raises :class:`TinySleepNetError`
with a one-line message that names the file and what is wrong. The command line prints that
line and exits non-zero; the Python API lets it propagate. A problem with a file or folder
is a :class:`PathError`, whose message starts with the path.
"""

from __future__ import annotations

import math
from pathlib import Path


class TinySleepNetError(ValueError):
    """A problem with the user's input, explained in one line.

    A ``ValueError``, so code that guards a call with ``except ValueError`` catches it.
    """


class PathError(TinySleepNetError):
    """A file or folder cannot be used: a recording, hypnogram, checkpoint, run, manifest...

    Parameters
    ----------
    path : str or Path
        The offending file or folder; it is named first in the message.
    problem : str
        What is wrong with it, e.g. ``"channel 'EEG Fpz-Cz' not found"``.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    @classmethod
    def wrap(cls, path: str | Path, problem: str, error: BaseException) -> PathError:
        """A path error for a third-party library's exception (raise it ``from error``).

        The library's exception type and first line go in brackets after ``problem``:
        ``"night.npz: not a prepared night (BadZipFile: File is not a zip file)"``.
        """
        detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
        cause = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
        return cls(path, f"{problem} ({cause})")

    def __reduce__(self) -> tuple[type, tuple[Path, str]]:
        # Rebuild from (path, problem) so the error survives worker processes (joblib).
        return type(self), (self.path, self.problem)


def check_number(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    whole: bool = False,
) -> None:
    """Refuse a setting that is not a finite number in its range, in one line.

    Parameters
    ----------
    name : str
        How the user knows the setting (``"lr"``); named first in the message ("": the
        value alone, for a command-line flag that argparse names).
    value : object
        The value given.
    low, high : float or None
        Bounds of the range (None: unbounded on that side).
    low_open, high_open : bool
        Whether ``low``/``high`` themselves are excluded.
    whole : bool
        Whether the value must be a whole number (an ``int``).

    Raises
    ------
    TinySleepNetError
        ``"dropout=1.5 is out of range: must be a number >= 0 and < 1"``.
    """
    bounds = []
    if low is not None:
        bounds.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        bounds.append(f"{'<' if high_open else '<='} {high:g}")
    rule = f"a {'whole ' if whole else ''}number" + (f" {' and '.join(bounds)}" if bounds else "")
    kinds = (int,) if whole else (int, float)
    number = isinstance(value, kinds) and not isinstance(value, bool)
    ok = number and math.isfinite(value)  # type: ignore[arg-type]
    if ok and low is not None:
        ok = value > low if low_open else value >= low  # type: ignore[operator]
    if ok and high is not None:
        ok = value < high if high_open else value <= high  # type: ignore[operator]
    if not ok:
        given = f"{name}={value!r}" if name else repr(value)
        raise TinySleepNetError(f"{given} is out of range: must be {rule}")
