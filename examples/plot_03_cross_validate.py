"""
Cross-validate a small cohort
=============================

Prepare a cohort, run a subject-wise cross-validation with
:func:`tinysleepnet.cross_validate` and pool its test epochs with
:func:`tinysleepnet.evaluate_run`: ``tinysleepnet prepare``, ``cv`` and ``evaluate`` in
Python.

Eight simulated subjects of one 2.5-h night each, four folds, a tiny model and four passes per
fold: the pooled scores of a simulated cohort, which say the pipeline works. A real run
uses the ``paper`` preset (the default) on the real cohort, e.g. 20 folds of
Sleep-EDF-20.
"""

# %%
# Prepared nights
# ---------------
# ``prepare`` pairs every PSG with its hypnogram, reads the channel, cuts 30-s epochs,
# maps R&K stages to AASM and keeps 30 min of wake around sleep (the authors' rule).
import _tiny
import pandas as pd

from tinysleepnet import cross_validate, evaluate_run, load_nights

prepared = _tiny.prepared()
print(pd.read_csv(prepared / "manifest.csv")[["name", "subject", "n_epochs", "W", "N1", "N2",
                                              "N3", "REM"]].to_string(index=False))
nights = load_nights(prepared)
print(len(nights), "nights; signal of the first:", nights[0].signal_uv.shape, "(epochs, samples)")

# %%
# Subject-wise folds
# ------------------
# Subjects are sorted and cut into contiguous blocks, one per fold; in each fold 10 % of
# the training subjects (at least one) choose the checkpoint, drawn with seed 42 + fold as
# the authors draw them. Each fold also fits a temperature for calibrated probabilities.
# A rerun continues the folds not done yet.
run = _tiny.workdir() / "cv"
config = _tiny.TINY.replace(max_passes=4, patience=4)
done = cross_validate(prepared, run, n_folds=4, config=config, progress=False)
print([fold.name for fold in done])

# %%
# Pooled scores
# -------------
# Every test epoch of every fold in one confusion matrix; ``RUN/evaluation`` also holds
# ``scores.md``, ``scores.json``, ``confusion.png`` and ``reliability.png``.
report = evaluate_run(run)
pooled = report["pooled"]
print(f"simulated cohort, {report['n_folds']} folds: ACC {pooled['acc']:.3f} "
      f"MF1 {pooled['mf1']:.3f} kappa {pooled['kappa']:.3f}")
print(pd.DataFrame(report["folds"]).to_string(index=False))
print(sorted(path.name for path in (run / "evaluation").iterdir()))
