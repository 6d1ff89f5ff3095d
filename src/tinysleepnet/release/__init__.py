"""Released models: trained on all subjects, described by a model card, installed by name.

- :mod:`.card`: the model card (``model.json`` and ``MODEL.md``) written beside the weights.
- :mod:`.build`: ``tinysleepnet release``, one final model on all subjects of prepared nights.
- :mod:`.store`: installed models in the user's data folder, and the default model.
- :mod:`.finetune`: ``tinysleepnet finetune``, a released model trained further on one's
  own scored nights, scored against its parent on held-out subjects.

A model folder holds::

    MODEL_DIR/
      model.pt      weights, settings and calibration temperature (a checkpoint)
      model.json    the model card, for programs
      MODEL.md      the model card, for people
      training/     train()'s files (log.csv, best.pt, last.pt); not installed
"""
