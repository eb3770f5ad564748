"""Self-checks for Chapter 1, queries, keys and values (Nadaraya–Watson regression).

Each check compares the answer with the right predictions and, when they differ, with the
predictions of the exercise's classic mistakes, to name the one it recognises.
"""

import functools

import numpy as np

from attn_lib import reference
from attn_lib.data import CHAPTER1_DATA, make_kernel_regression
from attn_lib.exercises import exercise

#: The kernel width of exercises 1.2 and 1.3.
WIDTH = 0.3


@functools.lru_cache(maxsize=1)
def _data():
    """The chapter's data set, in float64."""
    return tuple(np.asarray(a, dtype=np.float64) for a in make_kernel_regression(**CHAPTER1_DATA))


def _differences():
    """``x_test[i] - x_train[j]``, shape (Tq, Tv): the test inputs are the queries."""
    x_train, _, x_test, _ = _data()
    return x_test[:, None] - x_train[None, :]


def _pool(scores, axis=1):
    """Softmax of `scores` (Tq, Tv) over `axis`, then the weighted sum of the targets."""
    return reference.softmax(scores, axis=axis) @ _data()[1]


def _predictions(answer, size):
    """`answer` as a flat float64 array of `size` predictions, else a mistake name or error."""
    answer = np.asarray(answer, dtype=np.float64)
    if answer.size == size * size and answer.ndim == 2:
        return "weights_not_predictions"
    answer = answer.reshape(-1)
    if answer.shape != (size,):
        raise ValueError(f"expected {size} predictions, one per test input; got {answer.size}")
    return answer


def _diagnose(answer, expected, wrong, atol):
    """True, the name of the first mistake in `wrong` whose predictions match, or False."""
    if isinstance(answer, str):
        return answer
    if np.allclose(answer, expected, rtol=0, atol=atol):
        return True
    for name, predictions in wrong:
        if np.allclose(answer, predictions, rtol=0, atol=atol):
            return name
    return False


_WEIGHTS_HINT = ("You passed a (Tq, Tv) matrix, the weights: the answer is the predictions, "
                 "the weighted sums of the training targets, one per test input.")


# -------------------------------------------------------------------------------------------
# 1.1: the hard nearest-key lookup


def _wrong_lookups():
    x_train, y_train, x_test, _ = _data()
    diffs = _differences()
    nearest = np.abs(diffs).argmin(axis=1)
    right_neighbour = np.minimum(np.searchsorted(x_train, x_test), len(x_train) - 1)
    left_neighbour = np.maximum(np.searchsorted(x_train, x_test) - 1, 0)
    return [
        ("farthest", y_train[np.abs(diffs).argmax(axis=1)]),
        ("signed", y_train[diffs.argmin(axis=1)]),
        ("signed", y_train[diffs.argmax(axis=1)]),
        ("one_side", y_train[right_neighbour]),
        ("one_side", y_train[left_neighbour]),
        ("axis", y_train[np.abs(diffs).argmin(axis=0)]),
        ("index", nearest.astype(np.float64)),
        ("input", x_train[nearest]),
    ]


@exercise("1.1", hint="For each test input, find the index of the closest training input "
                      "(np.argmin of the absolute differences) and take that training target.",
          mistakes={
              "soft": "Your predictions are averages of several targets (a soft lookup). The "
                      "hard lookup copies one training target: the one of the closest "
                      "training input.",
              "farthest": "You picked the farthest training input (argmax); the lookup wants "
                          "the closest one (argmin of the distances).",
              "signed": "You compared signed differences, so the most negative (or positive) "
                        "one wins, far away. Take the absolute differences before argmin.",
              "one_side": "You take the neighbour on one side of each test input (as "
                          "np.searchsorted gives); the closest training input may be on the "
                          "other side. Compare the distances.",
              "axis": "Your argmin runs over the test inputs (axis 0): for each test input, "
                      "search over the training inputs instead.",
              "index": "These are the indices of the closest training inputs; the answer is "
                       "their training targets, y_train at those indices.",
              "input": "These are the closest training inputs themselves (x_train); the "
                       "answer is their targets (y_train).",
              "weights_not_predictions": _WEIGHTS_HINT,
          })
def _(answer):
    _, y_train, x_test, _ = _data()
    answer = _predictions(answer, len(x_test))
    expected = y_train[np.abs(_differences()).argmin(axis=1)]
    verdict = _diagnose(answer, expected, _wrong_lookups(), atol=1e-5)
    if verdict is False and not np.isin(np.round(answer, 4), np.round(y_train, 4)).all():
        return "soft"
    return verdict


# -------------------------------------------------------------------------------------------
# 1.2: the Laplace kernel


def _wrong_laplace():
    diffs = _differences()
    return [
        ("gaussian", _pool(-(diffs**2) / (2 * WIDTH**2))),
        ("sign", _pool(np.abs(diffs) / WIDTH)),
        ("squared", _pool(-(diffs**2) / WIDTH)),
        ("width", _pool(-np.abs(diffs))),  # no width
        ("width", _pool(-np.abs(diffs) * WIDTH)),
        ("width", _pool(-np.abs(diffs) / (2 * WIDTH**2))),  # the Gaussian's 2σ² kept
        ("width", _pool(-np.abs(diffs) / WIDTH**2)),
        ("width", _pool(-np.abs(diffs) / (2 * WIDTH))),
        ("axis", _pool(-np.abs(diffs) / WIDTH, axis=0)),
        ("not_normalised", np.exp(-np.abs(diffs) / WIDTH) @ _data()[1]),
    ]


@exercise("1.2", hint="Only the score changes: use minus the absolute distance divided by the "
                      "width, then the same softmax over the training points and weighted sum.",
          mistakes={
              "gaussian": "These are the Gaussian kernel's predictions: change the score to "
                          "the Laplace one, minus the absolute distance over the width.",
              "sign": "Your score has the wrong sign: the farthest training points get the "
                      "largest weights. The score is minus the distance over the width.",
              "squared": "Your score uses the squared distance; the Laplace kernel uses the "
                         "absolute distance |x - x_i|.",
              "width": "The shape of the score is right but not its scale: divide the "
                       "absolute distance by the width σ itself (not σ², not 2σ, no 2σ² "
                       "left from the Gaussian, and not times σ).",
              "axis": "Your softmax runs over the test inputs (axis 0): each test input's "
                      "weights must sum to 1 over the training points (axis 1).",
              "not_normalised": "Your weights are the exponentials of the scores, not "
                                "normalised: take the softmax over the training points "
                                "before the weighted sum.",
              "weights_not_predictions": _WEIGHTS_HINT,
          })
def _(answer):
    answer = _predictions(answer, len(_data()[2]))
    expected = _pool(-np.abs(_differences()) / WIDTH)
    return _diagnose(answer, expected, _wrong_laplace(), atol=1e-4)


# -------------------------------------------------------------------------------------------
# 1.3: the bug is the softmax axis


def _wrong_fixes():
    x_train, y_train, x_test, _ = _data()
    diffs = _differences()
    scores = -(diffs**2) / (2 * WIDTH**2)
    by_columns = reference.softmax(scores, axis=0)
    whole = np.exp(scores) / np.exp(scores).sum()
    return [
        ("axis", by_columns @ y_train),
        ("axis", by_columns.T @ y_train),
        ("axis", by_columns / by_columns.sum(axis=1, keepdims=True) @ y_train),
        ("axis", whole @ y_train),
        ("width", _pool(-(diffs**2) / 2)),  # reference.nadaraya_watson's default width 1.0
        ("queries", reference.nadaraya_watson(x_train, x_train, y_train, WIDTH)[0]),
        ("kernel", _pool(-(diffs**2) / WIDTH**2)),
        ("kernel", _pool(-(diffs**2) / (2 * WIDTH))),
    ]


@exercise("1.3", hint="Print weights.sum(axis=1): each query's weights should sum to 1. "
                      "Which axis runs over the training points?",
          mistakes={
              "axis": "Each test input's weights still do not sum to 1 over the training "
                      "points: the softmax must run over the axis of the training points, "
                      "one normalisation per query.",
              "width": "The axis is fixed, but the width is not the exercise's: pass the width "
                       "the exercise gives (a default width of 1 is far wider).",
              "queries": "You predicted at the training inputs: the queries are the test "
                         "inputs, x_test.",
              "kernel": "You changed the Gaussian score, which was right: keep "
                        "-(x - x_i)² / (2 width²) and fix only the bug.",
              "weights_not_predictions": _WEIGHTS_HINT,
          })
def _(answer):
    _, y_train, x_test, _ = _data()
    answer = _predictions(answer, len(x_test))
    expected, _ = reference.nadaraya_watson(x_test, _data()[0], y_train, WIDTH)
    return _diagnose(answer, expected, _wrong_fixes(), atol=1e-4)
