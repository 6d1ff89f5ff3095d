"""
Stage a recording and read its outputs
======================================

Stage one night with :func:`tinysleepnet.stage`, look at the hypnogram, the per-epoch
probabilities and the sleep statistics, and write every file ``tinysleepnet predict``
writes.

The night is simulated (Sleep-EDF's layout: a ``-PSG.edf`` file and its expert
``-Hypnogram.edf``), and the model is a tiny TinySleepNet trained for 8 passes on seven
other simulated subjects (``_tiny.py`` beside this example). With your own files, pass the
path of your recording and your model (a checkpoint, a released model's folder or an
installed model's name) instead.
"""

# %%
# A recording and a model
# -----------------------
import _tiny

from tinysleepnet import stage

psg, _ = _tiny.unseen_night()
model = _tiny.tiny_model()
print(psg.name, "staged with", model)

# %%
# Stage it
# --------
# The channel defaults to the one the model was trained on (here ``EEG Fpz-Cz``). Every
# 30-s epoch is checked first (flat, clipped, non-finite or implausibly large signal);
# an epoch failing a check gets no stage.
result = stage(psg, model=model)
print(result.n_epochs, "epochs of", result.epoch_sec, "s, starting", result.start)
print("first stages:", result.stage_names[:10])

# %%
# One row per epoch: onset, clock time, stage, the probability of each stage and the
# confidence (the largest probability), as in ``<name>_hypnogram.csv``.
frame = result.to_frame()
print(frame.head(8).to_string())

# %%
# The hypnogram above the hypnodensity (the probabilities, stacked), as in
# ``<name>_hypnogram.png``.
figure = result.plot()

# %%
# Sleep statistics
# ----------------
# AASM statistics in minutes and percent; ``<name>_statistics.json`` holds the same
# dictionary with the provenance (tool version, model file and its SHA-256, input file).
stats = result.statistics()
for key in ("tib_min", "tst_min", "se_pct", "sol_min", "waso_min", "rem_latency_min"):
    print(f"{key:>16}: {stats[key]}")

# %%
# Every output file
# -----------------
# :meth:`~tinysleepnet.StagingResult.save` writes what ``tinysleepnet predict`` writes
# for one recording: CSV, EDF+ annotations, PNG, statistics (JSON and text) and the BIDS
# events table with its sidecar.
saved = result.save(_tiny.workdir() / "scored", psg.name.replace("-PSG.edf", ""))
for kind, path in sorted(saved.paths.items()):
    print(f"{kind:>15}: {path.name}")
