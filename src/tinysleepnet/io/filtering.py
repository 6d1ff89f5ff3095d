"""Filtering a recording to the band the training nights were recorded in.

Sleep-EDF's EEG is high-passed at 0.5 Hz by its amplifier (its EDF header: ``HP:0.5Hz``), so
the network never saw a DC offset, a slow drift or mains hum. A recording from another
amplifier may carry all three; staging filters it first (:class:`SignalFilter`), so an
offset or a drift is removed rather than taken for a gain error, and mains at 50 or 60 Hz
is notched out (or, where it lies at the rate's Nyquist frequency, low-passed away).

The filter is causal (each output sample depends only on earlier ones, as an amplifier's
analog filter), so online staging (:class:`~tinysleepnet.prediction.online.Stager`) filters
each block as it arrives and gets the samples offline staging gets.
"""

from __future__ import annotations

import numpy as np
from scipy import signal as sps

#: Mains frequencies (Hz) notched out, with their harmonics below the Nyquist frequency.
MAINS_HZ = (50.0, 60.0)
#: Order of the Butterworth high-pass.
HIGHPASS_ORDER = 2
#: Quality factor of each mains notch (bandwidth ``f / Q``: 1.7 Hz at 50 Hz).
NOTCH_Q = 30.0
#: Share of the Nyquist frequency up to which a mains harmonic is notched; one lying above
#: it (50 Hz at 100 Hz) is removed by a low-pass at :data:`LOWPASS_SHARE` of Nyquist instead,
#: whose zero at the Nyquist frequency cancels it.
NOTCH_BELOW_SHARE = 0.9
LOWPASS_SHARE = 0.85
LOWPASS_ORDER = 4


def mains_harmonics(sfreq: float) -> list[float]:
    """Every harmonic of :data:`MAINS_HZ` up to the Nyquist frequency of ``sfreq``, in Hz."""
    nyquist = sfreq / 2
    return sorted({k * mains for mains in MAINS_HZ for k in range(1, int(nyquist // mains) + 1)})


def filter_sections(sfreq: float, highpass_hz: float) -> np.ndarray:
    """Second-order sections of the filter for a rate ``sfreq`` (Hz): a Butterworth
    high-pass at ``highpass_hz`` (none at 0), a notch per mains harmonic, and a low-pass
    where a harmonic lies near the Nyquist frequency."""
    nyquist = sfreq / 2
    sections = []
    if highpass_hz > 0:
        sections.append(sps.butter(HIGHPASS_ORDER, highpass_hz, "highpass", fs=sfreq, output="sos"))
    harmonics = mains_harmonics(sfreq)
    for frequency in harmonics:
        if frequency < NOTCH_BELOW_SHARE * nyquist:
            b, a = sps.iirnotch(frequency, NOTCH_Q, fs=sfreq)
            sections.append(sps.tf2sos(b, a))
    if any(frequency >= NOTCH_BELOW_SHARE * nyquist for frequency in harmonics):
        cutoff = LOWPASS_SHARE * nyquist
        sections.append(sps.butter(LOWPASS_ORDER, cutoff, "lowpass", fs=sfreq, output="sos"))
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
        High-pass cutoff in Hz, the band of the training nights (``Config.highpass_hz``);
        0 for none.

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
