"""Parameter descriptions shared by many docstrings, filled in by :func:`fill_doc`.

A parameter documented the same way in several functions (``allow_truncated``,
``progress``) has its text here, once. A docstring names it by a line holding only
``%(name)s`` where the parameter's entry goes, indented as the other entries::

    @fill_doc
    def read(path, allow_truncated=False):
        '''Read a recording.

        Parameters
        ----------
        path : str
            The file.
        %(allow_truncated)s
        '''

Only those placeholder lines are replaced: other ``%`` signs in a docstring stay as they are.
This module imports nothing from the package, so every layer may use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T", bound=Callable[..., object])

#: The shared entries, each ``name : type`` then its description indented by four spaces.
DOCDICT: dict[str, str] = {
    "allow_truncated": """allow_truncated : bool
    Accept an EDF/BDF file holding fewer data records than its header declares (a copy
    cut short): use the part present, with a warning, instead of refusing it (see
    :func:`~tinysleepnet.io.recordings.check_complete`).""",
    "progress": """progress : bool
    Show progress bars (on stderr, and only when it is a terminal).""",
    "channel_or_model": """channel : str or None
    EEG channel to stage, as a name or a channel spec (see
    :class:`~tinysleepnet.io.channels.ChannelSpec`); None takes the one the model was
    trained on (``config.channel``).""",
}

_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)%\((?P<name>\w+)\)s[ \t]*$", re.MULTILINE)


def fill_doc(obj: _T) -> _T:
    """Fill the ``%(name)s`` lines of ``obj.__doc__`` with :data:`DOCDICT`'s entries.

    Parameters
    ----------
    obj : callable
        A function or class whose docstring names shared entries.

    Returns
    -------
    callable
        ``obj`` itself, its docstring filled.

    Raises
    ------
    KeyError
        If the docstring names an entry :data:`DOCDICT` does not hold.

    Examples
    --------
    >>> @fill_doc
    ... def f(progress=True):
    ...     '''Do it.
    ...
    ...     Parameters
    ...     ----------
    ...     %(progress)s
    ...     '''
    >>> print(f.__doc__.splitlines()[4].strip())
    progress : bool
    """
    if obj.__doc__:
        obj.__doc__ = _PLACEHOLDER.sub(_entry, obj.__doc__)
    return obj


def _entry(match: re.Match[str]) -> str:
    name = match["name"]
    if name not in DOCDICT:
        raise KeyError(f"no shared docstring entry {name!r} (known: {sorted(DOCDICT)})")
    indent = match["indent"]
    return "\n".join(indent + line if line else line for line in DOCDICT[name].splitlines())
