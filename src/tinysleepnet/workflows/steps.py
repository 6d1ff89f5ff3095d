"""Workflows as declared lists of resumable steps, and the steps every experiment shares.

A :class:`Workflow` runs its :class:`Step` s in order over the state of one run. Each step
is announced by a log line ``[i/n] ...`` (:class:`StepLog`; its further lines are indented
under the header). What is done is skipped and the rest resumed, in one of two ways:

- the public function a step calls resumes by itself: ``prepare`` keeps the nights already
  prepared, ``cross_validate`` the folds already done;
- or the step declares a :class:`Marker`, a file written once it has finished and holding
  what it made; a rerun that finds the same text there skips the step, and an interrupted
  step, which wrote none, runs again.

A step may also leave work to other processes (folds of a cluster array): it returns
False, and the steps after it wait for a rerun.

Every experiment runs :func:`experiment`'s list: its recordings (each workflow its own
step), then :func:`prepare_nights`, :func:`cross_validate_folds` and
:func:`evaluate_folds` over the folders of :class:`~.layout.RunFolder`, then the
workflow's own last steps. The state they share is an :class:`Experiment`.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..config import Config
from .layout import RunFolder

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger("tinysleepnet")

#: The state a workflow's steps read and fill in.
State = TypeVar("State", contravariant=True)
E = TypeVar("E", bound="Experiment")


@dataclass(frozen=True)
class StepLog:
    """The log lines of step ``index`` of ``total``: ``[2/5] header``, then indented details."""

    index: int
    total: int

    @property
    def prefix(self) -> str:
        """``"[2/5] "``."""
        return f"[{self.index}/{self.total}] "

    def __call__(self, message: str, *args: Any, level: int = logging.INFO) -> None:
        """Log the step's header line, ``message % args`` after ``[i/n]``."""
        logger.log(level, self.prefix + message, *args)

    def detail(self, message: str, *args: Any) -> None:
        """Log a line of the step's details, indented under its header."""
        logger.info(" " * len(self.prefix) + message, *args)


@dataclass(frozen=True)
class Marker:
    """The file a step writes once it has finished, holding what it made.

    Attributes
    ----------
    path : Path
        The marker file (written last, so an interrupted step has none).
    text : str
        What the step made, e.g. the ``repr`` of the cohort it simulated; another text
        (other settings) runs the step again.
    done : str
        The step's header line when it is skipped, e.g. ``"8 simulated nights already in
        demo-run/recordings"``.
    """

    path: Path
    text: str
    done: str

    def holds(self) -> bool:
        """Whether the step has finished with these settings."""
        return self.path.is_file() and self.path.read_text(encoding="utf-8") == self.text

    def write(self) -> None:
        """Mark the step finished."""
        self.path.write_text(self.text, encoding="utf-8")


@dataclass(frozen=True)
class Step(Generic[State]):
    """One step of a workflow.

    Attributes
    ----------
    name : str
        What the step makes (``"recordings"``, ``"prepare"``, ``"cv"``...).
    run : callable
        ``run(state, log)``: does the step, logging its header with ``log(...)``
        (:class:`StepLog`), and stores what it makes in ``state``; returns False when it
        left work to other processes, so that the later steps wait for a rerun.
    marker : callable or None
        ``marker(state)``: the :class:`Marker` that makes the step resumable, or None for a
        step that resumes by itself (or, for this state, has nothing to mark).
    """

    name: str
    run: Callable[[State, StepLog], bool | None]
    marker: Callable[[State], Marker | None] | None = None


@dataclass(frozen=True)
class Workflow(Generic[State]):
    """Steps run in order; what is done is skipped, the rest resumed.

    Attributes
    ----------
    steps : tuple of Step
        The steps, announced ``[1/n]`` .. ``[n/n]``.
    """

    steps: tuple[Step[State], ...]

    @property
    def names(self) -> list[str]:
        """The steps' names, in order."""
        return [step.name for step in self.steps]

    def log(self, name: str) -> StepLog:
        """The log of the step called ``name``, for lines that follow it after the run."""
        return StepLog(self.names.index(name) + 1, len(self.steps))

    def run(self, state: State) -> bool:
        """Run every step not done yet over ``state``.

        Returns
        -------
        bool
            True when every step has run (or had run); False when one left work to other
            processes, the steps after it not run.
        """
        for index, step in enumerate(self.steps, 1):
            log = StepLog(index, len(self.steps))
            marker = step.marker(state) if step.marker is not None else None
            if marker is not None and marker.holds():
                log(marker.done)
                continue
            if step.run(state, log) is False:
                return False
            if marker is not None:
                marker.write()
        return True


@dataclass(kw_only=True)
class Experiment(ABC):
    """What the steps of an experiment share: its settings and what each step made.

    Attributes
    ----------
    folder : RunFolder
        Where the steps write.
    config : Config
        Training settings of the folds.
    n_folds : int or None
        Subject-wise folds; None: one subject per fold up to 20 subjects, 10 beyond (the
        paper's), set once the nights are prepared.
    n_jobs : int
        Nights prepared (and simulated) in parallel.
    progress : bool
        Show progress bars (on a terminal).
    recordings : Path
        The recordings folder (the first step finds, simulates or downloads them).
    prepare_settings : dict
        Keyword arguments of :func:`~tinysleepnet.data.prepare.prepare` (the dataset's
        channel, rate, epoch length, subjects...).
    cv_settings : dict
        Further keyword arguments of :func:`~tinysleepnet.evaluation.cv.cross_validate`
        (``folds``, ``n_parallel``).
    manifest : pandas.DataFrame or None
        The prepared nights.
    evaluation : dict or None
        :func:`~tinysleepnet.evaluation.report.evaluate_run`'s result.
    """

    folder: RunFolder
    config: Config
    n_folds: int | None
    n_jobs: int
    progress: bool
    recordings: Path
    prepare_settings: dict[str, Any] = field(default_factory=dict)
    cv_settings: dict[str, Any] = field(default_factory=dict)
    manifest: pd.DataFrame | None = None
    evaluation: dict[str, Any] | None = None

    @abstractmethod
    def cv_header(self, n_folds: int) -> tuple[Any, ...]:
        """The cross-validation step's header line: a message and its arguments."""


def experiment(recordings: Step[E], *after: Step[E]) -> Workflow[E]:
    """The steps of every experiment: ``recordings`` (the workflow's own), prepare,
    cross-validate, evaluate, then ``after``."""
    shared: Sequence[Step[E]] = (
        Step("prepare", prepare_nights),
        Step("cv", cross_validate_folds),
        Step("evaluate", evaluate_folds),
    )
    return Workflow((recordings, *shared, *after))


def prepare_nights(state: Experiment, log: StepLog) -> None:
    """The recordings cut into epochs in ``RUN/prepared`` (nights already there kept)."""
    from ..data.prepare import prepare

    log("preparing the nights into %s", state.folder.prepared)
    manifest = prepare(
        state.recordings,
        state.folder.prepared,
        n_jobs=state.n_jobs,
        progress=state.progress,
        **state.prepare_settings,
    )
    log.detail(
        "%d nights of %d subjects, %s scored epochs",
        len(manifest),
        manifest["subject"].nunique(),
        f"{int(manifest['n_epochs'].sum()):,}",
    )
    state.manifest = manifest


def cross_validate_folds(state: Experiment, log: StepLog) -> bool:
    """The subject-wise folds of the prepared nights (folds already done kept); False
    while folds remain for other processes."""
    from ..evaluation.cv import cross_validate, is_done

    if state.n_folds is None:
        assert state.manifest is not None, "the prepare step comes first"
        n_subjects = state.manifest["subject"].nunique()
        state.n_folds = n_subjects if n_subjects <= 20 else 10
    n_folds = state.n_folds
    log(*state.cv_header(n_folds))
    cross_validate(
        state.folder.prepared,
        state.folder.cv,
        n_folds=n_folds,
        config=state.config,
        progress=state.progress,
        **state.cv_settings,
    )
    if remaining := [i for i in range(n_folds) if not is_done(state.folder.cv, i)]:
        log.detail(
            "%d of %d folds still to run (%s); rerun to continue, the scores are written "
            "when all are done",
            len(remaining),
            n_folds,
            ", ".join(map(str, remaining)),
        )
        return False
    return True


def evaluate_folds(state: Experiment, log: StepLog) -> None:
    """The pooled scores of the folds' test epochs, in ``evaluation/`` of the cv run."""
    from ..evaluation.report import evaluate_run

    log("evaluating the pooled test epochs into %s", state.folder.evaluation)
    state.evaluation = evaluate_run(state.folder.cv)
