"""Chapter 1's exercise checks (`attn_lib/exercises/ch01.py`): right answers in several forms
pass; the typical mistakes fail with a diagnosis that does not give the answer away.

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


def regression(scores, axis=1):
    """Softmax of `scores` (Tq, Tv) over `axis`, then the weighted sum of the targets."""
    return reference.softmax(scores, axis=axis) @ y_train


def keras_nadaraya_watson(queries, width):
    """attn_lib's layer on the chapter's data: (1, Tq, 1) predictions."""
    queries, keys, values = (x.reshape(1, -1, 1) for x in (queries, x_train, y_train))
    return NadarayaWatson(initial_width=width)(queries, keys, values)


EXPECTED = {
    "1.1": y_train[nearest],
    "1.2": regression(-np.abs(diffs) / 0.3),
    "1.3": regression(-(diffs**2) / (2 * 0.3**2)),
}

RIGHT = [
    pytest.param("1.1", y_train[nearest], id="1.1-float32-array"),
    pytest.param("1.1", y_train[nearest].astype("float64").tolist(), id="1.1-list"),
    pytest.param("1.1", tf.gather(y_train, tf.argmin(tf.abs(diffs), axis=1)), id="1.1-tf"),
    pytest.param("1.1", y_train[nearest][:, None], id="1.1-column-(50,1)"),
    pytest.param("1.1", reference.nadaraya_watson(x_test, x_train, y_train, 0.001)[0],
                 id="1.1-soft-lookup-width-0.001"),
    pytest.param("1.2", regression(-np.abs(diffs) / 0.3), id="1.2-float64"),
    pytest.param("1.2", tf.linalg.matvec(tf.nn.softmax(-tf.abs(diffs) / 0.3, axis=1), y_train),
                 id="1.2-tf-float32"),
    pytest.param("1.2", (lambda e: e @ y_train / e.sum(axis=1))(np.exp(-np.abs(diffs) / 0.3)),
                 id="1.2-exp-normalised-by-hand"),
    pytest.param("1.3", regression(-(diffs**2) / (2 * 0.3**2)), id="1.3-fixed-axis"),
    pytest.param("1.3", reference.nadaraya_watson(x_test, x_train, y_train, 0.3)[0],
                 id="1.3-reference"),
    pytest.param("1.3", list(regression(-(diffs**2) / (2 * 0.3**2), axis=-1)),
                 id="1.3-list-axis-minus-1"),
    pytest.param("1.3", keras_nadaraya_watson(x_test, 0.3), id="1.3-keras-layer-(1,50,1)"),
]

WRONG = [
    # 1.1: the hard nearest-key lookup
    pytest.param("1.1", reference.nadaraya_watson(x_test, x_train, y_train, 0.3)[0],
                 "closest training input", id="1.1-soft-lookup-width-0.3"),
    pytest.param("1.1", y_train[np.abs(diffs).argmax(axis=1)], "np.argmin",
                 id="1.1-argmax-farthest-key"),
    pytest.param("1.1", y_train[diffs.argmin(axis=1)], "absolute differences",
                 id="1.1-signed-differences"),
    pytest.param("1.1", y_train[np.abs(diffs).argmin(axis=0)], "For each test input",
                 id="1.1-argmin-over-test-inputs"),
    pytest.param("1.1", nearest, "take that training target", id="1.1-index-not-target"),
    pytest.param("1.1", x_train[nearest], "take that training target",
                 id="1.1-nearest-input-not-target"),
    pytest.param("1.1", y_train[nearest][:10], "expected 50 predictions, one per test input; "
                 "got 10", id="1.1-first-ten-only"),
    # 1.2: the Laplace kernel
    pytest.param("1.2", regression(-(diffs**2) / (2 * 0.3**2)), "minus the absolute distance",
                 id="1.2-gaussian-unchanged"),
    pytest.param("1.2", regression(np.abs(diffs) / 0.3), "minus the absolute distance",
                 id="1.2-forgot-minus"),
    pytest.param("1.2", regression(-(diffs**2) / 0.3), "absolute distance",
                 id="1.2-squared-distance"),
    pytest.param("1.2", regression(-np.abs(diffs)), "divided by the width",
                 id="1.2-forgot-width"),
    pytest.param("1.2", regression(-np.abs(diffs) * 0.3), "divided by the width",
                 id="1.2-times-width"),
    pytest.param("1.2", regression(-np.abs(diffs) / 0.3, axis=0),
                 "softmax over the training points", id="1.2-softmax-over-test-inputs"),
    pytest.param("1.2", np.exp(-np.abs(diffs) / 0.3) @ y_train,
                 "softmax over the training points", id="1.2-not-normalised"),
    # 1.3: the softmax axis
    pytest.param("1.3", regression(-(diffs**2) / (2 * 0.3**2), axis=0),
                 "Which axis runs over the training points?", id="1.3-buggy-axis-0"),
    pytest.param("1.3", reference.softmax(-(diffs**2) / (2 * 0.3**2), axis=0).T @ y_train,
                 "Which axis runs over the training points?", id="1.3-transposed-weights"),
    pytest.param("1.3", (lambda w: w / w.sum(axis=1, keepdims=True) @ y_train)(
        reference.softmax(-(diffs**2) / (2 * 0.3**2), axis=0)),
        "each query's weights should sum to 1", id="1.3-rows-renormalised-after-axis-0"),
    pytest.param("1.3", reference.softmax(-(diffs**2) / (2 * 0.3**2), axis=1),
                 "expected 50 predictions, one per test input; got 2500", id="1.3-the-weights"),
    # generic: the hint is about the axis, not the width or the queries
    pytest.param("1.3", reference.nadaraya_watson(x_test, x_train, y_train)[0],
                 "Which axis", id="1.3-default-width-1"),
    pytest.param("1.3", reference.nadaraya_watson(x_train, x_train, y_train, 0.3)[0],
                 "Which axis", id="1.3-predicted-at-training-inputs"),
]


(test_right_answer_is_accepted, test_typical_mistake_gets_its_diagnosis,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch01", RIGHT, WRONG, EXPECTED)
