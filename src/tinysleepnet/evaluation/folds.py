"""Subject-wise folds for cross-validation, as the authors made them.

The sorted subject ids are cut into ``n_folds`` contiguous blocks (``np.array_split``): fold
``k`` tests on block ``k``, so both nights of a subject always fall in the same fold. This
is not scikit-learn's ``GroupKFold``, which balances folds by number of nights and so
assigns subjects differently; the contiguous split is what produced the published numbers
(Sleep-EDF-20: 20 folds of one subject each). Inside each fold, a seeded share of the
training subjects is held out as validation subjects, drawn exactly as the authors'
``train.py`` draws them: ``numpy.random.seed(42 + fold)``, then
``numpy.random.choice(sorted_train_ids, round(0.1 * n), replace=False)``. (One seed for
every fold would hold the same subject out of training in most folds.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import TinySleepNetError

if TYPE_CHECKING:  # nights are only passed through: the module stays free of pandas
    from ..data.nights import Night


@dataclass(frozen=True)
class Fold:
    """The subjects of one fold.

    Attributes
    ----------
    index : int
        Fold number, 0-based.
    test_subjects : tuple of str
        Subjects the fold is scored on; they take no part in its training.
    valid_subjects : tuple of str
        Subjects that choose the best training pass and stop training.
    train_subjects : tuple of str
        Subjects the weights are fitted on.
    """

    index: int
    test_subjects: tuple[str, ...]
    valid_subjects: tuple[str, ...]
    train_subjects: tuple[str, ...]


def sorted_subjects(subjects: Iterable[str]) -> list[str]:
    """Unique subject ids, in numeric order when they are numbers (``"2"`` before ``"10"``)."""
    return sorted(set(subjects), key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0, s))


def split_validation(
    subjects: Iterable[str], valid_frac: float = 0.1, seed: int = 42
) -> tuple[list[str], list[str]]:
    """Hold out a seeded share of subjects for validation, as the authors' code draws it.

    The draw is ``numpy.random.RandomState(seed).choice(sorted_subjects, n_valid,
    replace=False)``, the same stream as their ``numpy.random.seed(seed)`` followed by
    ``numpy.random.choice``, with ``n_valid = round(valid_frac * n)`` (Python's rounding).

    Parameters
    ----------
    subjects : iterable of str
        Subject ids; repeats (one per night) are allowed. Numeric ids are sorted as
        numbers, as the authors' integer ids are.
    valid_frac : float
        Share of the subjects held out, rounded, and at least one subject (the authors'
        formula gives none below 5 subjects; their cohorts never have so few).
    seed : int
        Seed of the draw; the same subjects and seed give the same split.

    Returns
    -------
    train_subjects, valid_subjects : list of str
        Both sorted.

    Raises
    ------
    TinySleepNetError
        If there are fewer than two subjects.
    """
    subjects = sorted_subjects(subjects)
    if len(subjects) < 2:
        raise TinySleepNetError(
            f"a validation split needs at least 2 subjects, got {len(subjects)}"
        )
    n_valid = max(1, round(valid_frac * len(subjects)))
    drawn = np.random.RandomState(seed).choice(len(subjects), size=n_valid, replace=False)
    valid = sorted_subjects(subjects[i] for i in drawn)
    return [s for s in subjects if s not in valid], valid


def nights_of(nights: Iterable[Night], subjects: Iterable[str]) -> list[Night]:
    """The nights of ``subjects``, in the order of ``nights``."""
    wanted = set(subjects)
    return [night for night in nights if night.subject in wanted]


def split_nights(
    nights: Sequence[Night],
    valid_frac: float = 0.1,
    seed: int = 42,
    valid_subjects: Iterable[str] | None = None,
) -> tuple[list[Night], list[Night]]:
    """Training and validation nights, split by subject.

    Parameters
    ----------
    nights : sequence of Night
        Nights of every subject.
    valid_frac, seed
        The validation draw of :func:`split_validation`, when ``valid_subjects`` is None.
    valid_subjects : iterable of str or None
        Validation subjects chosen by hand.

    Returns
    -------
    train_nights, valid_nights : list of Night
        In the order of ``nights``.

    Raises
    ------
    TinySleepNetError
        If a chosen validation subject has no night, or (drawn) there are fewer than two
        subjects.
    """
    subjects = sorted_subjects(night.subject for night in nights)
    if valid_subjects is None:
        _, valid = split_validation(subjects, valid_frac, seed)
    else:
        valid = sorted_subjects(valid_subjects)
        if unknown := sorted(set(valid) - set(subjects)):
            raise TinySleepNetError(f"no nights of validation subject(s) {', '.join(unknown)}")
    train = sorted(set(subjects) - set(valid))
    return nights_of(nights, train), nights_of(nights, valid)


def make_folds(
    subjects: Iterable[str], n_folds: int, valid_frac: float = 0.1, seed: int = 42
) -> list[Fold]:
    """Subject-wise folds over contiguous blocks of the sorted subject ids.

    Parameters
    ----------
    subjects : iterable of str
        Subject ids; repeats (one per night) are allowed.
    n_folds : int
        Number of folds (20 for Sleep-EDF-20, 10 for Sleep-EDF-78).
    valid_frac : float
        Share of each fold's training subjects held out for validation
        (see :func:`split_validation`).
    seed : int
        Seed of the validation draw of fold 0; fold ``k`` draws with ``seed + k``.

    Returns
    -------
    list of Fold
        Every subject is a test subject of exactly one fold.

    Raises
    ------
    TinySleepNetError
        If ``n_folds`` is below 2 or leaves a fold fewer than two training subjects.
    """
    subjects = sorted_subjects(subjects)
    largest_test = -(-len(subjects) // max(n_folds, 1))
    if not 2 <= n_folds <= len(subjects) or len(subjects) - largest_test < 2:
        raise TinySleepNetError(
            f"cannot make {n_folds} folds of {len(subjects)} subjects: each fold needs test "
            "subjects and at least 2 other subjects for training and validation"
        )
    folds = []
    for index, block in enumerate(np.array_split(np.array(subjects), n_folds)):
        test = block.tolist()
        train, valid = split_validation(
            [s for s in subjects if s not in test], valid_frac=valid_frac, seed=seed + index
        )
        folds.append(Fold(index, tuple(test), tuple(valid), tuple(train)))
    return folds
