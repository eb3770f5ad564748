"""attn_lib.data.regression: seeded regression data, argument checks, Chapter 1's data."""

import numpy as np
import pytest

from attn_lib.data import CHAPTER1_DATA, make_kernel_regression
from attn_lib.data.regression import leave_one_out, true_function


def test_same_seed_same_data_and_different_seed_different_data():
    a, b = make_kernel_regression(seed=3), make_kernel_regression(seed=3)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.y_train, make_kernel_regression(seed=4).y_train)


def test_training_inputs_are_sorted_in_range_and_noise_is_as_asked():
    data = make_kernel_regression(n_train=2000, noise=0.5, seed=0)
    assert np.all(np.diff(data.x_train) >= 0) and 0 <= data.x_train.min() < data.x_train.max() < 5
    residual = data.y_train - true_function(data.x_train)
    assert abs(residual.std() - 0.5) < 0.05
    assert data.x_train.dtype == np.float32


def test_test_inputs_are_evenly_spaced_and_their_targets_noise_free():
    data = make_kernel_regression(n_train=5, n_test=8, noise=3.0, seed=1)
    np.testing.assert_allclose(data.x_test, np.arange(8) * 5 / 8, atol=1e-6)
    np.testing.assert_allclose(data.y_test, true_function(data.x_test), atol=1e-5)


def test_chapter1_data_is_the_data_set_the_chapter_describes():
    # Chapter 1: 50 training inputs in [0, 5), noise of standard deviation 0.5, and
    # 50 evenly spaced test inputs with the noise-free curve there.
    data = make_kernel_regression(**CHAPTER1_DATA)
    assert data.x_train.shape == data.y_train.shape == (50,)
    assert data.x_test.shape == data.y_test.shape == (50,)
    assert CHAPTER1_DATA["noise"] == 0.5
    assert 0 <= data.x_train.min() and data.x_train.max() < 5
    np.testing.assert_allclose(data.x_test, np.arange(50) * 0.1, atol=1e-6)


def test_bad_sizes_are_named():
    with pytest.raises(ValueError, match=r"`n_train` must be > 0. Received: n_train=0"):
        make_kernel_regression(n_train=0)
    with pytest.raises(TypeError, match=r"`n_test` must be an integer. Received: n_test=2.5"):
        make_kernel_regression(n_test=2.5)
    with pytest.raises(ValueError, match=r"`noise` must be a number >= 0. Received: noise=-1"):
        make_kernel_regression(noise=-1)


def test_leave_one_out_pairs_each_query_with_every_other_point():
    x = np.arange(5.0)
    y = 10 * x
    queries, keys, values, targets = leave_one_out(x, y)
    assert (queries.shape, keys.shape, values.shape, targets.shape) == (
        (5, 1, 1), (5, 4, 1), (5, 4, 1), (5, 1, 1))
    for i in range(5):
        assert x[i] not in keys[i, :, 0]
        np.testing.assert_array_equal(keys[i, :, 0], np.delete(x, i))
        np.testing.assert_array_equal(values[i, :, 0], np.delete(y, i))
    assert queries.dtype == np.float32


def test_leave_one_out_keeps_feature_axes():
    queries, keys, values, targets = leave_one_out(np.zeros((4, 2)), np.zeros((4, 3)))
    assert (queries.shape, keys.shape, values.shape, targets.shape) == (
        (4, 1, 2), (4, 3, 2), (4, 3, 3), (4, 1, 3))
