"""Masks and the masked softmax.

A mask is boolean with ``True`` = *keep* (attend to this key), the Keras
convention. Two ways to say which keys are real:

- ``valid_lens`` – integers, ``(B,)`` (the same length for every query) or
  ``(B, Tq)`` (one length per query); key position ``j`` is kept when
  ``j < valid_len``;
- ``mask`` – a boolean tensor of the rank of the scores ``(..., Tq, Tv)``, each
  size equal to the scores' or 1 (never read differently because two sizes match).

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

    Raises:
        TypeError: `valid_lens` does not hold integers, or `maxlen` is not an int.
        ValueError: `maxlen` is negative.

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


def size(x, axis):
    """The size of `x` along `axis`: a Python int when known, else a scalar tensor.

    (Eager slices such as ``tf.shape(x)[-1]`` or ``x[:, tf.newaxis]`` cost ~0.1 ms
    each, more than the arithmetic at small sizes: kernels use this and
    ``tf.expand_dims`` instead.)
    """
    return x.shape[axis] if x.shape[axis] is not None else tf.shape(x)[axis]


def _sequence_mask(valid_lens, maxlen):
    """`sequence_mask` without checks; `maxlen` may be a scalar tensor."""
    valid_lens = tf.convert_to_tensor(valid_lens)
    if valid_lens.dtype != tf.int32:  # int8 ... uint64: compare in int64
        valid_lens = tf.cast(valid_lens, tf.int64)
        maxlen = tf.cast(maxlen, tf.int64) if tf.is_tensor(maxlen) else maxlen
    positions = tf.range(maxlen, dtype=valid_lens.dtype)
    return positions < tf.expand_dims(valid_lens, -1)


def causal_mask(num_queries, num_kv=None, offset=0):
    """Boolean ``(Tq, Tv)`` mask with ``mask[i, j] = j <= i + offset``: no peeking at the future.

    With ``offset=0`` (the default) query ``i`` sits at position ``i``. A chunk of
    queries generated after ``offset`` cached positions sits at positions ``offset ...
    offset + Tq - 1`` and may see every cached key: ``causal_mask(t, offset + t, offset)``
    is the last ``t`` rows of ``causal_mask(offset + t)``.

    Args:
        num_queries: int, ``Tq``.
        num_kv: int, ``Tv`` (default ``Tq + offset``).
        offset: int >= 0, the position of the first query (default 0).

    Returns:
        Boolean tensor ``(Tq, Tv)``. A layer takes it with a batch axis, ``mask[None]``.

    Raises:
        TypeError, ValueError: a size that is not a positive integer, or a negative offset.

    Example:
        >>> causal_mask(3).numpy().astype(int)
        array([[1, 0, 0],
               [1, 1, 0],
               [1, 1, 1]])
        >>> causal_mask(2, offset=3).numpy().astype(int)  # 2 new queries after 3 cached
        array([[1, 1, 1, 1, 0],
               [1, 1, 1, 1, 1]])
    """
    num_queries = _validate.check_positive_int("num_queries", num_queries)
    offset = _validate.check_positive_int("offset", offset, allow_zero=True)
    num_kv = (num_queries + offset if num_kv is None
              else _validate.check_positive_int("num_kv", num_kv))
    return _causal_mask(num_queries, num_kv, offset)


def _causal_mask(num_queries, num_kv, offset=0):
    """`causal_mask` without checks; the sizes and `offset` may be scalar tensors."""
    if not (isinstance(offset, int) and offset == 0):  # the last Tq rows of a taller mask
        return _causal_mask(num_queries + offset, num_kv)[offset:]
    return tf.expand_dims(tf.range(num_kv), 0) <= tf.expand_dims(tf.range(num_queries), 1)


def sliding_window_mask(num_queries, window, num_kv=None, offset=0, causal=True):
    """Boolean ``(Tq, Tv)`` mask of a sliding window of `window` positions.

    Query ``i`` sits at position ``p = i + offset`` (as in :func:`causal_mask`) and sees
    the keys ``j`` with ``p - window < j <= p``: itself and the ``window - 1`` positions
    before it, so never more than `window` keys (Mistral 7B's window, ``W = 4096``).
    ``window=1`` keeps only the diagonal; a window of ``Tq + offset`` or more is the
    causal mask. This is the convention of Keras' ``GroupQueryAttention(sliding_window=W)``
    with ``use_causal_mask=True``: Keras' band alone keeps ``|p - j| < W``, which is this
    mask with ``causal=False`` (``2W - 1`` keys around each query).

    Args:
        num_queries: int, ``Tq``.
        window: int >= 1, ``W``, the number of positions a query sees (itself included).
        num_kv: int, ``Tv`` (default ``Tq + offset``).
        offset: int >= 0, the position of the first query, counted from the first key.
        causal: bool; False keeps the symmetric band ``|p - j| < W`` (default True).

    Returns:
        Boolean tensor ``(Tq, Tv)``. A layer takes it with a batch axis, ``mask[None]``.

    Raises:
        TypeError, ValueError: a size or window that is not a positive integer, a
            negative offset, or a `causal` that is not a bool.

    Example:
        >>> sliding_window_mask(4, window=2).numpy().astype(int)
        array([[1, 0, 0, 0],
               [1, 1, 0, 0],
               [0, 1, 1, 0],
               [0, 0, 1, 1]])
        >>> sliding_window_mask(1, window=2, offset=3).numpy().astype(int)  # 4th position
        array([[0, 0, 1, 1]])
    """
    num_queries = _validate.check_positive_int("num_queries", num_queries)
    window = _validate.check_positive_int("window", window)
    offset = _validate.check_positive_int("offset", offset, allow_zero=True)
    num_kv = (num_queries + offset if num_kv is None
              else _validate.check_positive_int("num_kv", num_kv))
    return _sliding_window_mask(num_queries, num_kv, window, offset,
                                _validate.check_bool("causal", causal))


def _sliding_window_mask(num_queries, num_kv, window, offset=0, causal=True):
    """`sliding_window_mask` without checks; the sizes and `offset` may be scalar tensors."""
    positions = tf.range(num_queries) + offset  # (Tq,): where each query sits
    distance = tf.expand_dims(positions, 1) - tf.expand_dims(tf.range(num_kv), 0)  # p - j
    if causal:
        return tf.logical_and(distance >= 0, distance < window)  # p - W < j <= p
    return tf.abs(distance) < window  # |p - j| < W


def keras_key_mask(queries, keys, values=None):
    """The Keras masks the inputs carry (``Embedding(mask_zero=True)``) as one mask, or None.

    Keys (and values) masks hide keys: ``(B, 1, Tv)``; a queries mask hides a padded
    query's every key, so its row of weights is zeros: ``(B, Tq, 1)``.
    """
    q, k, v = (getattr(x, "_keras_mask", None) for x in (queries, keys, values))
    keep = None if q is None else tf.expand_dims(tf.cast(q, tf.bool), 2)  # (B, Tq, 1)
    for m in (k, v):
        if m is not None:
            keep = and_masks(keep, tf.expand_dims(tf.cast(m, tf.bool), 1))  # (B, 1, Tv)
    return keep


def and_masks(a, b):
    """``a AND b`` where either may be ``None``."""
    return b if a is None else a if b is None else tf.logical_and(a, b)


def masked_softmax(scores, valid_lens=None, mask=None):
    """Softmax over the last axis in which masked keys get weight exactly 0.

    Unlike the common trick of adding a large negative number to masked scores,
    this never gives a fully-masked row uniform weights (it returns zeros), does
    not overflow in float16 or bfloat16, and is stable for huge scores. A key
    whose score is ``-inf`` counts as masked, so a row whose kept scores are all
    ``-inf`` is zeros too, with zero gradients (never NaN).

    Args:
        scores: float tensor ``(..., Tq, Tv)``, e.g. ``(B, Tq, Tv)`` or ``(B, h, Tq, Tv)``.
        valid_lens: optional integers ``(B,)`` or ``(B, Tq)`` (any integer dtype);
            key positions ``j >= valid_len`` are masked. Needs ``B`` as the first
            axis of `scores`, which then has 3 or 4 axes.
        mask: optional boolean tensor of the *same rank* as `scores`, each size
            equal to the scores' or 1; ``True`` = keep.

    Returns:
        Tensor of the shape and dtype of `scores`. Each row sums to 1 over its
        kept keys, or is all zeros when no key is kept.

    Raises:
        ValueError: `scores` has fewer than 2 axes, `valid_lens` has the wrong
            shape or a negative entry, or `mask` has another rank or size.
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
        got = "an unknown rank" if shape is None else f"scores.shape={shape}"
        raise ValueError(f"`scores` must have at least 2 axes, (..., Tq, Tv). Received: {got}")
    _validate.check_float("scores", scores)
    if valid_lens is not None:
        if len(shape) not in (3, 4):
            raise ValueError("With `valid_lens`, `scores` must be (B, Tq, Tv) or "
                             f"(B, h, Tq, Tv). Received: scores.shape={shape}")
        _validate.check_valid_lens(valid_lens, shape[0], shape[-2])
    if mask is not None:
        _validate.check_mask(mask, shape)
    return _masked_softmax(scores, valid_lens, mask)


def _masked_softmax(scores, valid_lens=None, mask=None):
    """`masked_softmax` without checks, for layers that checked their arguments."""
    scores = tf.convert_to_tensor(scores)
    keep = None
    if valid_lens is not None:
        keep = _sequence_mask(valid_lens, size(scores, -1))  # (B, Tv) or (B, Tq, Tv)
        if len(keep.shape) == 2:
            keep = tf.expand_dims(keep, 1)  # (B, 1, Tv): the same for every query
        if len(scores.shape) == 4:
            keep = tf.expand_dims(keep, 1)  # (B, 1, ., Tv): the same for every head
    if mask is not None:
        mask = tf.convert_to_tensor(mask)
        keep = mask if keep is None else tf.logical_and(keep, mask)
    # 1) masked keys score -inf, so exp() gives them exactly 0; no large negative
    #    constant, so nothing overflows in float16/bfloat16
    if keep is not None:
        scores = tf.where(keep, scores, tf.constant(float("-inf"), scores.dtype))
    # 2) a row with nothing to attend to is all -inf (masked, or -inf scores) and
    #    softmax would give 0/0 = NaN there
    has_keys = tf.reduce_max(scores, axis=-1, keepdims=True) > float("-inf")

    def zero_empty_rows():  # softmax of zeros there, then zeros: no NaN, zero gradient
        safe = tf.where(has_keys, scores, tf.zeros_like(scores))
        return tf.where(has_keys, tf.nn.softmax(safe, axis=-1), tf.zeros_like(scores))

    # 3) the fused, max-shifted softmax: stable for huge scores (the usual case)
    return tf.cond(tf.reduce_all(has_keys), lambda: tf.nn.softmax(scores, axis=-1),
                   zero_empty_rows)
