"""Multi-head attention, self-attention and positional encodings.

Both attention layers split learned projections into ``h`` heads, attend in every
head with one mask, and merge the heads back: the helpers below; they differ only
in their projections.
"""

import keras
import numpy as np
import tensorflow as tf

from attn_lib import _validate, reference
from attn_lib.cache import KVCache
from attn_lib.layers import AttentionLayer
from attn_lib.masking import _causal_mask, and_masks, keras_key_mask, size

_register = keras.saving.register_keras_serializable(package="attn_lib")


def split_heads(x, num_heads):
    """``(B, T, h·d)`` -> ``(B, h, T, d)``: head ``i`` takes features ``i·d ... (i+1)·d - 1``."""
    x = tf.reshape(x, (size(x, 0), size(x, 1), num_heads, -1))
    return tf.transpose(x, (0, 2, 1, 3))


def merge_heads(x):
    """``(B, h, T, d)`` -> ``(B, T, h·d)``, the inverse of :func:`split_heads`."""
    x = tf.transpose(x, (0, 2, 1, 3))
    return tf.reshape(x, (size(x, 0), size(x, 1), -1))


def head_mask(mask, causal, num_queries, num_kv, offset=0):
    """`mask` ``(B or 1, Tq, Tv)`` AND the causal mask (first query at position `offset`),
    with a head axis ``(B or 1, 1, Tq, Tv)``."""
    if causal:
        mask = and_masks(mask, tf.expand_dims(_causal_mask(num_queries, num_kv, offset), 0))
    return None if mask is None else tf.expand_dims(mask, 1)


def attend_heads(layer, q, k, v, valid_lens, mask, training, return_attention_scores):
    """Scaled dot-product attention in every head: ``(B, h, T, d)`` -> ``(B, T, h·dv)``."""
    q = q * tf.math.rsqrt(tf.cast(size(q, -1), q.dtype))  # scale first: no fp16 overflow
    scores = tf.matmul(q, k, transpose_b=True)  # (B, h, Tq, Tv)
    heads, weights = layer.attend(scores, v, valid_lens, mask, training, True)
    return merge_heads(heads), weights


@_register
class MultiHeadAttention(AttentionLayer):
    """Multi-head attention: h scaled dot-product attentions on learned projections.

    Args:
        num_heads: int, ``h``.
        key_dim: int, size of each head's queries and keys.
        value_dim: int, size of each head's values (default `key_dim`).
        output_dim: int, size of the output (default: the queries' size).
        dropout: float in [0, 1), dropout rate on the attention weights.

    Call arguments:
        queries: ``(B, Tq, dq)``. keys: ``(B, Tv, dk)``. values: ``(B, Tv, dv)``.
        valid_lens, mask, training, return_attention_scores: as for
            :class:`attn_lib.layers.AttentionLayer`.
        causal: bool; if True, query i attends only to keys ``j <= i``.
        cache: optional :class:`attn_lib.KVCache` with ``num_kv_heads = h`` and
            ``head_dim = key_dim = value_dim``. The new keys and values are appended
            to layer `cache_index` of it and the queries attend to all stored positions,
            ``Tv_all = T + Tv`` (T stored before the call); `mask` is then
            ``(B or 1, Tq or 1, Tv_all)``, `causal` puts the first query at position T,
            and `valid_lens` is not accepted.
        cache_index: int, the cache's layer this layer reads and writes (default 0).

    Returns:
        ``(B, Tq, output_dim)``, or ``(output, weights)`` with weights ``(B, h, Tq, Tv)``
        (``Tv_all`` with a cache; also kept in ``attention_weights``).

    Raises:
        ValueError, TypeError: as for :class:`attn_lib.layers.AttentionLayer`; with a
            `cache`: `valid_lens` given, or a cache of other heads, sizes or dtype.

    Example:
        >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
        >>> x = np.ones((2, 5, 8), "float32")
        >>> mha(x, x, x, causal=True).shape
        TensorShape([2, 5, 8])
    """

    sized_inputs = ("queries", "keys", "values")

    def __init__(self, num_heads, key_dim, value_dim=None, output_dim=None, dropout=0.0,
                 **kwargs):
        super().__init__(dropout=dropout, **kwargs)
        self.num_heads = _validate.check_positive_int("num_heads", num_heads)
        self.key_dim = _validate.check_positive_int("key_dim", key_dim)
        self.value_dim = key_dim if value_dim is None else _validate.check_positive_int(
            "value_dim", value_dim)
        self.output_dim = None if output_dim is None else _validate.check_positive_int(
            "output_dim", output_dim)

    def __call__(self, queries, keys, values, causal=False, cache=None, cache_index=0,
                 **kwargs):
        _validate.check_bool("causal", causal)
        if cache is None:
            return super().__call__(queries, keys, values, causal=causal, **kwargs)
        return self._call_with_cache(queries, keys, values, causal, cache, cache_index,
                                     **kwargs)

    def _call_with_cache(self, queries, keys, values, causal, cache, cache_index,
                         valid_lens=None, mask=None, training=None,
                         return_attention_scores=False):
        """`__call__`'s checks when the keys and values go through a cache."""
        if not isinstance(cache, KVCache):
            raise TypeError("`cache` must be an attn_lib.KVCache or None. "
                            f"Received: cache of type {type(cache).__name__}")
        if valid_lens is not None:
            raise ValueError("`valid_lens` cannot be used with a `cache`: pass a `mask` over "
                             "the stored and the new positions. Received: valid_lens given")
        if cache.num_kv_heads != self.num_heads or not (
                cache.head_dim == self.key_dim == self.value_dim):
            raise ValueError(
                f"`cache` must have num_kv_heads=num_heads={self.num_heads} and head_dim="
                f"key_dim=value_dim for this layer (key_dim={self.key_dim}, value_dim="
                f"{self.value_dim}). Received: num_kv_heads={cache.num_kv_heads}, "
                f"head_dim={cache.head_dim}")
        q, k, v = _validate.check_attention_inputs(queries, keys, values, self.same_size)
        num_kv = k[1] + cache.stored(cache_index)  # checks cache_index too
        mask = self._check_options(dict(queries=q, keys=k, values=v), q[0], q[1], num_kv,
                                   None, mask, training, return_attention_scores)
        mask = and_masks(mask, keras_key_mask(queries, None))  # keys: only this chunk
        return keras.layers.Layer.__call__(
            self, queries, keys, values, mask=mask, causal=causal, training=training,
            return_attention_scores=return_attention_scores, cache=cache,
            cache_index=cache_index)

    def build(self, queries_shape, keys_shape, values_shape):
        h, dk, dv = self.num_heads, self.key_dim, self.value_dim
        out = self.output_dim or queries_shape[-1]
        for name, d_in, d_out in (("q", queries_shape[-1], h * dk), ("k", keys_shape[-1], h * dk),
                                  ("v", values_shape[-1], h * dv), ("o", h * dv, out)):
            setattr(self, f"W_{name}", self.add_weight(name=f"W_{name}", shape=(d_in, d_out)))
            setattr(self, f"b_{name}", self.add_weight(name=f"b_{name}", shape=(d_out,),
                                                       initializer="zeros"))

    def call(self, queries, keys, values, valid_lens=None, mask=None, causal=False,
             training=None, return_attention_scores=False, cache=None, cache_index=0):
        # 1) project and split into heads: (B, h, T, d)
        q = split_heads(tf.matmul(queries, self.W_q) + self.b_q, self.num_heads)
        k = split_heads(tf.matmul(keys, self.W_k) + self.b_k, self.num_heads)
        v = split_heads(tf.matmul(values, self.W_v) + self.b_v, self.num_heads)
        start = 0  # the position of the first query
        if cache is not None:  # the stored positions, then these: (B, h, T + Tv, d)
            start = cache.stored(cache_index)
            k, v = cache.append(cache_index, k, v)
        # 2) attend in every head at once, one mask for all heads; 3) merge: (B, Tq, h·dv)
        mask = head_mask(mask, causal, size(queries, 1), size(k, 2), start)
        merged, weights = attend_heads(self, q, k, v, valid_lens, mask, training, True)
        # 4) the output projection
        output = tf.matmul(merged, self.W_o) + self.b_o
        return (output, weights) if return_attention_scores else output

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "output_dim": self.output_dim}


@_register
class SelfAttention(AttentionLayer):
    """Self-attention: ``Q = x W_q``, ``K = x W_k``, ``V = x W_v`` from one sequence.

    No biases and no output projection (:class:`MultiHeadAttention` has both); the
    `num_heads` heads have size ``units / num_heads``, which scales their scores.

    Args:
        units: int, the size of the output and of all projections.
        num_heads: int dividing `units`.
        dropout: float in [0, 1), dropout rate on the attention weights.

    Call arguments:
        x: ``(B, T, d_in)``; its Keras mask, if any, masks padded positions.
        valid_lens: optional integers ``(B,)`` or ``(B, T)``: padding to ignore.
        mask: optional boolean ``(B or 1, T or 1, T)``, True = attend.
        causal: bool; if True, position i attends only to positions ``j <= i``.
        training, return_attention_scores: as for :class:`MultiHeadAttention`.

    Returns:
        ``(B, T, units)``, or ``(output, weights)``; weights ``(B, h, T, T)``, or
        ``(B, T, T)`` when ``num_heads == 1`` (also kept in ``attention_weights``).

    Raises:
        ValueError: `units` not divisible by `num_heads`, or bad shapes of the inputs.

    Example:
        >>> layer = SelfAttention(units=8, num_heads=2)
        >>> x = np.ones((2, 5, 3), "float32")
        >>> out, weights = layer(x, valid_lens=np.array([2, 5]), causal=True,
        ...                      return_attention_scores=True)
        >>> out.shape, weights.shape
        (TensorShape([2, 5, 8]), TensorShape([2, 2, 5, 5]))
    """

    sized_inputs = ("x",)

    def __init__(self, units, num_heads=1, dropout=0.0, **kwargs):
        super().__init__(dropout=dropout, **kwargs)
        self.units = _validate.check_positive_int("units", units)
        self.num_heads = _validate.check_positive_int("num_heads", num_heads)
        if units % num_heads:
            raise ValueError("`units` must be divisible by `num_heads`. "
                             f"Received: units={units}, num_heads={num_heads}")

    def __call__(self, x, valid_lens=None, mask=None, causal=False, training=None,
                 return_attention_scores=False, **kwargs):
        shape = _validate.check_rank("x", x, 3)
        _validate.check_float("x", x)
        _validate.check_bool("causal", causal)
        mask = self._check_options(dict(x=shape), shape[0], shape[1], shape[1], valid_lens,
                                   mask, training, return_attention_scores)
        mask = and_masks(mask, keras_key_mask(x, x))
        return keras.layers.Layer.__call__(
            self, x, valid_lens=valid_lens, mask=mask, causal=causal, training=training,
            return_attention_scores=return_attention_scores, **kwargs)

    def build(self, x_shape, *_, **__):
        for name in ("W_q", "W_k", "W_v"):
            setattr(self, name, self.add_weight(name=name, shape=(x_shape[-1], self.units)))

    def call(self, x, valid_lens=None, mask=None, causal=False, training=None,
             return_attention_scores=False):
        q, k, v = (split_heads(tf.matmul(x, w), self.num_heads)
                   for w in (self.W_q, self.W_k, self.W_v))  # (B, h, T, units/h)
        mask = head_mask(mask, causal, size(x, 1), size(x, 1))
        output, weights = attend_heads(self, q, k, v, valid_lens, mask, training, True)
        if self.num_heads == 1:
            weights = self.attention_weights = tf.squeeze(weights, 1)  # (B, T, T)
        return (output, weights) if return_attention_scores else output

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
        x: ``(B, T, d_model)`` with ``T <= max_len``; its Keras mask is kept.

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
        self.supports_masking = True

    def __call__(self, x, *args, **kwargs):
        shape = _validate.check_rank("x", x, 3)
        _validate.check_float("x", x)
        if shape[2] is not None and shape[2] != self.d_model or (
                shape[1] is not None and shape[1] > self.max_len):
            raise ValueError(f"`x` must have shape (B, T <= max_len={self.max_len}, "
                             f"d_model={self.d_model}). Received: x.shape={shape}")
        return super().__call__(x, *args, **kwargs)

    def call(self, x):
        return x + tf.cast(self.encoding, x.dtype)[tf.newaxis, :tf.shape(x)[1], :]

    def compute_output_shape(self, x_shape):
        return x_shape

    def get_config(self):
        return {**super().get_config(), "max_len": self.max_len, "d_model": self.d_model}


__all__ = ["MultiHeadAttention", "PositionalEncoding", "SelfAttention", "attend_heads",
           "head_mask", "merge_heads", "split_heads"]
