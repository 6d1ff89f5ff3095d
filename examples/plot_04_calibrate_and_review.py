"""
Calibrate the confidence and use the review queue
=================================================

Fit a temperature on validation nights so that the staged probabilities mean what they
say, then flag the least confident epochs for a human scorer and see how much correcting
them would gain: ``tinysleepnet predict --review 10%`` in Python.

Simulated nights and a tiny model (``_tiny.py``).
"""

# %%
# Calibration
# -----------
# A network is usually over-confident on nights it never saw. One temperature, fitted by
# likelihood on the validation nights (here subject 1, which chose the checkpoint),
# divides the logits; stages, and so every score, are unchanged. A CV fold and a release
# do this after training.
import shutil

import _tiny
import numpy as np

from tinysleepnet import load_nights, stage
from tinysleepnet.prediction.expert import expert_labels
from tinysleepnet.scoring.calibration import expected_calibration_error
from tinysleepnet.stages import UNSCORED
from tinysleepnet.training.calibrate import calibrate_checkpoint

calibrated = _tiny.workdir() / "calibrated.pt"
shutil.copy(_tiny.tiny_model(), calibrated)
valid = [night for night in load_nights(_tiny.prepared()) if int(night.subject) == 1]
temperature = calibrate_checkpoint(calibrated, valid)
print(f"temperature {temperature:.2f}")

# %%
# On a night neither model saw, compare the expected calibration error (how far the
# confidence is from the accuracy, on average) before and after.
psg, hypnogram = _tiny.unseen_night()
before = stage(psg, model=_tiny.tiny_model())
after = stage(psg, model=calibrated, review="10%")
labels, _ = expert_labels(hypnogram, after, after.start)
# Compared: the epochs the expert scored and whose signal passed the checks (an unscorable
# epoch has no stage and no probabilities).
scored = (labels != UNSCORED) & after.scorable
for name, result in (("uncalibrated", before), ("calibrated", after)):
    ece = expected_calibration_error(result.proba[scored], labels[scored])
    print(f"{name:>12}: ECE {100 * ece:.1f} %, same stages: "
          f"{np.array_equal(result.stages, before.stages)}")

# %%
# The review queue
# ----------------
# ``review="10%"`` flags the least confident 10 % of epochs (``review=0.6`` would flag
# those whose most probable stage is below 0.6). They get ``review = 1`` in the CSV, a
# ``Review`` EDF+ annotation and an orange band in the PNG.
print(int(after.review.sum()), "of", after.n_epochs, "epochs flagged")
print(after.to_frame()[["onset_sec", "stage", "confidence", "review"]].head(8).to_string())

# %%
# With an expert hypnogram, the agreement says what the flags buy: the accuracy on the
# unflagged epochs, on the flagged ones, and once the flagged ones are corrected.
review = after.agreement(labels)["review"]
for key, value in review.items():
    print(f"{key:>24}: {value}")

# %%
figure = after.plot()
