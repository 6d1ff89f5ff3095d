"""Signal quality of each 30-s epoch, checked before a network ever sees it.

An epoch fails when it holds non-finite samples (NaN, Inf), is flat (an electrode off, a
channel switched off), is clipped (samples stuck at the amplifier's or file's range),
holds amplitudes that scalp EEG in microvolts never reaches, or is still dominated by mains
hum after the mains filter. Such an epoch is *unscorable*:
staging gives it no stage, the sleep statistics leave it out and the LSTM state is carried
across it; ``prepare`` drops the non-finite ones from training nights.

The whole recording is also compared with the amplitude of the nights the model was
trained on (:func:`amplitude_factor`): a gain error of 10 in either direction still looks
like EEG epoch by epoch, yet the network, trained on raw microvolts, stages it wrongly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import PathError

#: Quality of a scorable epoch; any other value names why the epoch is unscorable.
OK = "ok"
#: Reasons an epoch is unscorable, in the order they are checked (the first one found is
#: reported).
NONFINITE, FLAT, AMPLITUDE, CLIPPED, MAINS = "nonfinite", "flat", "amplitude", "clipped", "mains"
REASONS = (NONFINITE, FLAT, AMPLITUDE, CLIPPED, MAINS)


@dataclass(frozen=True)
class QualitySettings:
    """Thresholds of the per-epoch and whole-recording checks.

    Attributes
    ----------
    flat_sd_uv : float
        An epoch whose standard deviation is below this (uV) is flat. 0.5 uV is below the
        input noise of PSG amplifiers (about 1 uV RMS) and far below the 10-50 uV of sleep
        EEG, so only a disconnected or switched-off input goes under it.
    artifact_uv : float
        Absolute amplitude (uV) beyond which a sample cannot be scalp EEG. Slow waves of N3
        reach 200-300 uV peak in young adults; 1000 uV is movement, an electrode pop or a
        wrong scale.
    artifact_fraction : float
        An epoch with more than this share of its samples beyond ``artifact_uv`` is
        unscorable. 1 % is 0.3 s of a 30-s epoch: a brief pop (tens of ms) leaves the epoch
        scorable, as a human scorer would score through it.
    clip_run : int
        Consecutive identical samples at the epoch's minimum or maximum that count as stuck
        at the rail. Three equal samples in a row do not happen in sampled EEG at 16-bit
        resolution (the signal moves by more than one step between samples at its peaks),
        while a clipped amplifier holds its rail for whole stretches.
    clip_fraction : float
        An epoch with more than this share of its samples stuck at a rail is clipped. 1 %
        (0.3 s) of saturation already flattens the peaks the network reads.
    amplitude_warn_factor : float
        The recording's median absolute amplitude may differ from the training nights' by
        up to this factor before a warning (named with the factor found). Median |x| varies
        between healthy adults' nights by about a factor of 2 to 3 (age, electrode
        impedance); a factor of 5 is beyond that and points to a gain or unit error.
    amplitude_refuse_factor : float
        Beyond this factor the recording is refused: at 30 times too large or small, the
        network's input lies outside anything it was trained on.
    mains_share : float
        An epoch holding more than this share of its power within ``mains_band_hz`` of the
        mains frequencies (50, 60 Hz and harmonics), after the mains filter
        (:mod:`tinysleepnet.io.filtering`), is still dominated by line noise: the filter
        could not remove it (mains off its nominal frequency, or far stronger than the
        notch's attenuation). Sleep EEG holds well under 1 % of its power there.
    mains_band_hz : float
        Half-width of the band around each mains harmonic, in Hz (mains drifts by well
        under 0.5 Hz).
    """

    flat_sd_uv: float = 0.5
    artifact_uv: float = 1000.0
    artifact_fraction: float = 0.01
    clip_run: int = 3
    clip_fraction: float = 0.01
    amplitude_warn_factor: float = 5.0
    amplitude_refuse_factor: float = 30.0
    mains_share: float = 0.5
    mains_band_hz: float = 1.0


def epoch_quality(
    epochs: np.ndarray,
    settings: QualitySettings | None = None,
    *,
    raw: np.ndarray | None = None,
    sfreq: float | None = None,
) -> np.ndarray:
    """Quality of each epoch: :data:`OK` or the first of :data:`REASONS` it fails.

    Parameters
    ----------
    epochs : ndarray of float, shape (n_epochs, epoch_samples)
        The signal in microvolts, cut into epochs: as the network sees it (filtered,
        :mod:`tinysleepnet.io.filtering`), for the amplitude and mains checks.
    settings : QualitySettings or None
        Thresholds; None takes the defaults.
    raw : ndarray or None
        The same epochs as recorded, before filtering, for the non-finite, flat and
        clipped checks (a filter smooths a rail away); None: ``epochs``.
    sfreq : float or None
        Sampling rate in Hz; the mains check runs only when it is given.

    Returns
    -------
    ndarray of str, shape (n_epochs,)
        ``"ok"``, ``"nonfinite"``, ``"flat"``, ``"amplitude"``, ``"clipped"`` or
        ``"mains"``.

    Examples
    --------
    >>> epochs = np.random.default_rng(0).normal(0, 20, (3, 3000))
    >>> epochs[1] = 0.0
    >>> epochs[2, 10] = np.nan
    >>> epoch_quality(epochs).tolist()
    ['ok', 'flat', 'nonfinite']
    """
    settings = settings or QualitySettings()
    epochs = np.asarray(epochs)
    recorded = epochs if raw is None else np.asarray(raw)
    finite = np.isfinite(recorded)
    nonfinite = ~finite.all(axis=1)
    r = np.where(finite, recorded, 0.0) if nonfinite.any() else recorded
    x = r if raw is None else np.where(np.isfinite(epochs), epochs, 0.0)
    flat = r.std(axis=1) < settings.flat_sd_uv
    high, low = r.max(axis=1), r.min(axis=1)
    stuck = _stuck_fraction(r, high, low, settings.clip_run, settings.clip_fraction)
    clipped = stuck > settings.clip_fraction
    if raw is not None:
        high, low = x.max(axis=1), x.min(axis=1)
    # only epochs reaching beyond artifact_uv can fail: the others are not scanned again
    artifact = np.zeros(len(x), dtype=bool)
    reach = np.flatnonzero((high > settings.artifact_uv) | (low < -settings.artifact_uv))
    share = np.mean(np.abs(x[reach]) > settings.artifact_uv, axis=1)
    artifact[reach] = share > settings.artifact_fraction
    mains = np.zeros(len(x), dtype=bool)
    if sfreq is not None:
        mains = mains_share(x, sfreq, settings.mains_band_hz) > settings.mains_share
    quality = np.full(len(epochs), OK, dtype=object)
    failed = {
        NONFINITE: nonfinite,
        FLAT: flat,
        AMPLITUDE: artifact,
        CLIPPED: clipped,
        MAINS: mains,
    }
    # assigned from the last reason to the first, so the first failed check is the one named
    for reason in reversed(REASONS):
        quality[failed[reason]] = reason
    return quality.astype(str)


def mains_share(epochs: np.ndarray, sfreq: float, band_hz: float = 1.0) -> np.ndarray:
    """Share of each epoch's power (its mean removed) within ``band_hz`` of the mains
    frequencies and their harmonics (:func:`~tinysleepnet.io.filtering.mains_harmonics`)."""
    from .filtering import mains_harmonics

    x = np.asarray(epochs, dtype=np.float64)
    power = np.abs(np.fft.rfft(x - x.mean(axis=1, keepdims=True), axis=1)) ** 2
    frequencies = np.fft.rfftfreq(x.shape[1], 1 / sfreq)
    near = np.zeros(frequencies.size, dtype=bool)
    for harmonic in mains_harmonics(sfreq):
        near |= np.abs(frequencies - harmonic) <= band_hz
    total = power.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, power[:, near].sum(axis=1) / total, 0.0)


def live_epochs(epochs: np.ndarray) -> np.ndarray:
    """Mask of the epochs that are finite and not constant: those that say what scale the
    signal is in (a flat or NaN stretch says nothing about units)."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(epochs).all(axis=1) & (np.ptp(epochs, axis=1) > 0)


#: Stride of the samples :func:`median_amplitude_uv` reads: a prime, so that no periodic
#: pattern (an artifact every 10th sample, mains hum) is over- or under-sampled.
_MEDIAN_STRIDE = 11


def median_amplitude_uv(epochs: np.ndarray, usable: np.ndarray) -> float:
    """Median absolute amplitude (uV) of the ``usable`` epochs, the figure
    ``reference_amplitude_uv`` of a checkpoint is compared with (NaN if there is none).

    Estimated on every 11th sample: over a night that is a quarter of a million samples,
    well within a percent of the full median, at an eleventh of the cost.
    """
    if not usable.any():
        return float("nan")
    return float(np.median(np.abs(epochs[:, ::_MEDIAN_STRIDE][usable])))


def compare_amplitude(
    median_uv: float, reference_uv: float, path: str | Path, settings: QualitySettings | None = None
) -> str | None:
    """Compare a recording's median |x| with the training nights' (``reference_uv``).

    Parameters
    ----------
    median_uv : float
        The recording's median absolute amplitude in uV (:func:`median_amplitude_uv`).
    reference_uv : float
        The training nights' median absolute amplitude in uV (stored in the checkpoint).
    path : str or Path
        The recording, named in the warning or error.
    settings : QualitySettings or None
        ``amplitude_warn_factor`` and ``amplitude_refuse_factor``; None takes the defaults.

    Returns
    -------
    str or None
        A one-line warning naming the factor when it exceeds ``amplitude_warn_factor``.

    Raises
    ------
    PathError
        When the factor exceeds ``amplitude_refuse_factor``.
    """
    settings = settings or QualitySettings()
    factor = median_uv / reference_uv
    spread = max(factor, 1 / factor)
    if spread <= settings.amplitude_warn_factor:
        return None
    found = (
        f"median |x| {median_uv:.3g} uV is {spread:.1f} times "
        f"{'larger' if factor > 1 else 'smaller'} than the model's training nights' "
        f"({reference_uv:.3g} uV)"
    )
    if spread > settings.amplitude_refuse_factor:
        raise PathError(path, f"{found}; refused (a gain or unit error?)")
    return f"{path}: {found}; check the gain and units, the stages may be wrong"


def _stuck_fraction(
    x: np.ndarray, high: np.ndarray, low: np.ndarray, run: int, at_least: float
) -> np.ndarray:
    """Share of each epoch's samples in runs of at least ``run`` identical values at the
    epoch's maximum ``high`` or minimum ``low``; 0 where fewer than ``at_least`` of its
    samples sit at a rail at all (so ordinary epochs, with one sample at each, cost two
    comparisons and no search for runs)."""
    share = np.zeros(len(x))
    at_rail = np.count_nonzero(x == high[:, None], axis=1)
    at_rail += np.count_nonzero(x == low[:, None], axis=1)
    candidates = np.flatnonzero((at_rail > at_least * x.shape[1]) & (high > low))
    if candidates.size == 0:
        return share
    y = x[candidates]
    rows, cols = np.nonzero((y == high[candidates, None]) | (y == low[candidates, None]))
    values = y[rows, cols]
    # a new run starts where the row, the value or the column's continuity changes
    starts = np.r_[True, (np.diff(rows) != 0) | (np.diff(cols) != 1) | (np.diff(values) != 0)]
    run_id = np.cumsum(starts) - 1
    stuck = np.bincount(run_id)[run_id] >= run
    share[candidates] = np.bincount(rows[stuck], minlength=len(y)) / x.shape[1]
    return share


#: Median absolute amplitude (uV) outside which a signal cannot be scalp EEG in microvolts,
#: and the scale it most likely is in. Sleep EEG has a median |x| of a few to ~50 uV.
_VOLTS_BELOW_UV = 1e-3
_MILLIVOLTS_BELOW_UV = 0.5
_COUNTS_ABOVE_UV = 5e3


def check_microvolts(
    signal_uv: np.ndarray, path: str | Path, recorded: np.ndarray | None = None
) -> None:
    """Refuse a signal whose amplitude makes no sense for EEG in microvolts.

    The network was trained on raw microvolts; a recording stored in volts (or raw ADC
    counts) would be staged confidently and wrongly, so it is refused instead. Pass the
    live part of the signal (:func:`~tinysleepnet.io.quality.live_epochs`): flat or
    non-finite stretches say nothing about its scale.

    ``recorded`` is the same signal before filtering (:mod:`tinysleepnet.io.filtering`),
    if it was: the signal is then refused only when both point to a wrong scale, and the
    message gives the recorded one's median. A DC offset makes the recorded one look like
    ADC counts, and spikes smeared by the filter the filtered one; neither is a scale
    error.

    Raises
    ------
    PathError
        Naming the scale the median absolute amplitude points to, or "flat" when the signal
        is empty or constant.
    """
    if recorded is not None:
        try:
            check_microvolts(signal_uv, path)
        except PathError:
            check_microvolts(recorded, path)  # raises if the recorded one is wrong too
            return
        return
    signal_uv = np.asarray(signal_uv)
    if signal_uv.size == 0 or np.ptp(signal_uv) == 0:
        raise PathError(path, "signal is flat (no epoch varies)")
    median = float(np.median(np.abs(signal_uv)))
    found = f"median |x| {median:.2g} uV"
    if median == 0:
        raise PathError(path, f"signal is flat ({found})")
    if median < _VOLTS_BELOW_UV:
        scale = "volts"
    elif median < _MILLIVOLTS_BELOW_UV:
        scale = "millivolts"
    elif median > _COUNTS_ABOVE_UV:
        scale = "nanovolts or raw ADC counts"
    else:
        return
    raise PathError(path, f"signal looks like it is in {scale} ({found}), expected microvolts")
