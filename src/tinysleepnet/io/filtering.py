"""Filtering a recording to the band the training nights were recorded in.

Sleep-EDF's EEG is high-passed at 0.5 Hz by its amplifier (its EDF header: ``HP:0.5Hz``), so
the network never saw a DC offset, a slow drift or mains hum. A recording from another
amplifier may carry all three; staging filters it first (:class:`SignalFilter`), so an
offset or a drift is removed rather than taken for a gain error, and mains at 50 or 60 Hz
is notched out (at the rate's Nyquist frequency too, where 50 Hz lies for 100 Hz).

The filter is causal (each output sample depends only on earlier ones, as an amplifier's
analog filter), so online staging (:class:`~tinysleepnet.prediction.online.Stager`) filters
each block as it arrives and gets the samples offline staging gets.
"""

from __future__ import annotations

import numpy as np
from scipy import signal as sps

#: Mains frequencies (Hz) notched out, with their harmonics below the Nyquist frequency.
MAINS_HZ = (50.0, 60.0)
#: The high-pass cutoff is this share of the training nights' band edge (``highpass_hz``):
#: 0.1 Hz for Sleep-EDF's 0.5 Hz. What lies below the band (an offset, a drift over tens of
#: seconds or more) goes, and the band itself is left as the network saw it (on SC4001E0's
#: Fpz-Cz, the whole filter, notches included, removes 0.5 % of the power); a cutoff at the
#: band edge itself would filter the training band a second time (26 % of that night's
#: power, from the slow waves of N3).
HIGHPASS_SHARE = 0.2
#: Order of the Butterworth high-pass.
HIGHPASS_ORDER = 2
#: Quality factor of each mains notch (bandwidth ``f / Q``: 1.7 Hz at 50 Hz).
NOTCH_Q = 30.0
#: A mains harmonic within this many Hz of the Nyquist frequency (50 Hz at 100 Hz) is
#: removed by a notch at the Nyquist frequency: zeros at z = -1, poles at z =
#: -:data:`NYQUIST_POLE` (attenuation 0.08 at 49.5 Hz, 0.9 at 45 Hz, none below 30 Hz).
NYQUIST_BAND_HZ = 1.0
NYQUIST_POLE = 0.9


def mains_harmonics(sfreq: float) -> list[float]:
    """Every harmonic of :data:`MAINS_HZ` up to the Nyquist frequency of ``sfreq``, in Hz."""
    nyquist = sfreq / 2
    return sorted({k * mains for mains in MAINS_HZ for k in range(1, int(nyquist // mains) + 1)})


def filter_sections(sfreq: float, highpass_hz: float) -> np.ndarray:
    """Second-order sections of the filter for a rate ``sfreq`` (Hz): a Butterworth
    high-pass at :data:`HIGHPASS_SHARE` of ``highpass_hz`` (none at 0) and a notch per mains
    harmonic (at the Nyquist frequency, the Nyquist notch)."""
    nyquist = sfreq / 2
    sections = []
    if highpass_hz > 0:
        cutoff = HIGHPASS_SHARE * highpass_hz
        sections.append(sps.butter(HIGHPASS_ORDER, cutoff, "highpass", fs=sfreq, output="sos"))
    harmonics = mains_harmonics(sfreq)
    for frequency in harmonics:
        if frequency < nyquist - NYQUIST_BAND_HZ:
            b, a = sps.iirnotch(frequency, NOTCH_Q, fs=sfreq)
            sections.append(sps.tf2sos(b, a))
    if any(frequency >= nyquist - NYQUIST_BAND_HZ for frequency in harmonics):
        r, gain = NYQUIST_POLE, ((1 + NYQUIST_POLE) / 2) ** 2  # unit gain at 0 Hz
        sections.append(np.array([[gain, 2 * gain, gain, 1.0, 2 * r, r * r]]))
    return np.concatenate(sections) if sections else np.empty((0, 6))


class SignalFilter:
    """The causal filter of :func:`filter_sections`, applied block by block.

    The state is carried from one call to the next, and starts as if the first sample had
    been there for ever (so a DC offset starts no transient). Non-finite samples pass
    through as NaN; the filter sees the last finite value in their place.

    Parameters
    ----------
    sfreq : float
        Sampling rate of the samples, in Hz.
    highpass_hz : float
        Lower edge (Hz) of the training nights' band (``Config.highpass_hz``); the
        high-pass cuts at :data:`HIGHPASS_SHARE` of it; 0 for none.

    Examples
    --------
    >>> rate = 100.0
    >>> offset = np.full(3000, 5000.0) + np.random.default_rng(0).normal(0, 20, 3000)
    >>> bool(abs(np.median(SignalFilter(rate, 0.5)(offset))) < 5)
    True
    """

    def __init__(self, sfreq: float, highpass_hz: float) -> None:
        self.sections = filter_sections(sfreq, highpass_hz)
        self.reset()

    def reset(self) -> None:
        """Forget the samples seen: the next block starts a new recording."""
        self._state: np.ndarray | None = None
        self._last = 0.0

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        """The next block of samples (uV), filtered; float32, the shape of ``samples``."""
        x = np.asarray(samples, dtype=np.float64).ravel()
        if x.size == 0 or len(self.sections) == 0:
            return x.astype(np.float32)
        finite = np.isfinite(x)
        if not finite.all():  # hold the last finite value over NaN/Inf
            index = np.where(finite, np.arange(x.size), -1)
            np.maximum.accumulate(index, out=index)
            x = np.where(index >= 0, x[np.maximum(index, 0)], self._last)
        if self._state is None:
            self._state = sps.sosfilt_zi(self.sections) * x[0]
        y, self._state = sps.sosfilt(self.sections, x, zi=self._state)
        self._last = float(x[-1])
        y[~finite] = np.nan
        return y.astype(np.float32)
