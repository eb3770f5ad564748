"""attn_lib.data.marks: the latest-mark rule holds, seeds reproduce, the chapter's splits."""

import numpy as np
import pytest

from attn_lib.data import CHAPTER12_DATA, make_marks
from attn_lib.data.marks import TRAIN_LENGTH, decode, latest_mark_distance


def test_every_target_is_the_latest_mark_found_by_a_loop():
    data = make_marks(**CHAPTER12_DATA["test_2L"])
    for ids, targets in zip(data.token_ids[:100], data.targets):
        latest = 4  # "none yet"
        for token, target in zip(ids, targets):
            if token >= 12:
                latest = token - 12
            assert target == latest


def test_same_seed_same_data_and_the_splits_differ():
    a, b = (make_marks(**CHAPTER12_DATA["train"]) for _ in range(2))
    np.testing.assert_array_equal(a.token_ids, b.token_ids)
    np.testing.assert_array_equal(a.targets, b.targets)
    test = make_marks(**CHAPTER12_DATA["test_1L"])
    assert not np.array_equal(test.token_ids, a.token_ids[:len(test.token_ids)])


def test_the_chapter_tests_at_one_two_and_four_times_the_training_length():
    lengths = {split: make_marks(**settings).token_ids.shape[1]
               for split, settings in CHAPTER12_DATA.items()}
    assert lengths == {"train": TRAIN_LENGTH, "test_1L": TRAIN_LENGTH,
                       "test_2L": 2 * TRAIN_LENGTH, "test_4L": 4 * TRAIN_LENGTH}


def test_the_latest_mark_is_near_whatever_the_length():
    """What makes the task length-independent: the distance back does not grow with T."""
    short, long = (latest_mark_distance(make_marks(**CHAPTER12_DATA[s]).token_ids)[:, -16:]
                   for s in ("test_1L", "test_4L"))
    assert (long >= 0).mean() > 0.99
    assert np.median(long[long >= 0]) <= 6 and np.median(short[short >= 0]) <= 6


def test_worked_example_and_decode():
    data = make_marks(1, 8, p_mark=0.3, seed=3)
    assert decode(data.token_ids[0]) == "B B 0 1 A 4 10 D"
    assert data.targets[0].tolist() == [1, 1, 1, 1, 0, 0, 0, 3]
    assert latest_mark_distance(data.token_ids)[0].tolist() == [0, 0, 1, 2, 0, 1, 2, 0]


def test_errors():
    with pytest.raises(ValueError, match=r"`p_mark` must be a number in \(0, 1\)"):
        make_marks(2, 5, p_mark=1.5)
    with pytest.raises(ValueError, match="`num_marks` must be at most 26"):
        make_marks(2, 5, num_marks=27)
