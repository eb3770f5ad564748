"""Chapter 3's exercise checks (`attn_lib/exercises/ch03.py`): right answers in several forms
pass; the typical mistakes fail with the hint that names them, without giving the answer away.
"""

import numpy as np
import pytest
import tensorflow as tf
from exercise_tables import table_tests

from attn_lib import masked_softmax, scoring
from attn_lib.diagnostics import tensor_bytes

# 3.1: the (B, Tq, Tv, h) features of additive attention, float32
shape_3_1 = (32, 512, 512, 128)
features_bytes = tensor_bytes(shape_3_1, "float32")
elements = int(np.prod(shape_3_1, dtype=np.int64))

# 3.2: Var(q·k) for components of variance 4 (standard deviation 2), d = 64
d, variance = 64, 4.0
rng = np.random.default_rng(0)
q, k = rng.normal(scale=2.0, size=(2, 20_000, d))
sampled_variance = np.var(np.sum(q * k, axis=1))  # the worked solution's check by sampling

# 3.3: W with general_scores(q, k, W) == the scaled dot product, size 8
W = np.eye(8) / np.sqrt(8)


def solved_by_least_squares():
    """W fitted to the scaled dot products of random q, k: q W kᵀ is linear in W."""
    queries, keys = rng.normal(size=(2, 200, 8))
    targets = scoring.dot_product_scores(queries[None], keys[None]).numpy()[0]  # (200, 200)
    design = np.einsum("qi,kj->qkij", queries, keys).reshape(-1, 64)
    solution, *_ = np.linalg.lstsq(design, targets.reshape(-1), rcond=None)
    return solution.reshape(8, 8)


# 3.4: repair grid-normalised weights (B, Tq, Tv) into per-query weights
def repair(grid):
    return grid / grid.sum(axis=-1, keepdims=True)


grid_weights = tf.nn.softmax(tf.range(12.0)).numpy().reshape(1, 3, 4)  # one softmax over a grid

EXPECTED = {"3.1": features_bytes, "3.2": variance**2 * d, "3.3": W, "3.4": None}

RIGHT = [
    pytest.param("3.1", features_bytes, id="3.1-int-from-tensor_bytes"),
    pytest.param("3.1", np.prod(shape_3_1, dtype=np.int64) * np.dtype("float32").itemsize,
                 id="3.1-numpy-int64"),
    pytest.param("3.1", float(f"{features_bytes:.3g}"), id="3.1-float-3-digits"),
    pytest.param("3.1", 4 * 2**30, id="3.1-4-GiB-in-bytes"),
    pytest.param("3.1", tf.reduce_prod(tf.constant(shape_3_1, tf.int64)) * 4,
                 id="3.1-tf-int64-product"),
    pytest.param("3.2", variance * variance * d, id="3.2-derived-float"),
    pytest.param("3.2", int(variance * variance) * d, id="3.2-int"),
    pytest.param("3.2", sampled_variance, id="3.2-sampled"),
    pytest.param("3.2", np.float32(variance**2 * d), id="3.2-float32"),
    pytest.param("3.3", np.eye(8, dtype="float32") / np.sqrt(8), id="3.3-float32"),
    pytest.param("3.3", W, id="3.3-float64"),
    pytest.param("3.3", tf.eye(8) / tf.sqrt(8.0), id="3.3-tf"),
    pytest.param("3.3", np.diag(np.full(8, 8**-0.5)).tolist(), id="3.3-nested-list"),
    pytest.param("3.3", solved_by_least_squares(), id="3.3-least-squares-fit"),
    pytest.param("3.4", repair, id="3.4-numpy"),
    pytest.param("3.4", lambda g: g / tf.reduce_sum(g, axis=-1, keepdims=True), id="3.4-tf"),
    pytest.param("3.4", lambda g: tf.nn.softmax(tf.math.log(g)), id="3.4-softmax-of-log"),
    pytest.param("3.4", lambda g: masked_softmax(np.log(g)), id="3.4-attn_lib-softmax-of-log"),
]

MISTAKES = [
    # 3.1
    pytest.param("3.1", elements, "elements", id="3.1-elements-not-bytes"),
    pytest.param("3.1", elements * 8, "dtype", id="3.1-float64-8-bytes"),
    pytest.param("3.1", elements * 32, "bits", id="3.1-bits"),
    pytest.param("3.1", tensor_bytes(shape_3_1[:3]), "missing_size", id="3.1-forgot-h"),
    pytest.param("3.1", tensor_bytes(shape_3_1[1:]), "missing_size", id="3.1-forgot-B"),
    pytest.param("3.1", features_bytes / 2**30, "units", id="3.1-in-GiB"),
    pytest.param("3.1", features_bytes / 1e9, "units", id="3.1-in-GB"),
    pytest.param("3.1", [features_bytes, features_bytes / 2**30], "not_a_number",
                 id="3.1-bytes-and-GiB-pair"),
    # 3.2
    pytest.param("3.2", float(d), "unit_variance", id="3.2-unit-variance-answer"),
    pytest.param("3.2", (variance + variance) * d, "added", id="3.2-variances-added"),
    pytest.param("3.2", variance * d, "one_factor", id="3.2-one-variance-only"),
    pytest.param("3.2", 2.0 * 2.0 * d, "one_factor", id="3.2-standard-deviations-multiplied"),
    pytest.param("3.2", variance**2, "forgot_d", id="3.2-forgot-d"),
    pytest.param("3.2", np.var(np.sum(q * k, axis=1) / np.sqrt(d)), "forgot_d",
                 id="3.2-sampled-the-scaled-score"),
    pytest.param("3.2", np.sqrt(variance**2 * d), "standard_deviation",
                 id="3.2-standard-deviation"),
    pytest.param("3.2", np.std(np.sum(q * k, axis=1)), "standard_deviation",
                 id="3.2-np.std-of-samples"),
    pytest.param("3.2", np.sum(q * k, axis=1), "not_a_number", id="3.2-the-samples-not-np.var"),
    # 3.3
    pytest.param("3.3", np.eye(8), "unscaled", id="3.3-identity-unscaled"),
    pytest.param("3.3", np.eye(8) / 8, "factor", id="3.3-divided-by-d"),
    pytest.param("3.3", np.eye(8) * np.sqrt(8), "factor", id="3.3-multiplied-by-sqrt-d"),
    pytest.param("3.3", np.ones((8, 8)) / np.sqrt(8), "not_diagonal", id="3.3-all-ones"),
    pytest.param("3.3", 1 / np.sqrt(8), "factor_only", id="3.3-the-factor-alone"),
    pytest.param("3.3", np.full(8, 1 / np.sqrt(8)), "diagonal_only", id="3.3-the-diagonal"),
    pytest.param("3.3", np.eye(4) / 2, "size", id="3.3-size-4-from-chapter-0"),
    # 3.4
    pytest.param("3.4", lambda g: g, "unchanged", id="3.4-left-as-is"),
    pytest.param("3.4", lambda g: g / g.sum(axis=1, keepdims=True), "wrong_axis",
                 id="3.4-normalised-over-queries"),
    pytest.param("3.4", lambda g: tf.nn.softmax(g), "softmax_again",
                 id="3.4-softmax-of-the-weights"),
    pytest.param("3.4", lambda g: g * g.shape[1], "one_factor", id="3.4-times-Tq"),
    pytest.param("3.4", lambda g: g / g.sum(axis=-1).mean(), "one_factor",
                 id="3.4-divided-by-the-mean-row-total"),
    pytest.param("3.4", lambda g: g / g.max(axis=-1, keepdims=True), "max_not_sum",
                 id="3.4-divided-by-row-max"),
    pytest.param("3.4", repair(grid_weights), "not_function", id="3.4-weights-not-function"),
]

(test_right_answer_is_accepted,
 test_known_mistake_is_rejected_without_giving_the_answer_away,
 test_most_of_the_bank_gets_its_own_hint,
 test_no_hint_gives_the_answer_away,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch03", RIGHT, MISTAKES, EXPECTED)
