"""The run folder of a workflow: one layout, its folder names declared once.

Every workflow writes the same folders under its run folder ``RUN``::

    RUN/
      recordings/   recordings simulated or downloaded there (given ones stay where they are)
      prepared/     the prepared nights (:func:`~tinysleepnet.data.prepare.prepare`)
      <cv>/         the cross-validation run (folds, ``folds.json``), with ``evaluation/``
      staged/       recordings staged as ``tinysleepnet predict`` stages them (the demo)

The cross-validation run is the one folder whose name differs: ``RUN/run`` for the demo,
``RUN`` itself for ``reproduce`` (its ``--out`` is the cross-validation run, so ``evaluate``
and ``cv`` read it as one); :data:`CV_FOLDERS` says so, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: Folders of a run folder, the same for every workflow.
RECORDINGS_DIR, PREPARED_DIR, STAGED_DIR = "recordings", "prepared", "staged"

#: The cross-validation run of each workflow, relative to its run folder ("" is itself).
CV_FOLDERS = {"demo": "run", "reproduce": ""}


@dataclass(frozen=True)
class RunFolder:
    """The folders of one workflow's run folder (see the module's layout).

    Attributes
    ----------
    root : Path
        The run folder.
    workflow : str
        Key of :data:`CV_FOLDERS`: ``"demo"`` or ``"reproduce"``.
    """

    root: Path
    workflow: str

    @property
    def recordings(self) -> Path:
        """Recordings simulated or downloaded by the workflow."""
        return self.root / RECORDINGS_DIR

    @property
    def prepared(self) -> Path:
        """The prepared nights."""
        return self.root / PREPARED_DIR

    @property
    def cv(self) -> Path:
        """The cross-validation run (:func:`~tinysleepnet.evaluation.cv.cross_validate`)."""
        return self.root / CV_FOLDERS[self.workflow]

    @property
    def evaluation(self) -> Path:
        """The pooled scores of the cross-validation run (its ``evaluation/``)."""
        # Imported here: the command line reads the demo's settings without NumPy's report.
        from ..evaluation.run import CvRun

        return CvRun(self.cv).evaluation_dir

    @property
    def staged(self) -> Path:
        """Recordings staged as ``tinysleepnet predict`` does."""
        return self.root / STAGED_DIR
