"""attn_lib.data.repeats: the rule holds, seeds reproduce, continuations, errors."""

import numpy as np
import pytest

from attn_lib.data import CHAPTER10_DATA, continue_repeats, make_repeats
from attn_lib.data.repeats import decode


def test_every_determined_token_is_the_token_one_period_back():
    data = make_repeats(**CHAPTER10_DATA["test"])
    for ids, period, determined in zip(data.token_ids, data.periods, data.determined):
        for t in np.flatnonzero(determined):
            assert ids[t + 1] == ids[t + 1 - period]
        assert len(set(ids[:period])) == period  # the pattern's letters are distinct
        assert not determined[:period].any() and not determined[-1]


def test_same_seed_same_data_and_the_chapter_uses_every_period():
    a, b = (make_repeats(**CHAPTER10_DATA["train"]) for _ in range(2))
    np.testing.assert_array_equal(a.token_ids, b.token_ids)
    assert set(a.periods.tolist()) == set(CHAPTER10_DATA["train"]["periods"])
    test = make_repeats(**CHAPTER10_DATA["test"])
    assert not np.array_equal(test.token_ids, a.token_ids[:len(test.token_ids)])


def test_continuation_of_a_chapter_prompt_is_the_rest_of_its_sequence():
    data = make_repeats(**CHAPTER10_DATA["test"])
    np.testing.assert_array_equal(continue_repeats(data.token_ids[:, :8], 17),
                                  data.token_ids[:, 8:])


def test_worked_example_of_the_docstring():
    ids = np.array([[2, 5, 0, 2]])
    assert decode(continue_repeats(ids, 4)) == "f a c f"


def test_errors():
    with pytest.raises(ValueError, match="must show its pattern twice"):
        continue_repeats(np.array([[1, 2, 3]]), 2)
    with pytest.raises(ValueError, match=r"`periods` must be non-empty, each in \[1, "
                                         r"vocab_size=4\]"):
        make_repeats(3, 10, periods=(5,), vocab_size=4)
    with pytest.raises(ValueError, match="`vocab_size` must be at most 26"):
        make_repeats(3, 10, vocab_size=27)
