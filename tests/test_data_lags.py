"""attn_lib.data.lags: the rule holds, seeds reproduce, the worked example, errors."""

import numpy as np
import pytest

from attn_lib.data import CHAPTER11_DATA, make_lags
from attn_lib.data.lags import needed_window


def test_every_scored_target_is_the_pair_of_digits_lags_back():
    data = make_lags(**CHAPTER11_DATA["test"])
    (a, b), v = CHAPTER11_DATA["test"]["lags"], CHAPTER11_DATA["test"]["vocab_size"]
    x = data.token_ids
    for n in range(20):
        for t in range(x.shape[1]):
            if t >= max(a, b):
                assert data.scored[n, t] and data.targets[n, t] == v * x[n, t - a] + x[n, t - b]
            else:
                assert not data.scored[n, t] and data.targets[n, t] == 0
    assert data.targets.max() < v * v and data.token_ids.dtype == np.int32


def test_same_seed_same_data_and_every_pair_occurs():
    a, b = (make_lags(**CHAPTER11_DATA["train"]) for _ in range(2))
    np.testing.assert_array_equal(a.targets, b.targets)
    v = CHAPTER11_DATA["train"]["vocab_size"]
    assert set(np.unique(a.targets[a.scored])) == set(range(v * v))
    test = make_lags(**CHAPTER11_DATA["test"])
    assert not np.array_equal(test.token_ids, a.token_ids[:len(test.token_ids)])


def test_worked_example_of_the_docstring():
    import attn_lib.data.lags as lags

    x = np.array([3, 1, 4, 1, 5, 2, 6, 5])
    targets = [8 * x[t - 2] + x[t - 5] for t in range(5, 8)]
    assert targets == [11, 41, 20] and "11 41 20" in lags.__doc__
    assert needed_window((2, 5)) == 6


def test_errors():
    with pytest.raises(ValueError, match="`lags` must be two distinct positive ints"):
        make_lags(3, 10, lags=(2, 2))
    with pytest.raises(ValueError, match=r"`length` must be more than max\(lags\)=5"):
        make_lags(3, 5, lags=(2, 5))
    with pytest.raises(ValueError, match="`vocab_size` must be at least 2"):
        make_lags(3, 10, vocab_size=1)
