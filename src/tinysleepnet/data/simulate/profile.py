"""Stage profiles: the features of each stage's EEG, drawn per 30-s epoch of a night."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import lfilter

from ...errors import TinySleepNetError
from ...stages import EPOCH_SEC, N_STAGES, UNSCORED

SECONDS_PER_EPOCH = int(EPOCH_SEC)
_BLEND_SEC = 8  # stages fade into each other over this long, in seconds

# Stage profiles: one value per row W, N1, N2, N3, REM, unscored ("?", Movement time).
_ROW_UNSCORED = N_STAGES

#: Rate of each transient, per minute. Eye movements: "saccade" and "slow_eye" are horizontal
#: (large on the EOG, hardly seen on the midline Fpz-Cz), "blink" and "vertical" are vertical
#: (on Fpz-Cz, hardly on the horizontal EOG): in SC4001E0 the Fpz-Cz and EOG correlate at
#: 0.02 in W although both carry large eye potentials. Rates chosen so that the detectors of
#: benchmarks/sim_vs_real.py count on the simulated nights what they count on SC4001E0
#: (Fpz-Cz blinks W 5/min, EOG excursions W 30, N1 3.7, REM 7.2/min); spindle density and
#: K-complexes from the literature (frontal spindles 1-5/min in N2, K-complexes ~1/min:
#: De Gennaro & Ferrara 2003, Sleep Med Rev 7:423; Halasz 2005, Sleep Med Rev 9:391),
#: the measured Fpz-Cz count being 1.0 spindle and 0.65 K-complex per minute of N2. Wake's
#: eye-movement rates are those of median wake activity (:func:`wake_activity` scales them).
#: Movement artefacts: rare enough that, as in SC4001E0, under 1 % of wake epochs and no
#: sleep epoch reach the +/-192 uV rails of Fpz-Cz (there: 1 of 841 epochs, a wake one).
_TRANSIENT_PER_MIN: dict[str, tuple[float, ...]] = {
    "blink": (3.0, 0.7, 0.0, 0.0, 0.0, 6.0),
    "vertical": (9.0, 1.0, 0.0, 0.0, 0.3, 8.0),
    "saccade": (8.0, 1.0, 0.0, 0.0, 7.0, 8.0),
    "slow_eye": (2.0, 4.0, 0.3, 0.0, 0.5, 1.0),
    "vertex": (0.0, 1.0, 0.3, 0.0, 0.1, 0.0),
    "spindle": (0.0, 0.3, 3.0, 1.0, 0.0, 0.0),
    "k_complex": (0.0, 0.2, 1.0, 0.3, 0.0, 0.0),
    "sawtooth": (0.0, 0.2, 0.0, 0.0, 1.5, 0.0),
    "movement": (0.1, 0.05, 0.02, 0.01, 0.03, 1.5),
    "pop": (0.01, 0.01, 0.01, 0.01, 0.01, 0.01),
}
#: Transients whose rate swings from epoch to epoch (eyes closed or open, phasic or tonic REM):
#: log-normal spread between epochs, smoothed over a few epochs. SC4001E0's wake and REM
#: epochs differ that much: Fpz-Cz SD W 9-33 uV, EOG SD REM 11-58 uV (10th-90th percentile).
_BURSTY = {"blink": 1.0, "vertical": 1.2, "saccade": 1.0, "slow_eye": 0.6}
_BURST_EPOCHS = 5
#: Wake is not one state: on SC4001E0's Fpz-Cz, wake epochs range from quiet (eyes closed,
#: SD 9 uV) to active (eye movements and muscle, SD 33 uV; 10th-90th percentile), and the
#: eye-movement power (EOG 0.5-2 Hz), the Fpz-Cz delta and its 20-40 Hz muscle power rise and
#: fall together (correlations 0.80-0.86 over the 188 wake epochs) while occipital alpha
#: falls (Pz-Oz 8-12 Hz: -0.48), and persist over minutes (benchmarks/sim_vs_real.py
#: --measure). One latent "wake activity" per epoch drives all of them: the ongoing spectra
#: (:data:`.spectra.WAKE_ACTIVITY_LOG10`) and the eye movements' rates. Its distribution is
#: skewed as the real one (the standardised sum of those three log powers: median 0.40,
#: 5th percentile -1.91, 95th 1.13: mostly active wake, a tail of quiet epochs), from an
#: AR(1) series ``a`` through ``(1 - exp(-k a)) / k``, standardised; k and the series' lag-1
#: autocorrelation chosen so that the activity measured the same way on simulated nights has
#: the real night's quantiles and lag-1 autocorrelation (0.75).
WAKE_ACTIVITY_LAG1 = 0.8
_WAKE_ACTIVITY_SKEW = 0.71  # k: ratio exp(1.645 k) = 3.2 of the 5th and 95th percentiles' gaps
#: log10 of each eye movement's rate per s.d. of activity (with the ongoing EOG's
#: WAKE_ACTIVITY_LOG10 it gives the real night's rise of EOG 0.5-4 Hz power, 0.6-0.8 log10).
_WAKE_EYE_LOG10_RATE = 0.45
_EYE_KINDS = ("blink", "vertical", "saccade", "slow_eye")
#: Per subject, the mean wake activity and its spread vary (one night cannot fix how much of
#: a subject's wake is spent with eyes closed: a range, not a point): mean ~ N(0, 0.3),
#: spread x U(0.75, 1.25).
_WAKE_ACTIVITY_MEAN_SD = 0.3
_WAKE_ACTIVITY_SCALE = (0.75, 1.25)
#: Submental muscle tone (RMS, uV): high awake, atonia in REM.
_CHIN_EMG_UV = (15.0, 8.0, 6.0, 5.0, 2.0, 20.0)

COLUMNS = (*_TRANSIENT_PER_MIN, "chin_emg")
_PROFILE = np.array([*_TRANSIENT_PER_MIN.values(), _CHIN_EMG_UV]).T

#: Which stage an epoch of each row may borrow features from (probabilities, same row order).
_RESEMBLES = np.array(
    [
        [0.0, 0.7, 0.0, 0.0, 0.3, 0.0],  # W looks like N1 (drowsy) or REM
        [0.35, 0.0, 0.35, 0.0, 0.3, 0.0],  # N1 sits between W, N2 and REM
        [0.0, 0.4, 0.0, 0.6, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        [0.3, 0.7, 0.0, 0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ]
)
#: How much each row borrows at difficulty 1 (scale of a Beta(2, 3) fraction).
_AMBIGUITY = np.array([0.25, 0.6, 0.3, 0.35, 0.35, 0.2])


def check_stages(stages: np.ndarray) -> np.ndarray:
    """``stages`` as an array, refused unless a non-empty 1-D array of class ids or
    :data:`~tinysleepnet.stages.UNSCORED` (:class:`~tinysleepnet.errors.TinySleepNetError`)."""
    stages = np.asarray(stages)
    if stages.ndim != 1 or len(stages) == 0:
        raise TinySleepNetError(f"stages must be a non-empty 1-D array, got shape {stages.shape}")
    bad = ~np.isin(stages, [*range(N_STAGES), UNSCORED])
    if bad.any():
        raise TinySleepNetError(
            f"stages must be class ids 0..4 or {UNSCORED}; got {stages[bad][0]}"
        )
    return stages.astype(np.int64)


@dataclass(frozen=True)
class Mixture:
    """What each epoch of a night is made of: its stage's features and a share of another's.

    Attributes
    ----------
    rows, partner : ndarray of int, shape (n_epochs,)
        Profile row of the epoch (0..4 the stages, 5 unscored) and of the stage it borrows from.
    borrowed : ndarray of float, shape (n_epochs,)
        Share of the partner's features, 0..0.5.
    """

    rows: np.ndarray
    partner: np.ndarray
    borrowed: np.ndarray

    def mix(self, table: np.ndarray) -> np.ndarray:
        """Per epoch, a table's row (shape (6, ...)) mixed with its partner's row."""
        share = self.borrowed.reshape(-1, *([1] * (table.ndim - 1)))
        return (1 - share) * table[self.rows] + share * table[self.partner]


def stage_mixture(stages: np.ndarray, rng: np.random.Generator, difficulty: float) -> Mixture:
    """Each epoch borrows a random share of the features of a neighbouring epoch's stage (or,
    inside a run, of a stage it resembles)."""
    rows = np.where(stages == UNSCORED, _ROW_UNSCORED, stages)
    previous, following = np.r_[rows[0], rows[:-1]], np.r_[rows[1:], rows[-1]]
    resembling = (rng.random((len(rows), 1)) > _RESEMBLES[rows].cumsum(axis=1)).sum(axis=1)
    partner = np.where(
        following != rows, following, np.where(previous != rows, previous, resembling)
    )
    borrowed = np.minimum(difficulty * _AMBIGUITY[rows] * rng.beta(2.0, 3.0, len(rows)), 0.5)
    return Mixture(rows, partner, borrowed)


def wake_activity(mixture: Mixture, rng: np.random.Generator, difficulty: float) -> np.ndarray:
    """Per epoch, the latent wake activity (s.d. ~1 across a subject's wake, 0 at difficulty
    0) times the epoch's share of wake features; 0 in sleep epochs.

    An AR(1) series over the night (lag-1 autocorrelation :data:`WAKE_ACTIVITY_LAG1`), shifted
    and scaled per subject.
    """
    n = len(mixture.rows)
    rho = WAKE_ACTIVITY_LAG1
    innovations = rng.standard_normal(n)
    innovations[1:] *= np.sqrt(1 - rho**2)  # stationary: s.d. 1 from the first epoch
    series = lfilter([1.0], [1.0, -rho], innovations)
    k = _WAKE_ACTIVITY_SKEW
    skewed = (1 - np.exp(-k * series)) / k
    # standardised with the transform's exact mean and s.d. for a standard normal series
    skewed -= (1 - np.exp(k**2 / 2)) / k
    skewed /= np.sqrt(np.exp(2 * k**2) - np.exp(k**2)) / k
    mean = rng.normal(0.0, _WAKE_ACTIVITY_MEAN_SD)
    scale = rng.uniform(*_WAKE_ACTIVITY_SCALE)
    share = (mixture.rows == 0) * (1 - mixture.borrowed) + (mixture.partner == 0) * mixture.borrowed
    return min(difficulty, 1.0) * (mean + scale * skewed) * share


def epoch_profile(
    mixture: Mixture, rng: np.random.Generator, difficulty: float, activity: np.ndarray
) -> np.ndarray:
    """Per epoch, the rate of every transient and the chin EMG level (columns :data:`COLUMNS`).

    Every feature varies between nights and between epochs; eye movements come in bursts and,
    in wake, follow the wake ``activity`` (:func:`wake_activity`).
    """
    profile = mixture.mix(_PROFILE)
    night = rng.normal(0.0, 0.2 * difficulty, len(COLUMNS))
    epoch = rng.normal(0.0, 0.15 * difficulty, profile.shape)
    for kind, spread in _BURSTY.items():
        spread *= difficulty
        swing = uniform_filter1d(rng.standard_normal(len(profile)), _BURST_EPOCHS, mode="nearest")
        epoch[:, COLUMNS.index(kind)] = spread * np.sqrt(_BURST_EPOCHS) * swing - spread**2 / 2
    for kind in _EYE_KINDS:
        epoch[:, COLUMNS.index(kind)] += np.log(10) * _WAKE_EYE_LOG10_RATE * activity
    return profile * np.exp(night + epoch)


def per_second(epoch_values: np.ndarray) -> np.ndarray:
    """Per-epoch values, one row per second, ramping from epoch to epoch over a few seconds."""
    seconds = np.repeat(epoch_values, SECONDS_PER_EPOCH, axis=0)
    return uniform_filter1d(seconds, _BLEND_SEC, axis=0, mode="nearest").astype(np.float32)
