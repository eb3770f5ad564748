"""Chapter 11's exercise checks (`attn_lib/exercises/ch11.py`): right answers in several forms
pass; the classic slips (query heads counted in the cache, heads tiled instead of repeated,
a window off by one or placed at position 0) fail with the hint that names them, without
giving the answer away.
"""

import numpy as np
import pytest
import tensorflow as tf
from exercise_tables import table_tests

import attn_lib
from attn_lib import multihead
from attn_lib.exercises import ch11

C = ch11.CONFIG_11_1
RIGHT_BYTES = 2 * 24 * 8 * 2048 * 4 * 64 * 2  # written out: the exercise's configuration

# 11.2: share(k, groups), (B, h_kv, T, d) -> (B, h_kv * groups, T, d)


def share_tf(k, groups):
    return tf.repeat(k, groups, axis=1)


def share_broadcast(k, groups):
    b, h, t, d = k.shape
    return np.broadcast_to(k[:, :, None], (b, h, groups, t, d)).reshape(b, h * groups, t, d)


def share_gather(k, groups):
    heads = np.arange(k.shape[1] * groups) // groups  # query head u -> kv head u // g
    return np.take(k, heads, axis=1)


def share_tiled(k, groups):
    return tf.tile(k, (1, groups, 1, 1))


def share_concat(k, groups):
    return np.concatenate([k] * groups, axis=1)


# 11.3: window_mask(num_queries, window, offset) -> (Tq, offset + Tq)


def window_numpy(num_queries, window, offset=0):
    p = np.arange(offset, offset + num_queries)[:, None]
    j = np.arange(offset + num_queries)[None, :]
    return (p - window < j) & (j <= p)


def window_tf(num_queries, window, offset=0):
    causal = attn_lib.causal_mask(num_queries, offset + num_queries, offset=offset)
    older = attn_lib.causal_mask(num_queries, offset + num_queries, offset=offset - window)
    return tf.logical_and(causal, tf.logical_not(older)) if offset >= window else (
        np.asarray(causal) & ~np.asarray(window_numpy(num_queries, 10**6, offset - window)))


def window_loops(num_queries, window, offset=0):
    mask = np.zeros((num_queries, offset + num_queries), bool)
    for i in range(num_queries):
        p = offset + i
        for j in range(max(0, p - window + 1), p + 1):
            mask[i, j] = True
    return mask


def window_rows_of_full(num_queries, window, offset=0):
    n = offset + num_queries
    j, p = np.arange(n)[None, :], np.arange(n)[:, None]
    return ((p - window < j) & (j <= p))[-num_queries:]


def shifted(low):
    def mask(num_queries, window, offset=0):
        p = np.arange(offset, offset + num_queries)[:, None]
        j = np.arange(offset + num_queries)[None, :]
        return (p - window + low <= j) & (j <= p)
    return mask


def at_zero(num_queries, window, offset=0):
    p = np.arange(num_queries)[:, None]
    j = np.arange(offset + num_queries)[None, :]
    return (p - window < j) & (j <= p)


def band(num_queries, window, offset=0):
    p = np.arange(offset, offset + num_queries)[:, None]
    return np.abs(p - np.arange(offset + num_queries)[None, :]) < window


EXPECTED = {"11.1": RIGHT_BYTES, "11.2": None, "11.3": None}

RIGHT = [
    pytest.param("11.1", RIGHT_BYTES, id="11.1-int"),
    pytest.param("11.1", float(RIGHT_BYTES), id="11.1-float"),
    pytest.param("11.1", np.int64(RIGHT_BYTES), id="11.1-numpy-int"),
    pytest.param("11.1", attn_lib.kv_cache_bytes(24, 4, 64, 2048, batch_size=8,
                                                 dtype="float16"), id="11.1-kv_cache_bytes"),
    pytest.param("11.2", share_tf, id="11.2-tf.repeat"),
    pytest.param("11.2", lambda k, g: np.repeat(k, g, axis=1), id="11.2-np.repeat"),
    pytest.param("11.2", share_broadcast, id="11.2-broadcast-and-reshape"),
    pytest.param("11.2", share_gather, id="11.2-gather-u-div-g"),
    pytest.param("11.3", window_numpy, id="11.3-numpy-positions"),
    pytest.param("11.3", window_loops, id="11.3-loops"),
    pytest.param("11.3", window_rows_of_full, id="11.3-last-rows-of-the-full-mask"),
]

MISTAKES = [
    # 11.1
    pytest.param("11.1", 2 * 24 * 8 * 2048 * 16 * 64 * 2, "query_heads", id="11.1-h_q"),
    pytest.param("11.1", 24 * 8 * 2048 * 4 * 64 * 2, "keys_only", id="11.1-no-factor-2"),
    pytest.param("11.1", 2 * 8 * 2048 * 4 * 64 * 2, "one_layer", id="11.1-one-layer"),
    pytest.param("11.1", RIGHT_BYTES * 8, "bits", id="11.1-bits"),
    pytest.param("11.1", 2 * 24 * 2048 * 4 * 64 * 2, "one_sequence", id="11.1-batch-1"),
    pytest.param("11.1", 2 * 24 * 8 * 2048 * 4 * 64 * 4, "float32", id="11.1-4-bytes"),
    pytest.param("11.1", "402 MB", "not_a_number", id="11.1-string"),
    # 11.2
    pytest.param("11.2", share_tiled, "tiled", id="11.2-tf.tile"),
    pytest.param("11.2", share_concat, "tiled", id="11.2-concatenate-copies"),
    pytest.param("11.2", lambda k, g: np.repeat(k, g, axis=2), "time_axis",
                 id="11.2-repeat-positions"),
    pytest.param("11.2", lambda k, g: tf.repeat(k, g, axis=0), "batch_axis",
                 id="11.2-repeat-batch"),
    pytest.param("11.2", lambda k, g: np.repeat(k, g, axis=-1), "feature_axis",
                 id="11.2-repeat-features"),
    pytest.param("11.2", lambda k, g: k, "not_shared", id="11.2-unchanged"),
    pytest.param("11.2", lambda k, g: multihead.share_heads(k, g), "library",
                 id="11.2-calls-share_heads"),
    pytest.param("11.2", np.zeros((2, 6, 5, 4)), "not_function", id="11.2-array"),
    # 11.3
    pytest.param("11.3", shifted(0), "one_too_many", id="11.3-W-plus-1-keys"),
    pytest.param("11.3", shifted(2), "one_too_few", id="11.3-W-minus-1-keys"),
    pytest.param("11.3", band, "not_causal", id="11.3-symmetric-band"),
    pytest.param("11.3", at_zero, "offset_ignored", id="11.3-queries-at-0"),
    pytest.param("11.3", lambda tq, w, o=0: attn_lib.causal_mask(tq, o + tq, offset=o),
                 "causal_only", id="11.3-causal-mask-only"),
    pytest.param("11.3", lambda tq, w, o=0: ~window_numpy(tq, w, o), "inverted",
                 id="11.3-inverted"),
    pytest.param("11.3", lambda tq, w, o=0: attn_lib.sliding_window_mask(tq, w, offset=o),
                 "library", id="11.3-calls-sliding_window_mask"),
    pytest.param("11.3", window_numpy(3, 2, 1), "not_function", id="11.3-array"),
]


def test_the_exercise_configuration_is_the_one_written_out_here():
    assert C == dict(layers=24, query_heads=16, kv_heads=4, head_dim=64, batch=8,
                     positions=2048, bytes_per_number=2)


(test_right_answer_is_accepted, test_known_mistake_is_rejected_without_giving_the_answer_away,
 test_most_of_the_bank_gets_its_own_hint, test_no_hint_gives_the_answer_away,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch11", RIGHT, MISTAKES, EXPECTED)
