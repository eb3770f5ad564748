"""Synthetic 1-D regression data for Nadaraya–Watson kernel regression."""

from typing import NamedTuple

import numpy as np

from attn_lib import _validate


def true_function(x):
    """The curve the data are drawn from: ``2 sin(x) + x^0.8``."""
    x = np.asarray(x, dtype=np.float64)
    return 2 * np.sin(x) + x**0.8


class KernelRegressionData(NamedTuple):
    """Training points (keys and values) and a grid of test queries.

    Attributes:
        x_train: ``(n_train,)`` sorted inputs in ``[0, 5)``; the keys.
        y_train: ``(n_train,)`` noisy targets; the values.
        x_test: ``(n_test,)`` evenly spaced inputs; the queries.
        y_test: ``(n_test,)`` the noise-free curve at `x_test`.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def make_kernel_regression(n_train=50, n_test=50, noise=0.5, seed=0):
    """Noisy samples of ``2 sin(x) + x^0.8`` on ``[0, 5)``.

    Args:
        n_train: number of training points (> 0).
        n_test: number of evenly spaced test points (> 0).
        noise: standard deviation of the Gaussian noise on `y_train` (>= 0).
        seed: seed of the random generator.

    Returns:
        :class:`KernelRegressionData`, all arrays float32.

    Example:
        >>> data = make_kernel_regression(n_train=5, seed=0)
        >>> data.x_train.shape, data.x_test.shape
        ((5,), (50,))
    """
    n_train = _validate.check_positive_int("n_train", n_train)
    n_test = _validate.check_positive_int("n_test", n_test)
    if not isinstance(noise, (int, float)) or noise < 0:
        raise ValueError(f"`noise` must be a number >= 0. Received: noise={noise!r}")
    rng = np.random.default_rng(seed)
    x_train = np.sort(rng.uniform(0, 5, n_train))
    y_train = true_function(x_train) + rng.normal(0.0, noise, n_train)
    x_test = np.arange(n_test) * (5.0 / n_test)
    y_test = true_function(x_test)
    return KernelRegressionData(*(a.astype(np.float32) for a in (x_train, y_train, x_test,
                                                                  y_test)))
