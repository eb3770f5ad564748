"""Scoring functions against the NumPy formulas."""

import numpy as np
import pytest

from attn_lib import scoring


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
