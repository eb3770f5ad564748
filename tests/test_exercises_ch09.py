"""Chapter 9's exercise checks (`attn_lib/exercises/ch09.py`): right answers in several forms
pass; the classic mistakes fail with the hint that names them, without giving the answer away.
"""

import numpy as np
import pytest
import tensorflow as tf
from exercise_tables import table_tests

import attn_lib
from attn_lib import reference
from attn_lib.diagnostics import attention_weights_bytes
from attn_lib.exercises import ch09

# ---------------------------------------------------------------------------------------------
# 9.1: merge two partial softmax states


def merge(a, b):
    """The worked solution."""
    (m_a, l_a, o_a), (m_b, l_b, o_b) = a, b
    m = np.maximum(m_a, m_b)
    alpha, beta = np.exp(m_a - m), np.exp(m_b - m)
    return m, alpha * l_a + beta * l_b, alpha[:, None] * o_a + beta[:, None] * o_b


def merge_loop(a, b):
    out = []
    for i in range(len(a[0])):
        m = max(a[0][i], b[0][i])
        fa, fb = np.exp(a[0][i] - m), np.exp(b[0][i] - m)
        out.append((m, fa * a[1][i] + fb * b[1][i], fa * a[2][i] + fb * b[2][i]))
    return tuple(np.array(x) for x in zip(*out))


def merge_tf(a, b):
    m = tf.maximum(a[0], b[0])
    alpha, beta = tf.exp(a[0] - m), tf.exp(b[0] - m)
    return (m.numpy(), (alpha * a[1] + beta * b[1]).numpy(),
            (alpha[:, None] * a[2] + beta[:, None] * b[2]).numpy())


def slip(**kwargs):
    return lambda a, b: ch09._merge(a, b, **kwargs)


def normalised(a, b):
    m, norm, o = merge(a, b)
    return m, norm, o / norm[:, None]


def sum_of_maxima(a, b):
    m = a[0] + b[0]
    return m, a[1] * np.exp(a[0] - m) + b[1] * np.exp(b[0] - m), a[2] + b[2]


# ---------------------------------------------------------------------------------------------
# 9.2: the tiled loop with o rescaled


def fixed_loop(queries, keys, values, block_size):
    return ch09._loop(queries, keys, values, block_size)


def fixed_with_merge(queries, keys, values, block_size):
    out = np.zeros((len(queries), values.shape[1]))
    for q0 in range(0, len(queries), block_size):
        q = queries[q0:q0 + block_size] / np.sqrt(queries.shape[1])
        state = (np.full(len(q), -np.inf), np.zeros(len(q)), np.zeros((len(q), values.shape[1])))
        for k0 in range(0, len(keys), block_size):
            part = reference.softmax_state(q @ keys[k0:k0 + block_size].T,
                                           values[k0:k0 + block_size])
            state = merge(state, part)
        out[q0:q0 + block_size] = state[2] / state[1][:, None]
    return out


def plain_numpy(queries, keys, values, block_size):
    s = queries @ keys.T / np.sqrt(queries.shape[1])
    w = np.exp(s - s.max(axis=1, keepdims=True))
    return (w / w.sum(axis=1, keepdims=True)) @ values


def calls_the_library(queries, keys, values, block_size):
    return attn_lib.tiled_attention(queries[None], keys[None], values[None],
                                    block_q=block_size, block_k=block_size)[0].numpy()


def calls_the_oracle(queries, keys, values, block_size):
    return reference.tiled_attention(queries, keys, values, block_size, block_size)[0]


def loop_slip(**kwargs):
    return lambda q, k, v, b: ch09._loop(q, k, v, b, **kwargs)


# ---------------------------------------------------------------------------------------------
# 9.3: bytes of the largest live tensors

B, h, T, block = 2, 8, 4096, 64
plain_bytes, tiled_bytes = 2 * B * h * T * T * 4, 2 * B * h * block * block * 4

RIGHT = [
    ("9.1", merge), ("9.1", merge_loop), ("9.1", merge_tf),
    ("9.2", fixed_loop), ("9.2", fixed_with_merge), ("9.2", plain_numpy),
    ("9.3", (plain_bytes, tiled_bytes)), ("9.3", [plain_bytes, tiled_bytes]),
    ("9.3", np.array([plain_bytes, tiled_bytes], dtype=np.int64)),
    ("9.3", (2 * attention_weights_bytes(T, B, h), float(tiled_bytes))),
]

MISTAKES = [
    pytest.param("9.1", sum_of_maxima, "sum_of_maxima", id="9.1-sum"),
    pytest.param("9.1", slip(combine=np.minimum), "min_not_max", id="9.1-min"),
    pytest.param("9.1", slip(rescale_l=False), "l_not_rescaled", id="9.1-l"),
    pytest.param("9.1", slip(rescale_o=False), "o_not_rescaled", id="9.1-o"),
    pytest.param("9.1", slip(power=np.exp2), "base_two", id="9.1-base2"),
    pytest.param("9.1", slip(power=lambda x: np.exp(-x)), "inverted_factor", id="9.1-sign"),
    pytest.param("9.1", normalised, "normalised", id="9.1-normalised"),
    pytest.param("9.1", merge(*[reference.softmax_state(np.zeros((1, 2)), np.zeros((2, 1)))] * 2),
                 "not_function", id="9.1-value"),
    pytest.param("9.1", lambda a, b: reference.merge_softmax_states(a, b), "library",
                 id="9.1-library"),
    pytest.param("9.2", loop_slip(rescale_o=False), "o_not_rescaled", id="9.2-unfixed"),
    pytest.param("9.2", loop_slip(rescale_l=False), "l_not_rescaled", id="9.2-l"),
    pytest.param("9.2", loop_slip(rescale_after=True), "rescale_after", id="9.2-after"),
    pytest.param("9.2", loop_slip(update_max=False), "max_not_updated", id="9.2-max"),
    pytest.param("9.2", loop_slip(normalise=False), "not_normalised", id="9.2-normalise"),
    pytest.param("9.2", loop_slip(scaled=False), "no_scale", id="9.2-scale"),
    pytest.param("9.2", np.zeros((6, 3)), "not_function", id="9.2-value"),
    pytest.param("9.2", calls_the_library, "library", id="9.2-library"),
    pytest.param("9.2", calls_the_oracle, "library", id="9.2-oracle"),
    pytest.param("9.3", (plain_bytes / 2, tiled_bytes), "once", id="9.3-once"),
    pytest.param("9.3", (plain_bytes / 2, tiled_bytes / 2), "once", id="9.3-once-both"),
    pytest.param("9.3", (plain_bytes * 2, tiled_bytes * 2), "float64", id="9.3-float64"),
    pytest.param("9.3", (plain_bytes * 8, tiled_bytes * 8), "bits", id="9.3-bits"),
    pytest.param("9.3", (plain_bytes / h, tiled_bytes / h), "no_heads", id="9.3-heads"),
    pytest.param("9.3", (plain_bytes / B, tiled_bytes / B), "no_batch", id="9.3-batch"),
    pytest.param("9.3", (plain_bytes / 2**20, tiled_bytes / 2**20), "mebibytes", id="9.3-mib"),
    pytest.param("9.3", (plain_bytes / 1e6, tiled_bytes / 1e6), "mebibytes", id="9.3-mb"),
    pytest.param("9.3", (plain_bytes, tiled_bytes / 2), "tile_once", id="9.3-tile-once"),
    pytest.param("9.3", (plain_bytes, 2 * B * h * block * T * 4), "row_block", id="9.3-rows"),
]

EXPECTED = {"9.1": None, "9.2": None, "9.3": (plain_bytes, tiled_bytes)}

(test_right_answer_is_accepted,
 test_known_mistake_is_rejected_without_giving_the_answer_away,
 test_most_of_the_bank_gets_its_own_hint, test_no_hint_gives_the_answer_away,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch09", RIGHT, MISTAKES, EXPECTED)


def test_the_chapter_s_buggy_loop_is_caught_by_running_it():
    from attn_lib.exercises import diagnosis

    assert diagnosis("9.2", loop_slip(rescale_o=False)) == "o_not_rescaled"
    assert diagnosis("9.2", lambda q, k, v, b: plain_numpy(q, k, v, b) + 1e-3) is False
