"""The scoring functions as plain TensorFlow functions.

A score ``a(q, k)`` says how well a query matches a key; the layers in
:mod:`attn_lib.layers` turn scores into weights with :func:`masked_softmax`
and mix the values with them. All functions take queries ``(B, Tq, dq)`` and
keys ``(B, Tv, dk)`` and return scores ``(B, Tq, Tv)``.

=================  ===============================  ==================  ===========
score              formula                          parameters          extra memory
=================  ===============================  ==================  ===========
dot product        q·k / √d                         none                (B, Tq, Tv)
additive           w_v · tanh(q W_q + k W_k)        W_q, W_k, w_v       (B, Tq, Tv, h)
general/bilinear   q W kᵀ                           W (dq, dk)          (B, Tq, Tv)
Gaussian kernel    -‖q - k‖² / (2σ²)                the width σ         (B, Tq, Tv, d)
=================  ===============================  ==================  ===========

Each public function checks its arguments, then calls a private kernel of the
same name (``_dot_product_scores`` ...) that layers call after checking once.
"""

import tensorflow as tf

from attn_lib import _validate
from attn_lib.masking import size


def dot_product_scores(queries, keys, scaled=True):
    """``Q Kᵀ``, divided by ``√d`` when `scaled` (Vaswani et al., 2017).

    The queries are divided *before* the product, as Keras does, so that under
    mixed precision the scores do not overflow float16 when the scaled ones fit.

    Args:
        queries: ``(B, Tq, d)``.
        keys: ``(B, Tv, d)``, the same ``d``.
        scaled: bool; divide by √d so the scores' variance does not grow with d.

    Returns:
        ``(B, Tq, Tv)`` scores.

    Raises:
        ValueError: wrong ranks, different batch sizes or different ``d``.
        TypeError: non-float inputs, or `scaled` not a bool.

    Example:
        >>> import numpy as np
        >>> q = np.ones((1, 1, 4), "float32")
        >>> dot_product_scores(q, q).numpy()
        array([[[2.]]], dtype=float32)
    """
    _validate.check_pair(queries, keys, same_size=True)
    return _dot_product_scores(queries, keys, _validate.check_bool("scaled", scaled))


def _dot_product_scores(queries, keys, scaled=True):
    if scaled:  # 1/√d, with d read at run time if unknown while tracing
        queries = queries * tf.math.rsqrt(tf.cast(size(queries, -1), queries.dtype))
    return tf.matmul(queries, keys, transpose_b=True)  # (B, Tq, Tv)


def additive_scores(queries, keys, W_q, W_k, w_v):
    """Bahdanau's ``w_v · tanh(q W_q + k W_k)`` for every query–key pair.

    Args:
        queries: ``(B, Tq, dq)``.
        keys: ``(B, Tv, dk)``; `dk` may differ from `dq`.
        W_q: ``(dq, h)``; W_k: ``(dk, h)``; w_v: ``(h,)``.

    Returns:
        ``(B, Tq, Tv)`` scores. The intermediate tensor is ``(B, Tq, Tv, h)``,
        which is what makes additive attention costly in memory.

    Raises:
        ValueError: wrong ranks or sizes of the inputs or of the weights.
        TypeError: non-float inputs.

    Example:
        >>> import numpy as np
        >>> q = np.ones((1, 2, 3), "float32"); k = np.ones((1, 4, 5), "float32")
        >>> additive_scores(q, k, np.ones((3, 8)), np.ones((5, 8)), np.ones(8)).shape
        TensorShape([1, 2, 4])
    """
    q, k = _validate.check_pair(queries, keys, same_size=False)
    shapes = [_validate.shape_of(w) for w in (W_q, W_k, w_v)]
    h = shapes[0][-1] if shapes[0] else None
    expected = [(q[2], h), (k[2], h), (h,)]
    if not all(got is not None and len(got) == len(want) and all(
            None in (a, b) or a == b for a, b in zip(got, want))
            for got, want in zip(shapes, expected)):
        raise ValueError(
            "`W_q`, `W_k` and `w_v` must have shapes (dq, h), (dk, h) and (h,), here "
            f"({q[2]}, h), ({k[2]}, h) and (h,) with one h. Received: W_q.shape={shapes[0]}, "
            f"W_k.shape={shapes[1]}, w_v.shape={shapes[2]}")
    queries = tf.convert_to_tensor(queries)
    return _additive_scores(queries, keys, *(tf.cast(w, queries.dtype) for w in (W_q, W_k, w_v)))


def _additive_scores(queries, keys, W_q, W_k, w_v):
    projected_q = tf.expand_dims(tf.matmul(queries, W_q), 2)  # (B, Tq, 1, h)
    projected_k = tf.expand_dims(tf.matmul(keys, W_k), 1)  # (B, 1, Tv, h)
    features = tf.tanh(projected_q + projected_k)  # every pair: (B, Tq, Tv, h)
    return tf.tensordot(features, w_v, axes=1)  # (B, Tq, Tv)


def general_scores(queries, keys, W):
    """Luong's "general" score ``q W kᵀ`` with one ``(dq, dk)`` matrix for all pairs.

    Args:
        queries: ``(B, Tq, dq)``. keys: ``(B, Tv, dk)``. W: ``(dq, dk)``.

    Returns:
        ``(B, Tq, Tv)`` scores.

    Raises:
        ValueError: wrong ranks, or `W` not ``(dq, dk)``.
        TypeError: non-float inputs.

    Example:
        >>> import numpy as np
        >>> q = np.ones((1, 2, 3), "float32"); k = np.ones((1, 4, 5), "float32")
        >>> general_scores(q, k, np.ones((3, 5), "float32")).shape
        TensorShape([1, 2, 4])
    """
    q, k = _validate.check_pair(queries, keys, same_size=False)
    w_shape = _validate.shape_of(W)
    if w_shape is None or len(w_shape) != 2 or (q[2], k[2]) != w_shape:
        raise ValueError(f"`W` must have shape (dq, dk) = ({q[2]}, {k[2]}). "
                         f"Received: W.shape={w_shape}")
    return _general_scores(queries, keys, W)


def _general_scores(queries, keys, W):
    return tf.matmul(tf.matmul(queries, W), keys, transpose_b=True)  # (B, Tq, Tv)


def gaussian_kernel_scores(queries, keys, width=1.0):
    """Gaussian-kernel scores ``-‖q_i - k_j‖² / (2 width²)`` (Nadaraya, 1964; Watson, 1964).

    A softmax of these scores over the keys gives the Nadaraya–Watson weights.

    Args:
        queries: ``(B, Tq, d)``. keys: ``(B, Tv, d)``, the same ``d``.
        width: positive number or scalar tensor, the kernel width σ.

    Returns:
        ``(B, Tq, Tv)`` scores in the dtype of `queries`: 0 for equal inputs, more
        negative the farther apart. The differences ``(B, Tq, Tv, d)`` are formed,
        fine for the small ``d`` of regression.

    Raises:
        ValueError: wrong ranks, different batch sizes or ``d``, or ``width <= 0``.
        TypeError: non-float inputs or a non-numeric `width`.

    Example:
        >>> import numpy as np
        >>> q = np.zeros((1, 1, 1), "float32"); k = np.array([[[1.0], [2.0]]], "float32")
        >>> gaussian_kernel_scores(q, k, width=1.0).numpy()
        array([[[-0.5, -2. ]]], dtype=float32)
    """
    _validate.check_pair(queries, keys, same_size=True)
    _validate.check_positive("width", width)
    queries = tf.convert_to_tensor(queries)
    return _gaussian_kernel_scores(queries, tf.cast(keys, queries.dtype),
                                   tf.cast(width, queries.dtype))


def _gaussian_kernel_scores(queries, keys, width):
    diffs = tf.expand_dims(queries, 2) - tf.expand_dims(keys, 1)  # (B, Tq, Tv, d)
    return -tf.reduce_sum(tf.square(diffs), axis=-1) / (2 * tf.square(width))  # (B, Tq, Tv)
