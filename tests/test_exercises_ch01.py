"""Chapter 1's exercise checks (`attn_lib/exercises/ch01.py`): right answers in several forms
pass; the typical mistakes fail with the hint that names them, without giving the answer away.

Answers are built from the chapter's data as its worked solutions build them.
"""

import numpy as np
import pytest
import tensorflow as tf
from exercise_tables import table_tests

from attn_lib import NadarayaWatson, reference
from attn_lib.data import CHAPTER1_DATA, make_kernel_regression

x_train, y_train, x_test, _ = make_kernel_regression(**CHAPTER1_DATA)
diffs = x_test[:, None] - x_train[None, :]  # (Tq, Tv): test inputs are queries
nearest = np.abs(diffs).argmin(axis=1)  # (Tq,)
gaussian = -(diffs**2) / (2 * 0.3**2)  # (Tq, Tv), the scores of exercise 1.3


def regression(scores, axis=1):
    """Softmax of `scores` (Tq, Tv) over `axis`, then the weighted sum of the targets."""
    return reference.softmax(scores, axis=axis) @ y_train


def keras_nadaraya_watson(queries, width):
    """attn_lib's layer on the chapter's data: (1, Tq, 1) predictions."""
    queries, keys, values = (x.reshape(1, -1, 1) for x in (queries, x_train, y_train))
    return NadarayaWatson(initial_width=width)(queries, keys, values)


def nearest_by_loops():
    """The hard lookup as a learner may write it without broadcasting."""
    return [y_train[min(range(len(x_train)), key=lambda j: abs(x - x_train[j]))]
            for x in x_test]


def one_hot_weights():
    weights = np.zeros(diffs.shape)
    weights[np.arange(len(x_test)), nearest] = 1.0
    return weights


by_columns = reference.softmax(gaussian, axis=0)  # the buggy weights of exercise 1.3

EXPECTED = {
    "1.1": y_train[nearest],
    "1.2": regression(-np.abs(diffs) / 0.3),
    "1.3": regression(gaussian),
}

RIGHT = [
    pytest.param("1.1", y_train[nearest], id="1.1-float32-array"),
    pytest.param("1.1", y_train[nearest].astype("float64").tolist(), id="1.1-list"),
    pytest.param("1.1", tf.gather(y_train, tf.argmin(tf.abs(diffs), axis=1)), id="1.1-tf"),
    pytest.param("1.1", y_train[nearest][:, None], id="1.1-column-(50,1)"),
    pytest.param("1.1", nearest_by_loops(), id="1.1-python-loops"),
    pytest.param("1.1", one_hot_weights() @ y_train, id="1.1-one-hot-weights-times-targets"),
    pytest.param("1.1", reference.nadaraya_watson(x_test, x_train, y_train, 0.001)[0],
                 id="1.1-soft-lookup-width-0.001"),
    pytest.param("1.2", regression(-np.abs(diffs) / 0.3), id="1.2-float64"),
    pytest.param("1.2", tf.linalg.matvec(tf.nn.softmax(-tf.abs(diffs) / 0.3, axis=1), y_train),
                 id="1.2-tf-float32"),
    pytest.param("1.2", (lambda e: e @ y_train / e.sum(axis=1))(np.exp(-np.abs(diffs) / 0.3)),
                 id="1.2-exp-normalised-by-hand"),
    pytest.param("1.2", [float(np.average(y_train, weights=np.exp(-abs(x - x_train) / 0.3)))
                         for x in x_test], id="1.2-loop-np.average"),
    pytest.param("1.3", regression(gaussian), id="1.3-fixed-axis"),
    pytest.param("1.3", reference.nadaraya_watson(x_test, x_train, y_train, 0.3)[0],
                 id="1.3-reference"),
    pytest.param("1.3", list(regression(gaussian, axis=-1)), id="1.3-list-axis-minus-1"),
    pytest.param("1.3", keras_nadaraya_watson(x_test, 0.3), id="1.3-keras-layer-(1,50,1)"),
]

MISTAKES = [
    # 1.1: the hard nearest-key lookup
    pytest.param("1.1", reference.nadaraya_watson(x_test, x_train, y_train, 0.3)[0], "soft",
                 id="1.1-soft-lookup-width-0.3"),
    pytest.param("1.1", reference.nadaraya_watson(x_test, x_train, y_train, 0.01)[0], "soft",
                 id="1.1-soft-lookup-width-0.01"),
    pytest.param("1.1", y_train[np.abs(diffs).argmax(axis=1)], "farthest",
                 id="1.1-argmax-farthest-key"),
    pytest.param("1.1", y_train[diffs.argmin(axis=1)], "signed", id="1.1-signed-differences"),
    pytest.param("1.1", y_train[np.minimum(np.searchsorted(x_train, x_test), 49)], "one_side",
                 id="1.1-searchsorted-right-neighbour"),
    pytest.param("1.1", y_train[np.abs(diffs).argmin(axis=0)], "axis",
                 id="1.1-argmin-over-test-inputs"),
    pytest.param("1.1", nearest, "index", id="1.1-index-not-target"),
    pytest.param("1.1", x_train[nearest], "input", id="1.1-nearest-input-not-target"),
    pytest.param("1.1", one_hot_weights(), "weights_not_predictions",
                 id="1.1-one-hot-weights-not-predictions"),
    # 1.2: the Laplace kernel
    pytest.param("1.2", regression(gaussian), "gaussian", id="1.2-gaussian-unchanged"),
    pytest.param("1.2", regression(np.abs(diffs) / 0.3), "sign", id="1.2-forgot-minus"),
    pytest.param("1.2", regression(-(diffs**2) / 0.3), "squared", id="1.2-squared-distance"),
    pytest.param("1.2", regression(-np.abs(diffs)), "width", id="1.2-forgot-width"),
    pytest.param("1.2", regression(-np.abs(diffs) * 0.3), "width", id="1.2-times-width"),
    pytest.param("1.2", regression(-np.abs(diffs) / (2 * 0.3**2)), "width",
                 id="1.2-gaussian-2-sigma-squared-kept"),
    pytest.param("1.2", regression(-np.abs(diffs) / 0.3, axis=0), "axis",
                 id="1.2-softmax-over-test-inputs"),
    pytest.param("1.2", np.exp(-np.abs(diffs) / 0.3) @ y_train, "not_normalised",
                 id="1.2-not-normalised"),
    pytest.param("1.2", reference.softmax(-np.abs(diffs) / 0.3, axis=1),
                 "weights_not_predictions", id="1.2-the-weights"),
    # 1.3: the softmax axis
    pytest.param("1.3", by_columns @ y_train, "axis", id="1.3-buggy-axis-0-unchanged"),
    pytest.param("1.3", by_columns.T @ y_train, "axis", id="1.3-transposed-weights"),
    pytest.param("1.3", by_columns / by_columns.sum(axis=1, keepdims=True) @ y_train, "axis",
                 id="1.3-rows-renormalised-after-axis-0"),
    pytest.param("1.3", np.exp(gaussian) / np.exp(gaussian).sum() @ y_train, "axis",
                 id="1.3-normalised-over-the-whole-matrix"),
    pytest.param("1.3", reference.nadaraya_watson(x_test, x_train, y_train)[0], "width",
                 id="1.3-default-width-1"),
    pytest.param("1.3", reference.nadaraya_watson(x_train, x_train, y_train, 0.3)[0], "queries",
                 id="1.3-predicted-at-training-inputs"),
    pytest.param("1.3", regression(-(diffs**2) / 0.3**2), "kernel",
                 id="1.3-score-rewritten-without-the-2"),
    pytest.param("1.3", reference.softmax(gaussian, axis=1), "weights_not_predictions",
                 id="1.3-the-weights"),
]

(test_right_answer_is_accepted,
 test_known_mistake_is_rejected_without_giving_the_answer_away,
 test_most_of_the_bank_gets_its_own_hint,
 test_no_hint_gives_the_answer_away,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch01", RIGHT, MISTAKES, EXPECTED)
