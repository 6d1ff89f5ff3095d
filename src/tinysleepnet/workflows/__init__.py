"""Workflows: whole experiments as declared lists of resumable steps over one run folder.

- :mod:`.steps`: :class:`~.steps.Step` and :class:`~.steps.Workflow` (each step announced
  ``[i/n]``, what is done skipped, the rest resumed), and the steps every experiment shares
  (prepare, cross-validate, evaluate).
- :mod:`.layout`: the run folder every workflow writes (:class:`~.layout.RunFolder`).
- :mod:`.demo`: ``tinysleepnet demo``, the whole pipeline on the embedded simulated cohort
  or on real Sleep-EDF files (:func:`~.demo.run_pipeline`).
- :mod:`.reproduce`: ``tinysleepnet reproduce``, one row of the paper's table compared with
  the published scores (:func:`~.reproduce.reproduce`).

Nothing is imported here, so the command line reads the demo's settings without loading
torch.
"""
