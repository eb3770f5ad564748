"""attn_lib.scoring: the scoring functions against the NumPy formulas, and their errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from attn_lib import reference, scoring


def test_dot_product_scores_divide_by_the_square_root_of_the_size(rng):
    q = rng.normal(size=(2, 3, 16)).astype(np.float32)
    k = rng.normal(size=(2, 5, 16)).astype(np.float32)
    raw = q @ k.transpose(0, 2, 1)
    np.testing.assert_allclose(scoring.dot_product_scores(q, k, scaled=False).numpy(), raw,
                               atol=1e-5)
    np.testing.assert_allclose(scoring.dot_product_scores(q, k).numpy(), raw / 4.0, atol=1e-5)


def test_additive_scores_match_the_textbook_formula(rng):
    q = rng.normal(size=(2, 3, 4)).astype(np.float32)
    k = rng.normal(size=(2, 5, 2)).astype(np.float32)
    W_q, W_k = rng.normal(size=(4, 6)), rng.normal(size=(2, 6))
    w_v = rng.normal(size=(6,))
    expected = np.array([[[w_v @ np.tanh(W_q.T @ q[b, i] + W_k.T @ k[b, j]) for j in range(5)]
                          for i in range(3)] for b in range(2)])
    got = scoring.additive_scores(q, k, W_q.astype(np.float32), W_k.astype(np.float32),
                                  w_v.astype(np.float32)).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_general_scores_are_bilinear(rng):
    q = rng.normal(size=(1, 2, 3)).astype(np.float32)
    k = rng.normal(size=(1, 4, 5)).astype(np.float32)
    W = rng.normal(size=(3, 5)).astype(np.float32)
    np.testing.assert_allclose(scoring.general_scores(q, k, W).numpy(),
                               q @ W @ k.transpose(0, 2, 1), atol=1e-5)


def test_scoring_errors_name_the_arguments(rng):
    q = np.zeros((1, 2, 3), np.float32)
    with pytest.raises(ValueError, match=r"same size.*keys.shape=\(1, 4, 5\)"):
        scoring.dot_product_scores(q, np.zeros((1, 4, 5), np.float32))
    with pytest.raises(ValueError, match=r"`W` must have shape \(dq, dk\) = \(3, 5\).*\(5, 3\)"):
        scoring.general_scores(q, np.zeros((1, 4, 5), np.float32), np.zeros((5, 3), np.float32))
    with pytest.raises(ValueError, match=r"same batch size"):
        scoring.additive_scores(q, np.zeros((2, 4, 5), np.float32), None, None, None)
    with pytest.raises(ValueError, match=r"`W_q`, `W_k` and `w_v` must have.*W_q.shape=\(2, 6\)"):
        scoring.additive_scores(q, np.zeros((1, 4, 5), np.float32), np.zeros((2, 6)),
                                np.zeros((5, 6)), np.zeros(6))
    with pytest.raises(TypeError, match=r"`scaled` must be True or False.*'no'"):
        scoring.dot_product_scores(q, q, scaled="no")


def test_defect5_dot_product_scores_divide_before_the_product_so_float16_does_not_overflow():
    q = np.full((1, 2, 64), 40.0, np.float16)  # q·k = 102400 > 65504, q·k/8 = 12800 fits
    scores = scoring.dot_product_scores(tf.constant(q), tf.constant(q)).numpy()
    assert np.isfinite(scores).all()
    np.testing.assert_allclose(scores.astype(np.float64), 12800.0, rtol=1e-3)


@pytest.mark.parametrize("width", [0.1, 0.5, 2.0])
def test_softmax_of_gaussian_scores_gives_the_nadaraya_watson_weights(rng, width):
    x_train, x_test = rng.uniform(0, 5, 20), np.linspace(0, 5, 15)
    y_train = np.sin(x_train)
    scores = scoring.gaussian_kernel_scores(x_test.reshape(1, -1, 1).astype("float32"),
                                            x_train.reshape(1, -1, 1).astype("float32"), width)
    _, expected = reference.nadaraya_watson(x_test, x_train, y_train, width)
    np.testing.assert_allclose(tf.nn.softmax(scores).numpy()[0], expected, atol=1e-6)


def test_gaussian_scores_use_the_squared_euclidean_distance_in_several_dimensions(rng):
    queries = rng.normal(size=(2, 3, 4)).astype("float32")
    keys = rng.normal(size=(2, 5, 4)).astype("float32")
    squared = ((queries[:, :, None, :] - keys[:, None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(scoring.gaussian_kernel_scores(queries, keys, 0.7).numpy(),
                               -squared / (2 * 0.7**2), rtol=1e-5)
    width = keras.Variable(0.7)  # a layer's weight is accepted as the width
    np.testing.assert_allclose(scoring.gaussian_kernel_scores(queries, keys, width).numpy(),
                               -squared / (2 * 0.7**2), rtol=1e-5)


@pytest.mark.parametrize("width, error, message", [
    (0.0, ValueError, r"`width` must be > 0.*0.0"),
    (-1.0, ValueError, r"`width` must be > 0"),
    ("wide", TypeError, r"`width` must be a positive number.*'wide'"),
    (True, TypeError, r"`width` must be a positive number"),
])
def test_gaussian_width_errors_name_the_argument(width, error, message):
    q = np.zeros((1, 2, 1), np.float32)
    with pytest.raises(error, match=message):
        scoring.gaussian_kernel_scores(q, q, width)
