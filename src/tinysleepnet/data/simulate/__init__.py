"""Simulated nights: stage sequences, EEG, EDF file pairs and cohorts.

A simulated night is what Sleep-EDF's sleep-cassette study holds for one night: a PSG file
``SC4ssNE0-PSG.edf`` with its seven channels and a hypnogram file ``SC4ssNx?-Hypnogram.edf``
of Rechtschaffen & Kales (R&K) annotations that runs past the end of the signal. The stage
sequence is either simulated (:func:`simulate_hypnogram`) or taken from a real hypnogram,
such as the packaged official ones (:mod:`tinysleepnet.data.resources`).

The EEG and EOG (:func:`simulate_eeg`) are calibrated to a real night, Sleep-EDF's SC4001E0
(``benchmarks/sim_vs_real.py`` measures it and the simulation side by side):

- the ongoing activity of each stage and derivation (Fpz-Cz, Pz-Oz, horizontal EOG) has that
  night's median spectrum (:mod:`.spectra`), Pz-Oz anticorrelated with Fpz-Cz as measured,
  waxing and waning within epochs as much as the real epochs' kurtosis says;
- transients: eye movements (horizontal ones on the EOG, blinks and vertical ones on
  Fpz-Cz; in bursts), vertex waves, spindles and K-complexes, REM sawtooth waves, movement
  and electrode artefacts, at rates and sizes that the same detectors count on both;
- the recording chain: the amplifier's 0.5-Hz high-pass, the cassette chain's echo, 12-bit
  samples clipped at the physical ranges of the real file (+/-192 uV on Fpz-Cz).

On this frontal derivation wake is dominated by eye movements and muscle, not alpha (as in
SC4001E0), and ranges from quiet, eyes-closed epochs to active ones: one latent wake
activity per epoch, persistent over minutes, raises eye movements, delta and muscle together
and lowers occipital alpha, as they covary in that night's wake. One night fixes one
subject's values; each simulated night varies them (gains, band powers, frequencies, 1/f
exponent, event rates, how active its wake is) by what is known to vary between people.
Stages blend into each other over several seconds and each epoch borrows some features of a
neighbouring stage, so N1, a transitional stage, is the hardest, as on real data.

One module per job: :mod:`.hypnogram` (stage sequences), :mod:`.profile` (each stage's
features per epoch), :mod:`.spectra` (the measured spectra and their synthesis),
:mod:`.transients`, :mod:`.eeg` (EEG and EOG, the recording chain), :mod:`.channels` (the
other PSG channels), :mod:`.night` (one night's files), :mod:`.cohort` (Sleep-EDF-shaped
cohorts) and :mod:`.mass` (nights in MASS's layout).
"""

from .channels import SLEEP_EDF_CHANNELS
from .cohort import simulate_cohort
from .eeg import simulate_eeg
from .hypnogram import DEFAULT_N_EPOCHS, SeedLike, simulate_hypnogram
from .mass import SimulatedMassNight, simulate_mass_cohort, simulate_mass_night
from .night import DEFAULT_START, SimulatedNight, simulate_night

__all__ = [
    "DEFAULT_N_EPOCHS",
    "DEFAULT_START",
    "SLEEP_EDF_CHANNELS",
    "SeedLike",
    "SimulatedMassNight",
    "SimulatedNight",
    "simulate_cohort",
    "simulate_eeg",
    "simulate_hypnogram",
    "simulate_mass_cohort",
    "simulate_mass_night",
    "simulate_night",
]
