"""Masks and the masked softmax.

A mask is boolean with ``True`` = *keep* (attend to this key), the Keras
convention. Two ways to say which keys are real:

- ``valid_lens`` – integers, ``(B,)`` (the same length for every query) or
  ``(B, Tq)`` (one length per query); key position ``j`` is kept when
  ``j < valid_len``;
- ``mask`` – any boolean tensor that broadcasts to the scores ``(..., Tq, Tv)``.

Both may be given; a key is kept only when both keep it.
"""

import tensorflow as tf

from attn_lib import _validate


def sequence_mask(valid_lens, maxlen):
    """Boolean mask that keeps the first ``valid_lens`` positions of each row.

    Args:
        valid_lens: integer tensor of any shape, e.g. ``(B,)`` or ``(B, Tq)``.
        maxlen: Python int, the number of positions ``Tv``.

    Returns:
        Boolean tensor of shape ``valid_lens.shape + (maxlen,)`` with
        ``mask[..., j] = j < valid_lens[...]``.

    Example:
        >>> sequence_mask([1, 3], 4).numpy()
        array([[ True, False, False, False],
               [ True,  True,  True, False]])
    """
    maxlen = _validate.check_positive_int("maxlen", maxlen, allow_zero=True)
    if not _validate.dtype_of(valid_lens).is_integer:
        raise TypeError(
            "`valid_lens` must hold integers. "
            f"Received: valid_lens.dtype={_validate.dtype_of(valid_lens).name}"
        )
    return _sequence_mask(valid_lens, maxlen)


def _sequence_mask(valid_lens, maxlen):
    """`sequence_mask` without checks; `maxlen` may be a scalar tensor."""
    valid_lens = tf.convert_to_tensor(valid_lens)
    positions = tf.range(maxlen, dtype=valid_lens.dtype)
    return positions < valid_lens[..., tf.newaxis]


def causal_mask(num_queries, num_kv=None):
    """Boolean ``(Tq, Tv)`` mask with ``mask[i, j] = j <= i``: no peeking at the future.

    Example:
        >>> causal_mask(3).numpy().astype(int)
        array([[1, 0, 0],
               [1, 1, 0],
               [1, 1, 1]])
    """
    num_queries = _validate.check_positive_int("num_queries", num_queries)
    num_kv = num_queries if num_kv is None else _validate.check_positive_int("num_kv", num_kv)
    return tf.range(num_kv)[tf.newaxis, :] <= tf.range(num_queries)[:, tf.newaxis]


def _keep_mask(scores, valid_lens, mask):
    """Combine `valid_lens` and `mask` into one boolean mask that broadcasts to `scores`."""
    shape = _validate.shape_of(scores)
    keep = None
    if valid_lens is not None:
        _validate.check_valid_lens(valid_lens, shape[0], shape[-2])
        maxlen = tf.shape(scores)[-1] if shape[-1] is None else shape[-1]
        lens_mask = _sequence_mask(valid_lens, maxlen)  # (B, Tv) or (B, Tq, Tv)
        lens_rank = len(_validate.shape_of(valid_lens))
        if lens_rank == 1:
            lens_mask = lens_mask[:, tf.newaxis, :]  # (B, 1, Tv)
        # head axes (B, h, Tq, Tv) sit between the batch axis and (Tq, Tv)
        for _ in range(len(shape) - 3):
            lens_mask = tf.expand_dims(lens_mask, 1)
        keep = lens_mask
    if mask is not None:
        _validate.check_mask(mask, shape)
        mask = tf.convert_to_tensor(mask)
        keep = mask if keep is None else tf.logical_and(keep, mask)
    return keep


def masked_softmax(scores, valid_lens=None, mask=None):
    """Softmax over the last axis in which masked keys get weight exactly 0.

    Unlike the common trick of adding a large negative number to masked scores,
    this never gives a fully-masked row uniform weights (it returns zeros), does
    not overflow in float16 or bfloat16, and is stable for huge scores.

    Args:
        scores: float tensor ``(B, Tq, Tv)`` (or ``(B, h, Tq, Tv)``).
        valid_lens: optional integer tensor ``(B,)`` or ``(B, Tq)``; key
            positions ``j >= valid_len`` are masked.
        mask: optional boolean tensor broadcastable to `scores`, ``True`` = keep.

    Returns:
        Tensor of the shape and dtype of `scores`. Each row sums to 1 over its
        kept positions, or is all zeros when nothing is kept.

    Raises:
        ValueError: `scores` has fewer than 2 axes, `valid_lens` has the wrong
            shape or a negative entry, or `mask` does not broadcast.
        TypeError: `scores` is not floating point, `valid_lens` not integer, or
            `mask` not boolean.

    Example:
        >>> import numpy as np
        >>> scores = np.zeros((1, 2, 4), dtype="float32")
        >>> masked_softmax(scores, valid_lens=np.array([[1, 0]])).numpy()
        array([[[1., 0., 0., 0.],
                [0., 0., 0., 0.]]], dtype=float32)
    """
    shape = _validate.shape_of(scores)
    if shape is None or len(shape) < 2:
        raise ValueError(
            "`scores` must have at least 2 axes, (..., Tq, Tv). "
            f"Received: scores.shape={shape}"
        )
    _validate.check_float("scores", scores)
    if valid_lens is not None and len(shape) < 3:
        raise ValueError(
            "With `valid_lens`, `scores` must be (B, Tq, Tv) or (B, h, Tq, Tv). "
            f"Received: scores.shape={shape}"
        )
    scores = tf.convert_to_tensor(scores)
    keep = _keep_mask(scores, valid_lens, mask)
    if keep is None:
        return tf.nn.softmax(scores, axis=-1)
    # 1) rows with at least one kept key; computed on the (small, unbroadcast) mask
    has_keys = tf.reduce_any(keep, axis=-1, keepdims=True)
    # 2) masked keys score -inf, so exp() gives them exactly 0. A row with no kept key
    #    would be all -inf and give NaN: fill it with zeros instead, then zero it below.
    #    No large negative constant, so nothing overflows in float16/bfloat16.
    fill = tf.where(has_keys, tf.constant(float("-inf"), scores.dtype),
                    tf.constant(0.0, scores.dtype))
    masked = tf.where(keep, scores, fill)
    # 3) the fused, max-shifted softmax: stable for huge scores
    weights = tf.nn.softmax(masked, axis=-1)
    # 4) zero the rows that had no key (skipped, saving a pass, when there are none)
    return tf.cond(tf.reduce_all(has_keys), lambda: weights,
                   lambda: tf.where(has_keys, weights, tf.zeros_like(weights)))
