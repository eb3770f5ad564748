"""Synthetic 1-D regression data for Nadaraya–Watson kernel regression.

Chapter 1's data set is ``make_kernel_regression(**CHAPTER1_DATA)``.
"""

from typing import NamedTuple

import numpy as np

from attn_lib import _validate

#: Chapter 1's data set, ``make_kernel_regression(**CHAPTER1_DATA)``, used by the chapter,
#: its exercise checks and the tests: 50 noisy training points and 50 test inputs.
CHAPTER1_DATA = dict(n_train=50, n_test=50, noise=0.5, seed=0)


def true_function(x):
    """The curve the data are drawn from: ``2 sin(x) + x^0.8``.

    Args:
        x: float or array of floats, ``x >= 0``.

    Returns:
        float64 array of the shape of `x`.

    Example:
        >>> float(true_function(0.0))
        0.0
    """
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
        seed: seed of NumPy's ``default_rng``; the same seed gives the same data.

    Returns:
        :class:`KernelRegressionData`, all arrays float32.

    Raises:
        TypeError: a size that is not an integer.
        ValueError: a size that is not positive, or a negative (or non-numeric) `noise`.

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


def leave_one_out(x, y):
    """Training inputs for learning σ: each point is a query against all *other* points.

    If a training point were among its own keys, the loss would be smallest for
    σ → 0 (each point copies its own target). Leaving it out makes the loss an
    honest estimate of the error on new inputs.

    Args:
        x: ``(n,)`` or ``(n, d)`` training inputs, ``n >= 2``.
        y: ``(n,)`` or ``(n, dv)`` training targets.

    Returns:
        ``(queries, keys, values, targets)`` as float32 arrays of shapes
        ``(n, 1, d)``, ``(n, n - 1, d)``, ``(n, n - 1, dv)``, ``(n, 1, dv)``:
        batch element ``i`` asks with ``x[i]`` and looks up every ``j != i``.

    Raises:
        ValueError: `x` or `y` of rank other than 1 or 2, fewer than 2 points, or
            `x` and `y` with different numbers of points.

    Example:
        >>> queries, keys, values, targets = leave_one_out(np.arange(4.0), np.arange(4.0))
        >>> queries.shape, keys.shape, keys[0, :, 0].tolist()
        ((4, 1, 1), (4, 3, 1), [1.0, 2.0, 3.0])
    """
    arrays = {}
    for name, a in (("x", x), ("y", y)):
        a = np.asarray(a, dtype=np.float32)
        if a.ndim not in (1, 2):
            raise ValueError(
                f"`{name}` must have shape (n,) or (n, features). Received: {name}.shape={a.shape}"
            )
        arrays[name] = a.reshape(len(a), -1)  # (n, d)
    x, y = arrays["x"], arrays["y"]
    if len(x) != len(y):
        raise ValueError(
            "`x` and `y` must have the same number of points. "
            f"Received: x.shape={x.shape}, y.shape={y.shape}"
        )
    n = len(x)
    if n < 2:
        raise ValueError(f"`x` must have at least 2 points. Received: x.shape={x.shape}")
    others = ~np.eye(n, dtype=bool)  # others[i, j] = (j != i)
    keys = np.stack([x[row] for row in others])  # (n, n - 1, d)
    values = np.stack([y[row] for row in others])  # (n, n - 1, dv)
    return x[:, None, :], keys, values, y[:, None, :]


__all__ = ["CHAPTER1_DATA", "KernelRegressionData", "leave_one_out", "make_kernel_regression",
           "true_function"]
