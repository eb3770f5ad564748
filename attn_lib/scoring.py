"""The three scoring functions as plain TensorFlow functions.

A score ``a(q, k)`` says how well a query matches a key; the layers in
:mod:`attn_lib.layers` turn scores into weights with :func:`masked_softmax`
and mix the values with them. All functions take queries ``(B, Tq, dq)`` and
keys ``(B, Tv, dk)`` and return scores ``(B, Tq, Tv)``.

=================  ===============================  ==================  ===========
score              formula                          parameters          extra memory
=================  ===============================  ==================  ===========
dot product        q·k / √d                         none                (B, Tq, Tv)
additive           w_vᵀ tanh(W_q q + W_k k)         W_q, W_k, w_v       (B, Tq, Tv, h)
general/bilinear   q W kᵀ                           W (dq, dk)          (B, Tq, Tv)
=================  ===============================  ==================  ===========
"""

import math

import tensorflow as tf

from attn_lib import _validate


def _check_pair(queries, keys, same_size):
    q = _validate.check_rank("queries", queries, 3)
    k = _validate.check_rank("keys", keys, 3)
    _validate.check_float("queries", queries)
    _validate.check_float("keys", keys)
    _validate.check_same("`queries` and `keys` must have the same batch size",
                         ("queries.shape[0]", "keys.shape[0]"), (q[0], k[0]))
    if same_size and None not in (q[2], k[2]) and q[2] != k[2]:
        raise ValueError(
            "Dot-product scoring needs queries and keys of the same size (the last axis). "
            f"Received: queries.shape={q}, keys.shape={k}"
        )
    return q, k


def dot_product_scores(queries, keys, scaled=True):
    """``Q Kᵀ``, divided by ``√dk`` when `scaled` (Vaswani et al., 2017).

    Args:
        queries: ``(B, Tq, d)``.
        keys: ``(B, Tv, d)``, the same ``d``.
        scaled: divide by √d so the scores' variance does not grow with d.

    Returns:
        ``(B, Tq, Tv)`` scores.
    """
    q, _ = _check_pair(queries, keys, same_size=True)
    scores = tf.matmul(queries, keys, transpose_b=True)  # (B, Tq, Tv)
    if scaled:
        d = q[2]
        if d is None:  # size unknown while tracing: read it at run time
            scores = scores * tf.math.rsqrt(tf.cast(tf.shape(queries)[-1], scores.dtype))
        else:
            scores = scores / math.sqrt(d)
    return scores


def additive_scores(queries, keys, W_q, W_k, w_v):
    """Bahdanau's ``w_vᵀ tanh(W_q q + W_k k)`` for every query–key pair.

    Args:
        queries: ``(B, Tq, dq)``.
        keys: ``(B, Tv, dk)``; `dk` may differ from `dq`.
        W_q: ``(dq, h)``; W_k: ``(dk, h)``; w_v: ``(h,)`` or ``(h, 1)``.

    Returns:
        ``(B, Tq, Tv)`` scores. The intermediate tensor is ``(B, Tq, Tv, h)``,
        which is what makes additive attention costly in memory.
    """
    _check_pair(queries, keys, same_size=False)
    projected_q = tf.matmul(queries, W_q)  # (B, Tq, h)
    projected_k = tf.matmul(keys, W_k)  # (B, Tv, h)
    # broadcast to every pair: (B, Tq, 1, h) + (B, 1, Tv, h) -> (B, Tq, Tv, h)
    features = tf.tanh(projected_q[:, :, tf.newaxis, :] + projected_k[:, tf.newaxis, :, :])
    return tf.tensordot(features, tf.reshape(w_v, (-1,)), axes=1)  # (B, Tq, Tv)


def general_scores(queries, keys, W):
    """Luong's "general" score ``q W kᵀ`` with one ``(dq, dk)`` matrix for all pairs.

    Returns:
        ``(B, Tq, Tv)`` scores.
    """
    q, k = _check_pair(queries, keys, same_size=False)
    w_shape = _validate.shape_of(W)
    if w_shape is not None and (len(w_shape) != 2 or (q[2], k[2]) != w_shape):
        raise ValueError(
            f"`W` must have shape (dq, dk) = ({q[2]}, {k[2]}). Received: W.shape={w_shape}"
        )
    return tf.matmul(tf.matmul(queries, W), keys, transpose_b=True)  # (B, Tq, Tv)
