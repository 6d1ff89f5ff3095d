"""Subject-wise folds: contiguous blocks of sorted ids, seeded validation subjects."""

from __future__ import annotations

import numpy as np
import pytest

from tinysleepnet.data.nights import Night
from tinysleepnet.errors import TinySleepNetError
from tinysleepnet.evaluation.folds import (
    make_folds,
    sorted_subjects,
    split_nights,
    split_validation,
)

EDF20 = [f"{i:02d}" for i in range(20)]
#: Sleep-EDF-78: the SC subjects in MNE's fetcher (the authors' ``sleepedfx.txt``).
EDF78 = [i for i in range(83) if i not in (39, 68, 69, 78, 79)]


def authors_validation_subjects(subject_ids: list[int], n_folds: int) -> list[list[int]]:
    """The validation subjects of every fold, written as the authors' ``train.py`` does."""
    seq_sids = np.asarray(subject_ids)
    valid = []
    for fold_idx in range(n_folds):
        test_sids = np.array_split(seq_sids, n_folds)[fold_idx]
        train_sids = np.setdiff1d(seq_sids, test_sids)
        n_valids = round(len(train_sids) * 0.10)
        np.random.seed(42 + fold_idx)  # noqa: NPY002 - the authors' global seeding, on purpose
        valid.append(sorted(np.random.choice(train_sids, size=n_valids, replace=False).tolist()))  # noqa: NPY002
    return valid


@pytest.mark.parametrize(
    ("ids", "n_folds"), [(list(range(20)), 20), (EDF78, 10)], ids=["sleep-edf-20", "sleep-edf-78"]
)
def test_validation_subjects_of_every_fold_are_the_authors_draw(ids, n_folds):
    names = [f"{i:02d}" for i in ids]  # prepared folders name subjects with two digits
    folds = make_folds(names, n_folds)
    expected = authors_validation_subjects(ids, n_folds)
    assert [[int(s) for s in fold.valid_subjects] for fold in folds] == expected
    # a different subject is held out from fold to fold (not one seed for every fold)
    assert len({fold.valid_subjects for fold in folds}) > n_folds // 2


def test_sleep_edf_20_gives_one_test_subject_per_fold_in_sorted_order():
    nights = [s for s in EDF20 for _ in range(2) if (s, _) != ("13", 1)]  # 13 lacks night 2
    folds = make_folds(reversed(nights), n_folds=20)
    assert [f.test_subjects for f in folds] == [(s,) for s in EDF20]
    for fold in folds:
        assert len(fold.valid_subjects) == 2  # round(0.1 * 19)
        assert len(fold.train_subjects) == 17
        assert sorted({*fold.test_subjects, *fold.valid_subjects, *fold.train_subjects}) == EDF20


@pytest.mark.parametrize(("n_subjects", "n_folds"), [(78, 10), (23, 5), (10, 3)])
def test_folds_are_contiguous_blocks_and_partition_the_subjects(n_subjects, n_folds):
    subjects = [str(i) for i in range(n_subjects)]
    folds = make_folds(subjects, n_folds, valid_frac=0.1, seed=0)
    blocks = np.array_split(np.arange(n_subjects), n_folds)
    for fold, block in zip(folds, blocks, strict=True):
        assert [int(s) for s in fold.test_subjects] == block.tolist()
        assert not set(fold.test_subjects) & set(fold.valid_subjects)
        assert not set(fold.valid_subjects) & set(fold.train_subjects)
        n_rest = n_subjects - len(block)
        assert len(fold.valid_subjects) == max(1, round(0.1 * n_rest))
    tested = [s for fold in folds for s in fold.test_subjects]
    assert sorted(tested, key=int) == subjects


def test_numeric_ids_sort_as_numbers():
    assert sorted_subjects(["10", "2", "2", "1", "b", "a"]) == ["1", "2", "10", "a", "b"]


def test_validation_split_is_seeded():
    subjects = [str(i) for i in range(40)]
    train, valid = split_validation(subjects, valid_frac=0.1, seed=7)
    assert (train, valid) == split_validation(reversed(subjects), valid_frac=0.1, seed=7)
    assert valid != split_validation(subjects, valid_frac=0.1, seed=8)[1]
    assert len(valid) == 4 and sorted(train + valid, key=int) == subjects


def test_at_least_one_validation_subject():
    train, valid = split_validation(["a", "b", "c"], valid_frac=0.01)
    assert len(valid) == 1 and len(train) == 2


@pytest.mark.parametrize(("n_subjects", "n_folds"), [(20, 1), (5, 6), (3, 2)])
def test_impossible_folds_are_refused(n_subjects, n_folds):
    with pytest.raises(TinySleepNetError, match=f"{n_folds} folds of {n_subjects} subjects"):
        make_folds([str(i) for i in range(n_subjects)], n_folds)


def test_validation_needs_two_subjects():
    with pytest.raises(TinySleepNetError, match="at least 2 subjects"):
        split_validation(["07", "07"])


def _nights(*subjects: str) -> list[Night]:
    empty = np.zeros((1, 3), np.float32)
    return [
        Night(empty, np.zeros(1, np.int64), 100.0, "EEG Fpz-Cz", s, n, "", f"{s}-{n}")
        for s, n in subjects
    ]


def test_split_nights_keeps_each_subjects_nights_together_in_order():
    nights = _nights(("1", 1), ("2", 1), ("1", 2), ("10", 1), ("3", 1))
    train, valid = split_nights(nights, valid_frac=0.1, seed=5)
    _, drawn = split_validation(["1", "2", "10", "3"], 0.1, 5)
    assert [n.name for n in valid] == [n.name for n in nights if n.subject in drawn]
    assert [n.name for n in train] == [n.name for n in nights if n.subject not in drawn]
    train, valid = split_nights(nights, valid_subjects=["1"])
    assert [n.name for n in valid] == ["1-1", "1-2"]
    assert [n.name for n in train] == ["2-1", "10-1", "3-1"]
    with pytest.raises(TinySleepNetError, match="no nights of validation subject"):
        split_nights(nights, valid_subjects=["1", "7"])
