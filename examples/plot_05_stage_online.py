"""
Stage online, epoch by epoch
============================

Feed samples to a :class:`tinysleepnet.Stager` as an amplifier would deliver them; each
30-s epoch is staged as soon as it is complete, with the LSTM state carried from epoch to
epoch. The result equals the whole-night staging.

Simulated night and tiny model (``_tiny.py``).
"""

# %%
import _tiny
import numpy as np

from tinysleepnet import Stager, stage
from tinysleepnet.io.recordings import read_eeg
from tinysleepnet.stages import STAGES

psg, _ = _tiny.unseen_night()
model = _tiny.tiny_model()
recording = read_eeg(psg, "EEG Fpz-Cz")  # microvolts at the model's rate, 100 Hz
print(recording.signal_uv.shape, "samples at", recording.sfreq, "Hz")

# %%
# One-second blocks
# -----------------
# ``push`` takes a block of any size and returns ``(epoch index, stage, probabilities)``
# for every epoch the block completed.
stager = Stager(model, start=recording.start)
block = int(recording.sfreq)
staged = []
for first in range(0, recording.signal_uv.size, block):
    for index, stage_id, proba in stager.push(recording.signal_uv[first : first + block]):
        staged.append((index, stage_id, proba))
        if index < 5:
            print(f"epoch {index}: {STAGES[stage_id]} (p = {proba.max():.2f})")
print(len(staged), "epochs staged online")

# %%
# The same as the whole night
# ---------------------------
# Epochs that fail the signal checks get no stage either way (their probabilities are NaN);
# the LSTM state is carried across them.
online = np.array([proba for _, _, proba in staged])
whole = stage(psg, model=model)
scorable = whole.scorable
print(int(np.sum(~scorable)), "unscorable epochs")
print("largest difference in probability:",
      float(np.abs(online[scorable] - whole.proba[scorable]).max()))
