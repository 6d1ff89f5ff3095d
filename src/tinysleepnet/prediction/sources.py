"""What staging reads a night from: a file, a ``Raw``, a :class:`Recording` or an array."""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

import mne
import numpy as np

from .._docs import fill_doc
from ..errors import PathError
from ..io.channels import ChannelSpec, read_channel, recording_from_spec
from ..io.recordings import Recording, recording_from_raw
from ..models.trained import Network, TrainedModel

#: What staging accepts as the recording.
Source: TypeAlias = str | Path | Recording | mne.io.BaseRaw | tuple[np.ndarray, float]


@fill_doc
def read_recording(
    source: Source,
    channel: str | None,
    model: TrainedModel | Network,
    *,
    allow_truncated: bool = False,
) -> Recording:
    """The EEG channel of ``source`` in microvolts at the model's rate.

    Parameters
    ----------
    source : path, Recording, mne.io.Raw or (ndarray, float)
        A recording file (any format MNE reads), a :class:`~tinysleepnet.io.recordings.Recording`,
        a ``Raw`` or a 1-D signal in microvolts with its sampling rate in Hz.
    channel : str or None
        Channel to use; None takes the model's (``config.channel``). Ignored for arrays.
    model : TrainedModel, TinySleepNet or OnnxModel
        Gives the sampling rate and the default channel.
    %(allow_truncated)s
    """
    config = model.config
    channel = channel or config.channel
    if isinstance(source, str | Path):
        recording = read_channel(source, channel, config.sfreq, allow_truncated=allow_truncated)
    elif isinstance(source, Recording):
        recording = source
    elif isinstance(source, mne.io.BaseRaw):
        recording = recording_from_spec(source, ChannelSpec.parse(channel), config.sfreq)
    else:
        signal, sfreq = source
        info = mne.create_info([channel], float(sfreq), "eeg")
        volts = np.asarray(signal, dtype=np.float64)[None] * 1e-6  # MNE holds EEG in volts
        raw = mne.io.RawArray(volts, info, verbose="error")
        recording = recording_from_raw(raw, channel, config.sfreq, "<array>")
    if recording.sfreq != config.sfreq:
        raise PathError(
            recording.path,
            f"sampled at {recording.sfreq:g} Hz, the model needs {config.sfreq:g} Hz",
        )
    return recording
