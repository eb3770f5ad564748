"""Chapter 3's exercise checks (`attn_lib/exercises/ch03.py`): right answers in several forms
pass; the typical mistakes fail with a diagnosis that does not give the answer away.
"""

import numpy as np
import pytest
import tensorflow as tf
from exercise_tables import table_tests

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


# 3.4: repair grid-normalised weights (B, Tq, Tv) into per-query weights
def repair(grid):
    return grid / grid.sum(axis=-1, keepdims=True)


grid_weights = tf.nn.softmax(tf.range(12.0)).numpy().reshape(1, 3, 4)  # one softmax over a grid

EXPECTED = {"3.1": features_bytes, "3.2": variance**2 * d, "3.3": W, "3.4": None}

RIGHT = [
    pytest.param("3.1", features_bytes, id="3.1-int-from-tensor_bytes"),
    pytest.param("3.1", np.prod(shape_3_1, dtype=np.int64) * np.dtype("float32").itemsize,
                 id="3.1-numpy-int64"),
    pytest.param("3.1", float(f"{features_bytes:.4g}"), id="3.1-float-4-digits"),
    pytest.param("3.2", variance * variance * d, id="3.2-derived-float"),
    pytest.param("3.2", int(variance * variance) * d, id="3.2-int"),
    pytest.param("3.2", sampled_variance, id="3.2-sampled"),
    pytest.param("3.2", np.float32(variance**2 * d), id="3.2-float32"),
    pytest.param("3.3", np.eye(8, dtype="float32") / np.sqrt(8), id="3.3-float32"),
    pytest.param("3.3", W, id="3.3-float64"),
    pytest.param("3.3", tf.eye(8) / tf.sqrt(8.0), id="3.3-tf"),
    pytest.param("3.3", np.diag(np.full(8, 8**-0.5)).tolist(), id="3.3-nested-list"),
    pytest.param("3.4", repair, id="3.4-numpy"),
    pytest.param("3.4", lambda g: g / tf.reduce_sum(g, axis=-1, keepdims=True), id="3.4-tf"),
    pytest.param("3.4", lambda g: tf.nn.softmax(tf.math.log(g)), id="3.4-softmax-of-log"),
]

WRONG = [
    # 3.1
    pytest.param("3.1", elements, "then the bytes per float32", id="3.1-elements-not-bytes"),
    pytest.param("3.1", elements * 8, "the bytes per float32", id="3.1-float64-8-bytes"),
    pytest.param("3.1", elements * 32, "the bytes per float32", id="3.1-bits"),
    pytest.param("3.1", tensor_bytes(shape_3_1[:3]), "Multiply the four sizes B, Tq, Tv and h",
                 id="3.1-forgot-h"),
    # generic: nothing says the answer is in bytes, not GiB
    pytest.param("3.1", features_bytes / 2**30, "Multiply the four sizes", id="3.1-in-GiB"),
    # 3.2
    pytest.param("3.2", float(d), "Each product q_i k_i has variance Var(q_i) Var(k_i)",
                 id="3.2-unit-variance-answer"),
    pytest.param("3.2", (variance + variance) * d, "variance Var(q_i) Var(k_i)",
                 id="3.2-variances-added"),
    pytest.param("3.2", variance * d, "Var(q_i) Var(k_i)",
                 id="3.2-one-variance-only"),
    pytest.param("3.2", variance**2, "there are d of them", id="3.2-forgot-d"),
    # generic: the standard deviation instead of the variance
    pytest.param("3.2", np.sqrt(variance**2 * d), "Var(q_i) Var(k_i)", id="3.2-standard-deviation"),
    # 3.3
    pytest.param("3.3", np.eye(8), "what factor is left?", id="3.3-identity-unscaled"),
    pytest.param("3.3", np.eye(8) / 8, "what factor is left?", id="3.3-divided-by-d"),
    pytest.param("3.3", np.eye(8) * np.sqrt(8), "what factor is left?",
                 id="3.3-multiplied-by-sqrt-d"),
    pytest.param("3.3", np.ones((8, 8)) / np.sqrt(8), "makes q W kᵀ the plain dot product",
                 id="3.3-all-ones"),
    pytest.param("3.3", 1 / np.sqrt(8), "expected a matrix W of shape (8, 8); got shape ()",
                 id="3.3-the-factor-alone"),
    # 3.4
    pytest.param("3.4", lambda g: g, "only the row's total is wrong", id="3.4-left-as-is"),
    pytest.param("3.4", lambda g: g / g.sum(axis=1, keepdims=True), "Within one query's row",
                 id="3.4-normalised-over-queries"),
    pytest.param("3.4", lambda g: tf.nn.softmax(g), "keeps the ratios exp(s_ij)/exp(s_ik)",
                 id="3.4-softmax-of-the-weights"),
    pytest.param("3.4", lambda g: g * g.shape[1], "only the row's total is wrong",
                 id="3.4-times-Tq"),
    pytest.param("3.4", repair(grid_weights), "pass the function itself, not what it returns",
                 id="3.4-weights-not-function"),
]


(test_right_answer_is_accepted, test_typical_mistake_gets_its_diagnosis,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch03", RIGHT, WRONG, EXPECTED)
