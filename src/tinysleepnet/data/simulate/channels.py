"""The other channels of a simulated Sleep-EDF PSG: respiration, chin EMG, temperature, events."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from ...io.edf_writer import EdfChannel
from .eeg import DERIVATIONS, simulate_derivations
from .profile import COLUMNS, per_second

#: Channels of a Sleep-EDF sleep-cassette PSG, in file order.
SLEEP_EDF_CHANNELS: tuple[str, ...] = (
    "EEG Fpz-Cz",
    "EEG Pz-Oz",
    "EOG horizontal",
    "Resp oro-nasal",
    "EMG submental",
    "Temp rectal",
    "Event marker",
)

#: Physical range (uV) of each EEG/EOG channel of SC4001E0's header, over 12-bit samples
#: (digital -2048..2047): the amplifier clips there and resolves 384/4095 = 0.094 uV on Fpz-Cz.
PHYSICAL_RANGE_UV: dict[str, tuple[float, float]] = {
    "EEG Fpz-Cz": (-192.0, 192.0),
    "EEG Pz-Oz": (-197.0, 196.0),
    "EOG horizontal": (-1009.0, 1009.0),
}
_DIGITAL_LEVELS = 4096  # 12 bits


def recorded(x: np.ndarray, physical_range: tuple[float, float]) -> np.ndarray:
    """A signal as a 12-bit converter stores it: clipped to its range, quantised (uV)."""
    low, high = physical_range
    step = (high - low) / (_DIGITAL_LEVELS - 1)
    levels = np.round((np.clip(x, low, high) - low) / step)
    return (low + levels * step).astype(np.float32)


def psg_channels(
    stages: np.ndarray, sfreq: float, rng: np.random.Generator, difficulty: float
) -> list[EdfChannel]:
    """The seven channels of a Sleep-EDF sleep-cassette PSG, in file order."""
    signals, profile = simulate_derivations(stages, sfreq, rng, difficulty, DERIVATIONS)
    asleep = per_second(np.isin(stages, [1, 2, 3, 4]).astype(float)[:, None])[:, 0]
    chin = per_second(profile[:, [COLUMNS.index("chin_emg")]])[:, 0]
    seconds = len(asleep)
    # Breathing slows in sleep; at 1 Hz, as Sleep-EDF stores it, the waveform is aliased.
    breath_hz = 0.28 - 0.05 * asleep + rng.normal(0.0, 0.01, seconds)
    resp = 200 * np.sin(2 * np.pi * np.cumsum(breath_hz)) + rng.normal(0.0, 20.0, seconds)
    # Core temperature falls by about half a degree over the night's sleep.
    temp = 37.2 - 0.5 * uniform_filter1d(asleep, 3600, mode="nearest")
    return [
        *(
            EdfChannel(
                label, recorded(x, PHYSICAL_RANGE_UV[label]), sfreq, "uV", PHYSICAL_RANGE_UV[label]
            )
            for label, x in signals.items()
        ),
        EdfChannel("Resp oro-nasal", resp, 1.0, "", (-2048.0, 2048.0)),
        EdfChannel(
            "EMG submental", chin * rng.lognormal(0.0, 0.3, seconds), 1.0, "uV", (0.0, 500.0)
        ),
        EdfChannel("Temp rectal", temp + rng.normal(0.0, 0.01, seconds), 1.0, "DegC", (34.0, 40.0)),
        EdfChannel("Event marker", np.zeros(seconds), 1.0, "", (0.0, 1.0)),
    ]
