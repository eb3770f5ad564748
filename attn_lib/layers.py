"""Keras layers: attention as the book builds it.

Every attention layer is called as ``layer(queries, keys, values, valid_lens=None,
mask=None, training=None)`` with queries ``(B, Tq, dq)``, keys ``(B, Tv, dk)`` and
values ``(B, Tv, dv)``; it returns ``(B, Tq, dv)`` and keeps the weights of its
last call in ``layer.attention_weights`` (``(B, Tq, Tv)``, or ``(B, h, Tq, Tv)``
with heads). Arguments are checked before TensorFlow sees them.
"""

import inspect
import math

import keras
import numpy as np
import tensorflow as tf

from attn_lib import _validate, reference
from attn_lib.masking import masked_softmax
from attn_lib.scoring import additive_scores, dot_product_scores, general_scores

_register = keras.saving.register_keras_serializable(package="attn_lib")


class _Attention(keras.layers.Layer):
    """Shared plumbing: argument checks, dropout on the weights, the weighted sum."""

    same_size = False  # do queries and keys need the same last axis?

    def __init__(self, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.dropout = _validate.check_rate("dropout", dropout)
        self.dropout_layer = keras.layers.Dropout(self.dropout)
        self.attention_weights = None

    def __call__(self, *args, **kwargs):
        # Check the user's arguments before Keras builds or TensorFlow computes.
        bound = inspect.signature(self.call).bind(*args, **kwargs).arguments
        self._check_inputs(**bound)
        return super().__call__(*args, **kwargs)

    def _check_inputs(self, queries, keys, values, valid_lens=None, mask=None, **_):
        q, k, v = _validate.check_attention_inputs(queries, keys, values, self.same_size)
        if valid_lens is not None:
            _validate.check_valid_lens(valid_lens, q[0], q[1])
        if mask is not None:
            _validate.check_mask(mask, (q[0], q[1], k[1]))

    def attend(self, scores, values, valid_lens=None, mask=None, training=None):
        """Masked softmax of `scores`, dropout on the weights, weighted sum of `values`."""
        self.attention_weights = masked_softmax(scores, valid_lens, mask)  # (B, Tq, Tv)
        dropped = self.dropout_layer(self.attention_weights, training=training)
        return tf.matmul(dropped, values)  # (B, Tq, dv)

    def compute_mask(self, *args, **kwargs):
        # `mask` here says which *keys* to attend to; the output carries no Keras mask.
        return None

    def compute_output_shape(self, queries_shape, keys_shape, values_shape):
        return tuple(queries_shape[:2]) + (values_shape[-1],)

    def get_config(self):
        return {**super().get_config(), "dropout": self.dropout}


@_register
class DotProductAttention(_Attention):
    """Scaled dot-product attention, ``softmax(Q Kᵀ / √d) V`` (Vaswani et al., 2017).

    Args:
        dropout: float in [0, 1), dropout rate on the attention weights.
        scaled: divide scores by √d (default). ``scaled=False`` is Luong's "dot"
            score and what ``keras.layers.Attention()`` computes.

    Call arguments:
        queries: ``(B, Tq, d)``. keys: ``(B, Tv, d)``. values: ``(B, Tv, dv)``.
        valid_lens: optional integers ``(B,)`` or ``(B, Tq)``.
        mask: optional boolean, broadcastable to ``(B, Tq, Tv)``, ``True`` = attend.
        training: whether dropout is active.

    Returns:
        ``(B, Tq, dv)``; the weights ``(B, Tq, Tv)`` are in ``attention_weights``.

    Raises:
        ValueError: wrong ranks, queries and keys of different sizes, keys and
            values of different lengths, bad `valid_lens` or `mask` shapes.
        TypeError: non-float inputs, non-integer `valid_lens`, non-boolean `mask`.

    Example:
        >>> layer = DotProductAttention()
        >>> q = np.ones((2, 3, 4), "float32"); kv = np.ones((2, 5, 4), "float32")
        >>> layer(q, kv, kv, valid_lens=np.array([2, 5])).shape
        TensorShape([2, 3, 4])
    """

    same_size = True

    def __init__(self, dropout=0.0, scaled=True, **kwargs):
        super().__init__(dropout=dropout, **kwargs)
        self.scaled = bool(scaled)

    def call(self, queries, keys, values, valid_lens=None, mask=None, training=None):
        scores = dot_product_scores(queries, keys, scaled=self.scaled)  # (B, Tq, Tv)
        return self.attend(scores, values, valid_lens, mask, training)

    def get_config(self):
        return {**super().get_config(), "scaled": self.scaled}


@_register
class AdditiveAttention(_Attention):
    """Additive (Bahdanau) attention with the textbook projections.

    ``score(q, k) = w_vᵀ tanh(W_q q + W_k k)``. Queries and keys may have different
    sizes. Unlike ``keras.layers.AdditiveAttention`` (which scores
    ``sum(tanh(q + k))`` with no projections), this layer learns W_q, W_k and w_v.

    Args:
        num_hiddens: int, the size ``h`` of the hidden layer.
        dropout: float in [0, 1), dropout rate on the attention weights.

    Call arguments:
        queries: ``(B, Tq, dq)``. keys: ``(B, Tv, dk)``. values: ``(B, Tv, dv)``.
        valid_lens, mask, training: as for :class:`DotProductAttention`.

    Returns:
        ``(B, Tq, dv)``; weights ``(B, Tq, Tv)`` in ``attention_weights``.

    Example:
        >>> layer = AdditiveAttention(num_hiddens=8)
        >>> q = np.ones((2, 1, 20), "float32"); k = np.ones((2, 10, 2), "float32")
        >>> layer(q, k, np.ones((2, 10, 4), "float32")).shape
        TensorShape([2, 1, 4])
    """

    def __init__(self, num_hiddens, dropout=0.0, **kwargs):
        super().__init__(dropout=dropout, **kwargs)
        self.num_hiddens = _validate.check_positive_int("num_hiddens", num_hiddens)

    def build(self, queries_shape, keys_shape, values_shape=None):
        h = self.num_hiddens
        self.W_q = self.add_weight(name="W_q", shape=(queries_shape[-1], h))
        self.W_k = self.add_weight(name="W_k", shape=(keys_shape[-1], h))
        self.w_v = self.add_weight(name="w_v", shape=(h,))

    def call(self, queries, keys, values, valid_lens=None, mask=None, training=None):
        scores = additive_scores(queries, keys, self.W_q, self.W_k, self.w_v)  # (B, Tq, Tv)
        return self.attend(scores, values, valid_lens, mask, training)

    def get_config(self):
        return {**super().get_config(), "num_hiddens": self.num_hiddens}


@_register
class GeneralAttention(_Attention):
    """Luong's "general" (bilinear) attention, ``score(q, k) = q W kᵀ``.

    One ``(dq, dk)`` matrix shared by every example and every query: the weights
    do not depend on the batch size, and the softmax runs over the keys of each
    query separately (the two defects of the layer this replaces).

    Args:
        dropout: float in [0, 1), dropout rate on the attention weights.

    Call arguments, returns: as for :class:`AdditiveAttention`.

    Example:
        >>> layer = GeneralAttention()
        >>> q = np.ones((3, 2, 5), "float32"); k = np.ones((3, 4, 6), "float32")
        >>> layer(q, k, k).shape, layer.W.shape
        (TensorShape([3, 2, 6]), TensorShape([5, 6]))
    """

    def build(self, queries_shape, keys_shape, values_shape=None):
        self.W = self.add_weight(name="W", shape=(queries_shape[-1], keys_shape[-1]))

    def call(self, queries, keys, values, valid_lens=None, mask=None, training=None):
        scores = general_scores(queries, keys, self.W)  # (B, Tq, Tv)
        return self.attend(scores, values, valid_lens, mask, training)


@_register
class MultiHeadAttention(_Attention):
    """Multi-head attention: h scaled dot-product attentions on learned projections.

    Args:
        num_heads: int, ``h``.
        key_dim: int, size of each head's queries and keys.
        value_dim: int, size of each head's values (default `key_dim`).
        output_dim: int, size of the output (default: the queries' size).
        dropout: float in [0, 1), dropout rate on the attention weights.

    Call arguments:
        queries: ``(B, Tq, dq)``. keys: ``(B, Tv, dk)``. values: ``(B, Tv, dv)``.
        valid_lens: optional integers ``(B,)`` or ``(B, Tq)``.
        mask: optional boolean broadcastable to ``(B, Tq, Tv)``, ``True`` = attend.
        causal: if True, query i attends only to keys ``j <= i``.
        training: whether dropout is active.

    Returns:
        ``(B, Tq, output_dim)``; weights ``(B, h, Tq, Tv)`` in ``attention_weights``.

    Example:
        >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
        >>> x = np.ones((2, 5, 8), "float32")
        >>> mha(x, x, x, causal=True).shape
        TensorShape([2, 5, 8])
    """

    def __init__(self, num_heads, key_dim, value_dim=None, output_dim=None, dropout=0.0,
                 **kwargs):
        super().__init__(dropout=dropout, **kwargs)
        self.num_heads = _validate.check_positive_int("num_heads", num_heads)
        self.key_dim = _validate.check_positive_int("key_dim", key_dim)
        self.value_dim = key_dim if value_dim is None else _validate.check_positive_int(
            "value_dim", value_dim)
        self.output_dim = None if output_dim is None else _validate.check_positive_int(
            "output_dim", output_dim)

    def build(self, queries_shape, keys_shape, values_shape):
        h, dk, dv = self.num_heads, self.key_dim, self.value_dim
        out = self.output_dim or queries_shape[-1]
        self.W_q = self.add_weight(name="W_q", shape=(queries_shape[-1], h * dk))
        self.b_q = self.add_weight(name="b_q", shape=(h * dk,), initializer="zeros")
        self.W_k = self.add_weight(name="W_k", shape=(keys_shape[-1], h * dk))
        self.b_k = self.add_weight(name="b_k", shape=(h * dk,), initializer="zeros")
        self.W_v = self.add_weight(name="W_v", shape=(values_shape[-1], h * dv))
        self.b_v = self.add_weight(name="b_v", shape=(h * dv,), initializer="zeros")
        self.W_o = self.add_weight(name="W_o", shape=(h * dv, out))
        self.b_o = self.add_weight(name="b_o", shape=(out,), initializer="zeros")

    def _split_heads(self, x):
        # (B, T, h*d) -> (B, h, T, d)
        batch, length = tf.shape(x)[0], tf.shape(x)[1]
        x = tf.reshape(x, (batch, length, self.num_heads, -1))
        return tf.transpose(x, (0, 2, 1, 3))

    def call(self, queries, keys, values, valid_lens=None, mask=None, causal=False,
             training=None):
        # 1) project and split into heads: (B, h, T, d)
        q = self._split_heads(tf.matmul(queries, self.W_q) + self.b_q)
        k = self._split_heads(tf.matmul(keys, self.W_k) + self.b_k)
        v = self._split_heads(tf.matmul(values, self.W_v) + self.b_v)
        # 2) attend in every head at once
        scores = tf.matmul(q, k, transpose_b=True) / math.sqrt(self.key_dim)  # (B, h, Tq, Tv)
        mask = _combine_masks(mask, causal, tf.shape(queries)[1], tf.shape(keys)[1])
        if mask is not None and len(mask.shape) == 3:
            mask = mask[:, tf.newaxis]  # (B, 1, Tq, Tv): the same mask for every head
        heads = self.attend(scores, v, valid_lens, mask, training)  # (B, h, Tq, dv)
        # 3) merge heads back: (B, Tq, h*dv), then 4) the output projection
        heads = tf.transpose(heads, (0, 2, 1, 3))
        merged = tf.reshape(heads, (tf.shape(heads)[0], tf.shape(heads)[1], -1))
        return tf.matmul(merged, self.W_o) + self.b_o

    def compute_output_shape(self, queries_shape, keys_shape, values_shape):
        return tuple(queries_shape[:2]) + (self.output_dim or queries_shape[-1],)

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "output_dim": self.output_dim}


def _combine_masks(mask, causal, num_queries, num_kv):
    """`mask` AND the causal mask (when `causal`); ``None`` when neither is given."""
    if not causal:
        return None if mask is None else tf.convert_to_tensor(mask)
    future = tf.range(num_kv)[tf.newaxis, :] <= tf.range(num_queries)[:, tf.newaxis]
    return future if mask is None else tf.logical_and(tf.convert_to_tensor(mask), future)


@_register
class SelfAttention(_Attention):
    """Self-attention: queries, keys and values are projections of one sequence.

    ``Q = x W_q``, ``K = x W_k``, ``V = x W_v`` (no biases), split into `num_heads`
    heads of size ``units / num_heads``, scaled by the square root of *that* size,
    and concatenated back to ``units``. With one head this is exactly the layer of
    the classic Keras self-attention blog post, corrected: weights are built from
    the input shape and the scale uses the real key size. (For an output
    projection, use :class:`MultiHeadAttention`.)

    Args:
        units: int, the size of the output and of all projections.
        num_heads: int dividing `units`.
        dropout: float in [0, 1), dropout rate on the attention weights.

    Call arguments:
        x: ``(B, T, d_in)``.
        valid_lens: optional integers ``(B,)`` or ``(B, T)``: padding to ignore.
        mask: optional boolean broadcastable to ``(B, T, T)``.
        causal: if True, position i attends only to positions ``j <= i``.
        training: whether dropout is active.

    Returns:
        ``(B, T, units)``; weights ``(B, h, T, T)`` in ``attention_weights``
        (``(B, T, T)`` when ``num_heads == 1``).

    Raises:
        ValueError: `units` not divisible by `num_heads`, `x` not of rank 3, bad
            `valid_lens` or `mask` shapes.

    Example:
        >>> layer = SelfAttention(units=8, num_heads=2)
        >>> x = np.ones((2, 5, 3), "float32")
        >>> layer(x, valid_lens=np.array([2, 5]), causal=True).shape
        TensorShape([2, 5, 8])
        >>> layer.attention_weights.shape
        TensorShape([2, 2, 5, 5])
    """

    def __init__(self, units, num_heads=1, dropout=0.0, **kwargs):
        super().__init__(dropout=dropout, **kwargs)
        self.units = _validate.check_positive_int("units", units)
        self.num_heads = _validate.check_positive_int("num_heads", num_heads)
        if units % num_heads:
            raise ValueError(
                f"`units` must be divisible by `num_heads`. Received: units={units}, "
                f"num_heads={num_heads}"
            )

    def __call__(self, x, *args, **kwargs):
        # A padding mask from `Embedding(mask_zero=True)` travels on `x` as (B, T);
        # as a key mask it must broadcast to the weights (B, T, T): (B, 1, T).
        keras_mask = getattr(x, "_keras_mask", None)
        if keras_mask is not None and kwargs.get("mask") is None and len(args) < 2:
            kwargs["mask"] = keras_mask[:, tf.newaxis, :]
        return super().__call__(x, *args, **kwargs)

    def _check_inputs(self, x, valid_lens=None, mask=None, **_):
        shape = _validate.check_rank("x", x, 3)
        _validate.check_float("x", x)
        if valid_lens is not None:
            _validate.check_valid_lens(valid_lens, shape[0], shape[1])
        if mask is not None:
            _validate.check_mask(mask, (shape[0], shape[1], shape[1]))

    def build(self, x_shape):
        d_in = x_shape[-1]
        self.W_q = self.add_weight(name="W_q", shape=(d_in, self.units))
        self.W_k = self.add_weight(name="W_k", shape=(d_in, self.units))
        self.W_v = self.add_weight(name="W_v", shape=(d_in, self.units))

    def call(self, x, valid_lens=None, mask=None, causal=False, training=None):
        batch, length = tf.shape(x)[0], tf.shape(x)[1]
        head_size = self.units // self.num_heads

        def split(t):  # (B, T, units) -> (B, h, T, units/h)
            return tf.transpose(tf.reshape(t, (batch, length, self.num_heads, head_size)),
                                (0, 2, 1, 3))

        q, k, v = (split(tf.matmul(x, w)) for w in (self.W_q, self.W_k, self.W_v))
        scores = tf.matmul(q, k, transpose_b=True) / math.sqrt(head_size)  # (B, h, T, T)
        mask = _combine_masks(mask, causal, length, length)
        if mask is not None and len(mask.shape) == 3:
            mask = mask[:, tf.newaxis]
        heads = self.attend(scores, v, valid_lens, mask, training)  # (B, h, T, units/h)
        if self.num_heads == 1:
            self.attention_weights = self.attention_weights[:, 0]  # (B, T, T)
        heads = tf.transpose(heads, (0, 2, 1, 3))
        return tf.reshape(heads, (batch, length, self.units))

    def compute_output_shape(self, x_shape):
        return tuple(x_shape[:2]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "num_heads": self.num_heads}


@_register
class PositionalEncoding(keras.layers.Layer):
    """Adds sinusoidal positional encodings (Vaswani et al., 2017) to its input.

    ``P[t, 2i] = sin(t / 10000^(2i/d))`` and ``P[t, 2i+1] = cos(t / 10000^(2i/d))``.

    Args:
        max_len: int, the longest sequence the layer accepts.
        d_model: int, the size of each position's vector.

    Call arguments:
        x: ``(B, T, d_model)`` with ``T <= max_len``.

    Returns:
        ``x + P[:T]``, same shape. The table is in ``layer.encoding`` ``(max_len, d_model)``.

    Raises:
        ValueError: `x` longer than `max_len` or with a last axis other than `d_model`.

    Example:
        >>> layer = PositionalEncoding(max_len=50, d_model=4)
        >>> layer(np.zeros((1, 2, 4), "float32")).numpy().round(3)
        array([[[0.   , 1.   , 0.   , 1.   ],
                [0.841, 0.54 , 0.01 , 1.   ]]], dtype=float32)
    """

    def __init__(self, max_len, d_model, **kwargs):
        super().__init__(**kwargs)
        self.max_len = _validate.check_positive_int("max_len", max_len)
        self.d_model = _validate.check_positive_int("d_model", d_model)
        self.encoding = reference.positional_encoding(max_len, d_model).astype(np.float32)

    def __call__(self, x, *args, **kwargs):
        shape = _validate.check_rank("x", x, 3)
        _validate.check_float("x", x)
        if shape[2] is not None and shape[2] != self.d_model:
            raise ValueError(
                f"The last axis of `x` must be d_model={self.d_model}. Received: x.shape={shape}"
            )
        if shape[1] is not None and shape[1] > self.max_len:
            raise ValueError(
                f"`x` has more positions than max_len={self.max_len}. Received: x.shape={shape}"
            )
        return super().__call__(x, *args, **kwargs)

    def call(self, x):
        length = tf.shape(x)[1]
        return x + tf.cast(self.encoding[tf.newaxis], x.dtype)[:, :length, :]

    def compute_output_shape(self, x_shape):
        return x_shape

    def get_config(self):
        return {**super().get_config(), "max_len": self.max_len, "d_model": self.d_model}


__all__ = ["AdditiveAttention", "DotProductAttention", "GeneralAttention",
           "MultiHeadAttention", "PositionalEncoding", "SelfAttention"]
