"""
Compare a staging with an expert hypnogram
==========================================

Align an expert's hypnogram with a staging, score the agreement (accuracy, macro-F1,
Cohen's kappa, confusion matrix) and draw both hypnograms, as ``tinysleepnet predict
--hypnogram`` does.

Simulated night and tiny model, as in every example (``_tiny.py``): the scores measure
the pipeline, not TinySleepNet on real EEG.
"""

# %%
import _tiny
import matplotlib.pyplot as plt
import numpy as np

from tinysleepnet import stage
from tinysleepnet.prediction.expert import expert_labels
from tinysleepnet.stages import STAGES, UNSCORED

psg, hypnogram = _tiny.unseen_night()
result = stage(psg, model=_tiny.tiny_model())

# %%
# One expert stage per staged epoch
# ---------------------------------
# The hypnogram is read, shifted to the recording's start when it starts a whole number
# of epochs earlier or later, and cut to the staged epochs; epochs the expert left
# unscored (``?``, movement) are ``UNSCORED``. The notes say what was adjusted.
labels, notes = expert_labels(hypnogram, result, result.start)
print(len(labels), "epochs,", int(np.sum(labels == UNSCORED)), "not scored by the expert")
print(notes)

# %%
# Agreement
# ---------
agreement = result.agreement(labels)
print(f"accuracy {agreement['acc']:.3f}  macro-F1 {agreement['mf1']:.3f}  "
      f"kappa {agreement['kappa']:.3f}")
print("confusion (rows: expert, columns: predicted;", " ".join(STAGES), ")")
print(np.asarray(agreement["confusion"]))

# %%
# Both hypnograms
# ---------------
# Stage ids 0..4 are W, N1, N2, N3, REM; the plot puts W on top, as hypnograms do.
hours = np.arange(result.n_epochs) * result.epoch_sec / 3600
fig, ax = plt.subplots(figsize=(8, 3))
shown = np.where(labels == UNSCORED, np.nan, labels)
ax.step(hours, shown, where="post", label="expert", color="0.4", linewidth=2)
ax.step(hours, result.stages, where="post", label="tinysleepnet", color="C0", linewidth=1)
ax.set_yticks(range(len(STAGES)), STAGES)
ax.invert_yaxis()
ax.set_xlabel("hours since the recording's start")
ax.legend(loc="lower right")
fig.tight_layout()
