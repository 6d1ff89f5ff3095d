"""Simulated nights: stage sequences, EEG, EDF file pairs and cohorts.

A simulated night is what Sleep-EDF's sleep-cassette study holds for one night: a PSG file
``SC4ssNE0-PSG.edf`` with its seven channels and a hypnogram file ``SC4ssNx?-Hypnogram.edf``
of Rechtschaffen & Kales (R&K) annotations that runs past the end of the signal. The stage
sequence is either simulated (:func:`simulate_hypnogram`) or taken from a real hypnogram,
such as the packaged official ones (:mod:`tinysleepnet.data.resources`).

The EEG (:func:`simulate_eeg`) is built from the textbook ingredients of each stage (AASM
scoring manual; Rechtschaffen & Kales 1968) on a 1/f background, with amplitudes of
frontal EEG in microvolts:

- W: alpha (8-12 Hz) of relaxed wakefulness, muscle (beta/EMG) activity, eye blinks and
  saccades, which a frontal electrode picks up.
- N1: alpha replaced by theta (4-7 Hz), vertex sharp waves, slow eye movements.
- N2: sleep spindles (11-16 Hz, 0.5-2 s) and K-complexes (100-200 uV peak to peak).
- N3: slow waves (0.5-2 Hz) of at least 75 uV peak to peak.
- REM: low-voltage theta, sawtooth waves (2-4 Hz), rapid eye movements, muscle atonia.

Stages blend into each other over several seconds, each epoch borrows some features of a
neighbouring stage, and every night has its own gains, so that a classifier finds the
cohort learnable but not trivial; N1, a transitional stage, is the hardest, as on real data.

One module per job: :mod:`.hypnogram` (stage sequences), :mod:`.profile` (each stage's
features per epoch), :mod:`.transients`, :mod:`.eeg` (EEG and EOG), :mod:`.channels` (the
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
