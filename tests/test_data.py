"""Seeded data generators: determinism and argument checks (regression data)."""

import numpy as np
import pytest

from attn_lib.data import make_kernel_regression
from attn_lib.data.regression import true_function


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


def test_bad_sizes_are_named():
    with pytest.raises(ValueError, match=r"n_train.*> 0"):
        make_kernel_regression(n_train=0)
    with pytest.raises(ValueError, match=r"noise.*>= 0.*-1"):
        make_kernel_regression(noise=-1)
