"""What a checkpoint records of the nights it was trained on: their channel, rate, epoch
length, and their amplitude."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..config import DATA_FIELDS
from ..data.nights import Night
from ..errors import TinySleepNetError
from ..io.quality import median_amplitude_uv


def data_settings(nights: Sequence[Night]) -> dict[str, Any]:
    """The :data:`~tinysleepnet.config.DATA_FIELDS` of some nights: channel, rate, epoch.

    Raises
    ------
    TinySleepNetError
        If the nights disagree on any of them.
    """
    settings = {
        night.name: {
            "sfreq": float(night.sfreq),
            "epoch_sec": night.signal_uv.shape[1] / night.sfreq,
            "channel": night.channel,
        }
        for night in nights
    }
    if not settings:
        return {}
    first_name, first = next(iter(settings.items()))
    for name, values in settings.items():
        if values != first:
            detail = ", ".join(f"{k} {values[k]!r}" for k in DATA_FIELDS if values[k] != first[k])
            raise TinySleepNetError(
                f"night {name}: {detail}, but night {first_name} has "
                + ", ".join(f"{k} {first[k]!r}" for k in DATA_FIELDS if values[k] != first[k])
                + "; a model is trained on one channel, rate and epoch length: prepare the "
                "nights alike"
            )
    return first


def reference_amplitude(nights: Sequence[Night]) -> float:
    """Median absolute amplitude of some nights, in microvolts (median of the nights' medians).

    Stored with every checkpoint, so that staging can tell a recording whose scale is far
    from the training data's (a file in volts, a wrong gain). Each night is measured with
    :func:`~tinysleepnet.io.quality.median_amplitude_uv`, the estimate staging makes of a
    recording, so the two figures compare like with like.
    """
    return float(
        np.median(
            [
                median_amplitude_uv(night.signal_uv, np.ones(len(night.signal_uv), dtype=bool))
                for night in nights
            ]
        )
    )
