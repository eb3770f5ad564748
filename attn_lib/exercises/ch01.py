"""Self-checks for Chapter 1, queries, keys and values (Nadaraya–Watson regression)."""

import functools

import numpy as np

from attn_lib import reference
from attn_lib.data import CHAPTER1_DATA, make_kernel_regression
from attn_lib.exercises import exercise


@functools.lru_cache(maxsize=1)
def _data():
    """The chapter's data set."""
    return make_kernel_regression(**CHAPTER1_DATA)


def _predictions(answer, size):
    answer = np.asarray(answer, dtype=np.float64).reshape(-1)
    if answer.shape != (size,):
        raise ValueError(f"expected {size} predictions, one per test input; got {answer.size}")
    return answer


@exercise("1.1", hint="For each test input, find the index of the closest training input "
                      "(np.argmin of the absolute differences) and take that training target.")
def _(answer):
    data = _data()
    nearest = np.abs(data.x_test[:, None] - data.x_train[None, :]).argmin(axis=1)
    return np.allclose(_predictions(answer, len(data.x_test)), data.y_train[nearest],
                       atol=1e-5)


@exercise("1.2", hint="Only the score changes: use minus the absolute distance divided by the "
                      "width, then the same softmax over the training points and weighted sum.")
def _(answer):
    data = _data()
    scores = -np.abs(data.x_test[:, None] - data.x_train[None, :]) / 0.3  # (Tq, Tv)
    expected = reference.softmax(scores, axis=1) @ data.y_train
    return np.allclose(_predictions(answer, len(data.x_test)), expected, atol=1e-4)


@exercise("1.3", hint="Print weights.sum(axis=1): each query's weights should sum to 1. "
                      "Which axis runs over the training points?")
def _(answer):
    data = _data()
    expected, _ = reference.nadaraya_watson(data.x_test, data.x_train, data.y_train, 0.3)
    return np.allclose(_predictions(answer, len(data.x_test)), expected, atol=1e-4)
