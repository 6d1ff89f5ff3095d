"""User-facing errors.

Every problem caused by the user's input (a file, a flag) raises :class:`TinySleepNetError`
with a one-line message that names the file and what is wrong. The command line prints that
line and exits non-zero; the Python API lets it propagate.
"""

from __future__ import annotations

from pathlib import Path


class TinySleepNetError(Exception):
    """A problem with the user's input, explained in one line."""


class RecordingError(TinySleepNetError):
    """A recording or hypnogram file cannot be used.

    Parameters
    ----------
    path : str or Path
        The offending file; it is named first in the message.
    problem : str
        What is wrong with it, e.g. ``"channel 'EEG Fpz-Cz' not found"``.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self) -> tuple[type, tuple[Path, str]]:
        # Rebuild from (path, problem) so the error survives worker processes (joblib).
        return type(self), (self.path, self.problem)
