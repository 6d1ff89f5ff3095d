"""User-facing errors.

Every problem caused by the user's input (a file, a flag) raises :class:`TinySleepNetError`
with a one-line message that names the file and what is wrong. The command line prints that
line and exits non-zero; the Python API lets it propagate. A problem with a file or folder
is a :class:`PathError`, whose message starts with the path.
"""

from __future__ import annotations

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
