"""Channel specs: one EEG channel, a choice of names for it, and an optional reference.

The paper's MASS channel "F4-EOG(L)" is a derivation: the F4 EEG minus the left horizontal
EOG of the same file. MASS names its EEG channels with their recording reference, which
differs between subjects ("EEG F4-CLE" or "EEG F4-LER"), so a spec may list several names
and takes the first one the file has. As text (the ``--channel`` flag, ``Config.channel``,
a prepared night's ``channel``) a spec reads::

    EEG Fpz-Cz                                   one channel
    EEG F4-CLE|EEG F4-LER                        whichever of the two the file has
    EEG F4-CLE|EEG F4-LER minus EOG Left Horiz   that, minus the left horizontal EOG

``|`` and the word ``minus`` (with spaces around it) never occur in EDF channel labels,
while ``-`` does ("EEG Fpz-Cz"), so the text cannot be misread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import mne

from .._docs import fill_doc
from ..errors import PathError, TinySleepNetError
from .recordings import (
    INCLUDE_SUFFIXES,
    Recording,
    channels_present,
    check_complete,
    native_rates,
    read_eeg,
    read_raw,
    recording_from_raw,
    upsampling_refused,
)

logger = logging.getLogger("tinysleepnet")

_OR = "|"
_MINUS = " minus "


@dataclass(frozen=True)
class ChannelSpec:
    """Which signal of a recording to stage.

    Attributes
    ----------
    names : tuple of str
        Names the channel may have in a file, in order of preference; the first one present
        is used.
    reference : str or None
        Channel subtracted from it (same file, same rate), e.g. ``"EOG Left Horiz"``.
    """

    names: tuple[str, ...]
    reference: str | None = None

    @classmethod
    def parse(cls, text: str, reference: str | None = None) -> ChannelSpec:
        """A spec from its text (see the module docstring), with an optional extra reference.

        Raises
        ------
        TinySleepNetError
            If a name is empty, or a reference is given twice.
        """
        channel, minus, ref_in_text = text.partition(_MINUS)
        if minus and reference:
            raise TinySleepNetError(
                f"channel {text!r} already names its reference; drop --reference {reference!r}"
            )
        names = tuple(name.strip() for name in channel.split(_OR))
        ref = (ref_in_text or reference or "").strip() or None
        if not all(names) or (minus and ref is None):
            raise TinySleepNetError(
                f"channel {text!r}: expected 'NAME', 'NAME|OTHER NAME' or 'NAME minus REFERENCE'"
            )
        return cls(names, ref)

    @property
    def text(self) -> str:
        """The spec as text; :meth:`parse` reads it back."""
        channel = _OR.join(self.names)
        return f"{channel}{_MINUS}{self.reference}" if self.reference else channel

    @property
    def is_plain(self) -> bool:
        """Whether the spec is one channel name and nothing else."""
        return len(self.names) == 1 and self.reference is None


@fill_doc
def read_channel(
    path: str | Path, channel: str, sfreq: float | None = None, *, allow_truncated: bool = False
) -> Recording:
    """Read the signal a channel spec names, in microvolts, resampled to ``sfreq`` if asked.

    Parameters
    ----------
    path : str or Path
        Recording in any format MNE reads.
    channel : str
        Channel spec as text (see :class:`ChannelSpec`), e.g. ``"EEG Fpz-Cz"`` or
        ``"EEG F4-CLE|EEG F4-LER minus EOG Left Horiz"``.
    sfreq : float or None
        Sampling rate wanted in Hz, reached by resampling down; None keeps the file's.
    %(allow_truncated)s

    Returns
    -------
    Recording
        The signal (channel minus reference); its ``channel`` is the spec's text, so that
        nights of subjects with differently named electrodes share one channel.

    Raises
    ------
    PathError
        If the file cannot be read, has none of the names or lacks the reference, or the
        two channels differ in rate (see also :func:`~tinysleepnet.io.recordings.read_eeg`).
    """
    spec = ChannelSpec.parse(channel)
    if spec.is_plain:
        return read_eeg(path, spec.names[0], sfreq, allow_truncated=allow_truncated)
    path = Path(path)
    check_complete(path, allow_truncated)
    # One opening for every candidate name: MNE keeps only the channels listed that exist.
    include = [*spec.names, *([spec.reference] if spec.reference else [])]
    raw = (
        read_raw(path, include=include)
        if path.suffix.lower() in INCLUDE_SUFFIXES
        else read_raw(path)
    )
    return recording_from_spec(raw, spec, sfreq, path)


def recording_from_spec(
    raw: mne.io.BaseRaw, spec: ChannelSpec, sfreq: float | None = None, path: str | Path = ""
) -> Recording:
    """The signal ``spec`` names in an MNE ``Raw``, as :func:`read_channel` reads it.

    Logs (logger ``"tinysleepnet"``, INFO) which name was used when the spec offers several.
    """
    path = Path(path or (raw.filenames[0] if raw.filenames and raw.filenames[0] else "<Raw>"))
    found = [name for name in spec.names if name in raw.ch_names]
    if not found:
        _missing(raw, path, " or ".join(repr(name) for name in spec.names))
    name = found[0]
    if len(spec.names) > 1:
        logger.info("%s: channel %r used for %r", path, name, spec.text)
    _check_native_rates(path, [name, *([spec.reference] if spec.reference else [])], sfreq)
    recording = recording_from_raw(raw, name, sfreq, path)
    if spec.reference is not None:
        if spec.reference not in raw.ch_names:
            _missing(raw, path, f"reference {spec.reference!r}")
        reference = recording_from_raw(raw, spec.reference, sfreq, path)
        if reference.signal_uv.shape != recording.signal_uv.shape:
            raise PathError(
                path,
                f"{name!r} and its reference {spec.reference!r} differ in rate or length; "
                "a derivation needs both sampled together",
            )
        recording.signal_uv = recording.signal_uv - reference.signal_uv
    recording.channel = spec.text
    return recording


def _check_native_rates(path: Path, channels: list[str], sfreq: float | None) -> None:
    """Refuse a channel whose own rate in the file is below ``sfreq`` (None: below the
    others'): MNE reads a derivation's channels together at the highest rate, so the slower
    one comes back upsampled, with signal it never had."""
    rates = native_rates(path) if path.is_file() else {}
    own = {name: rates[name] for name in channels if name in rates}
    if not own:
        return
    wanted = sfreq if sfreq is not None else max(own.values())
    for name, rate in own.items():
        if rate < wanted:
            raise upsampling_refused(path, name, rate, wanted)


def _missing(raw: mne.io.BaseRaw, path: Path, what: str) -> NoReturn:
    """Raise the error for a channel the recording lacks, listing the EEG channels it has.

    ``raw`` may hold only the channels asked for; the file is then opened with all of them.
    """
    every = read_raw(path) if path.is_file() else raw
    raise PathError(path, f"channel {what} not found; {channels_present(every)}")
