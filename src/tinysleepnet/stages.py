"""Sleep stages: names, class ids and the mapping from Rechtschaffen & Kales to AASM."""

from __future__ import annotations

import numpy as np

#: The five AASM stages in class-id order (0..4), as the model predicts them.
STAGES: tuple[str, ...] = ("W", "N1", "N2", "N3", "REM")
N_STAGES = len(STAGES)

#: Label of an epoch that cannot be staged ("Sleep stage ?", "Movement time", unknown text).
UNSCORED = -1

#: Epoch length used throughout, in seconds (AASM and R&K).
EPOCH_SEC = 30.0

#: Sleep-EDF annotation text -> class id. Stages 3 and 4 of R&K are both AASM N3.
RK_TO_STAGE: dict[str, int] = {
    "Sleep stage W": 0,
    "Sleep stage 1": 1,
    "Sleep stage 2": 2,
    "Sleep stage 3": 3,
    "Sleep stage 4": 3,
    "Sleep stage R": 4,
}

#: Annotation texts that mark epochs to drop (kept until the wake trim is placed).
UNSCORED_TEXTS: tuple[str, ...] = ("Sleep stage ?", "Movement time")

#: Texts written for each class id when this package produces annotations, in the same
#: "Sleep stage X" vocabulary as Sleep-EDF so its own reader and other tools understand them.
STAGE_TO_ANNOTATION: dict[int, str] = {
    0: "Sleep stage W",
    1: "Sleep stage N1",
    2: "Sleep stage N2",
    3: "Sleep stage N3",
    4: "Sleep stage R",
}

_AASM_TEXTS = {text: stage for stage, text in STAGE_TO_ANNOTATION.items()}


def stage_from_annotation(text: str) -> int:
    """Class id of one annotation text, :data:`UNSCORED` for anything not a stage.

    Accepts the R&K texts of Sleep-EDF and the AASM texts this package writes.
    """
    text = text.strip()
    if text in RK_TO_STAGE:
        return RK_TO_STAGE[text]
    return _AASM_TEXTS.get(text, UNSCORED)


def stage_names(stages: np.ndarray) -> list[str]:
    """Stage names for an array of class ids (``"?"`` for :data:`UNSCORED`)."""
    return [STAGES[s] if 0 <= s < N_STAGES else "?" for s in np.asarray(stages).tolist()]
