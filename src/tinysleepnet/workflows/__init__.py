"""Workflows: whole experiments as declared lists of resumable steps over one run folder.

- :mod:`.steps`: :class:`~.steps.Step` and :class:`~.steps.Workflow` (each step announced
  ``[i/n]``, what is done skipped, the rest resumed), and the steps every experiment shares
  (prepare, cross-validate, evaluate).
- :mod:`.layout`: the run folder every workflow writes (:class:`~.layout.RunFolder`).
- :mod:`.demo`: ``tinysleepnet demo``, the whole pipeline on the embedded simulated cohort
  or on real Sleep-EDF files (:func:`~.demo.run_pipeline`).
- :mod:`.reproduce`: ``tinysleepnet reproduce``, one row of the paper's table compared with
  the published scores (:func:`~.reproduce.reproduce`).
- :mod:`.release`: ``tinysleepnet release``, one final model on all subjects of prepared
  nights, with its model card (:mod:`tinysleepnet.models.card`).
- :mod:`.finetune`: ``tinysleepnet finetune``, a released model trained further on one's own
  scored nights, scored against its parent on held-out subjects; its output folder is a
  :class:`~.finetune.FinetuneRun`.

Both write a released model's folder, a :class:`~tinysleepnet.models.folder.ModelFolder`
(``model.pt``, ``model.json``, ``MODEL.md``, ``training/``).

Nothing is imported here, so the command line reads the demo's settings and fine-tuning's
choices without loading torch.
"""

# The choices of fine-tuning live here rather than in .finetune, so that the command line
# offers them without loading torch.
#: What fine-tuning may train: ``"all"`` the weights, or ``"head"``: the LSTM and the
#: classifier, with the CNN (:data:`~tinysleepnet.workflows.finetune.CNN_MODULES`) frozen.
TRAINABLE = ("all", "head")
#: Default most folds of fine-tuning; fewer subjects give one fold per subject.
MAX_FOLDS = 5
