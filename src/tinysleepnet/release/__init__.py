"""Released models: trained on all subjects, described by a model card, installed by name.

- :mod:`.card`: the model card (``model.json`` and ``MODEL.md``) written beside the weights.
- :mod:`.build`: ``tinysleepnet release``, one final model on all subjects of prepared nights.
- :mod:`.store`: installed models in the user's data folder, and the default model.
- :mod:`.trained`: :class:`~.trained.TrainedModel`, a model loaded once for staging (network,
  temperature, reference amplitude, card, provenance).
- :mod:`.onnx_backend`: :class:`~.onnx_backend.OnnxModel`, an exported graph run by ONNX
  Runtime.
- :mod:`.finetune`: ``tinysleepnet finetune``, a released model trained further on one's
  own scored nights, scored against its parent on held-out subjects.

A model folder holds::

    MODEL_DIR/
      model.pt      weights, settings and calibration temperature (a checkpoint)
      model.json    the model card, for programs
      MODEL.md      the model card, for people
      training/     train()'s files (log.csv, best.pt, last.pt); not installed
"""

# The choices of fine-tuning live here rather than in .finetune, so that the command line
# offers them without loading torch.
#: What fine-tuning may train: ``"all"`` the weights, or ``"head"``: the LSTM and the
#: classifier, with the CNN (:data:`~tinysleepnet.release.finetune.CNN_MODULES`) frozen.
TRAINABLE = ("all", "head")
#: Default most folds of fine-tuning; fewer subjects give one fold per subject.
MAX_FOLDS = 5
