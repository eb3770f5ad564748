"""Grouped-query and multi-head attention, self-attention and positional encodings.

The attention layers split learned projections into ``h`` heads, attend in every
head with one mask, and merge the heads back: the helpers below; they differ only
in their projections. Grouped-query attention projects fewer key-value heads than
query heads and shares each among a group (:func:`share_heads`); multi-head
attention is its case of one key-value head per query head.
"""

import keras
import numpy as np  # noqa: F401  (the examples below use it)
import tensorflow as tf

from attn_lib import _validate
from attn_lib.cache import KVCache
from attn_lib.layers import AttentionLayer
from attn_lib.masking import _causal_mask, _sliding_window_mask, and_masks, keras_key_mask, size
from attn_lib.positions import _alibi_bias, _rope

_register = keras.saving.register_keras_serializable(package="attn_lib")


def split_heads(x, num_heads):
    """``(B, T, h·d)`` -> ``(B, h, T, d)``: head ``i`` takes features ``i·d ... (i+1)·d - 1``."""
    x = tf.reshape(x, (size(x, 0), size(x, 1), num_heads, -1))
    return tf.transpose(x, (0, 2, 1, 3))


def merge_heads(x):
    """``(B, h, T, d)`` -> ``(B, T, h·d)``, the inverse of :func:`split_heads`."""
    x = tf.transpose(x, (0, 2, 1, 3))
    return tf.reshape(x, (size(x, 0), size(x, 1), -1))


def head_mask(mask, causal, num_queries, num_kv, offset=0, window=None):
    """`mask` ``(B or 1, Tq, Tv)`` AND the causal mask (first query at position `offset`)
    AND the band ``|p - j| < window`` if any, with a head axis ``(B or 1, 1, Tq, Tv)``."""
    if causal:
        mask = and_masks(mask, tf.expand_dims(_causal_mask(num_queries, num_kv, offset), 0))
    if window is not None:
        band = _sliding_window_mask(num_queries, num_kv, window, offset, causal=False)
        mask = and_masks(mask, tf.expand_dims(band, 0))
    return None if mask is None else tf.expand_dims(mask, 1)


def share_heads(x, groups):
    """``(B, h_kv, T, d)`` -> ``(B, h_kv·g, T, d)``: head ``u`` is head ``u // g`` of `x`.

    The copies exist only during the call; what is stored (a cache) has ``h_kv`` heads.
    """
    return x if groups == 1 else tf.repeat(x, groups, axis=1)


def attend_heads(layer, q, k, v, valid_lens, mask, training, return_attention_scores,
                 bias=None):
    """Scaled dot-product attention in every head: ``(B, h, T, d)`` -> ``(B, T, h·dv)``.

    `bias`, if given, ``(h, Tq, Tv)``, is added to the scaled scores (ALiBi's distances)."""
    q = q * tf.math.rsqrt(tf.cast(size(q, -1), q.dtype))  # scale first: no fp16 overflow
    scores = tf.matmul(q, k, transpose_b=True)  # (B, h, Tq, Tv)
    if bias is not None:
        scores = scores + tf.cast(bias, scores.dtype)
    heads, weights = layer.attend(scores, v, valid_lens, mask, training, True)
    return merge_heads(heads), weights


@_register
class GroupedQueryAttention(AttentionLayer):
    """Grouped-query attention: groups of query heads share one key-value head.

    ``h_q`` query heads in ``h_kv`` groups of ``g = h_q / h_kv``: query head ``u``
    attends with key-value head ``u // g`` (Keras' order). ``h_kv = h_q`` is multi-head
    attention (:class:`MultiHeadAttention` is this layer with ``h_kv = h_q``), ``h_kv =
    1`` is multi-query attention. A key-value cache keeps ``h_kv`` heads: ``g`` times
    fewer bytes than multi-head attention's.

    Args:
        num_query_heads: int, ``h_q``.
        num_key_value_heads: int dividing `num_query_heads`, ``h_kv``.
        key_dim: int, size of each head's queries and keys.
        value_dim: int, size of each head's values (default `key_dim`).
        output_dim: int, size of the output (default: the queries' size).
        dropout: float in [0, 1), dropout rate on the attention weights.
        sliding_window: None or int ``W >= 1``: a query at position ``p`` sees only keys
            ``j`` with ``|p - j| < W``; with ``causal=True`` the last ``W`` positions up
            to its own (:func:`attn_lib.sliding_window_mask`, Keras' convention).

    Call arguments:
        queries: ``(B, Tq, dq)``. keys: ``(B, Tv, dk)``. values: ``(B, Tv, dv)``.
        valid_lens, mask, training, return_attention_scores: as for
            :class:`attn_lib.layers.AttentionLayer`.
        causal: bool; if True, query i attends only to keys ``j <= i``.
        cache: optional :class:`attn_lib.KVCache` with ``num_kv_heads = h_kv``,
            ``head_dim = key_dim = value_dim`` and, if it has a window, a
            `sliding_window` of at most that window. The new keys and values are
            appended to layer `cache_index` of it and the queries attend to the ``S``
            positions it kept and these, ``Tv_all = S + Tv``; `mask` is then
            ``(B or 1, Tq or 1, Tv_all)``, `causal` and the window put the first query
            ``S`` keys after the first kept one, and `valid_lens` is not accepted.
        cache_index: int, the cache's layer this layer reads and writes (default 0).

    Returns:
        ``(B, Tq, output_dim)``, or ``(output, weights)`` with weights ``(B, h_q, Tq,
        Tv)`` (``Tv_all`` with a cache; also kept in ``attention_weights``).

    Raises:
        ValueError, TypeError: as for :class:`attn_lib.layers.AttentionLayer`;
            `num_query_heads` not divisible by `num_key_value_heads`; with a `cache`:
            `valid_lens` given, or a cache of other heads, sizes, dtype or window.

    Example:
        >>> gqa = GroupedQueryAttention(num_query_heads=4, num_key_value_heads=2,
        ...                             key_dim=3, sliding_window=2)
        >>> x = np.ones((2, 5, 8), "float32")
        >>> out, weights = gqa(x, x, x, causal=True, return_attention_scores=True)
        >>> out.shape, weights.shape  # weights: one row per query head
        (TensorShape([2, 5, 8]), TensorShape([2, 4, 5, 5]))
        >>> tuple(gqa.W_q.shape), tuple(gqa.W_k.shape)  # 4 query heads, 2 key heads of 3
        ((8, 12), (8, 6))
    """

    sized_inputs = ("queries", "keys", "values")

    def __init__(self, num_query_heads, num_key_value_heads, key_dim, value_dim=None,
                 output_dim=None, dropout=0.0, sliding_window=None, position_encoding=None,
                 **kwargs):
        super().__init__(dropout=dropout, **kwargs)
        self.num_query_heads = _validate.check_positive_int("num_query_heads", num_query_heads)
        self.num_key_value_heads = _validate.check_positive_int("num_key_value_heads",
                                                                num_key_value_heads)
        if num_query_heads % num_key_value_heads:
            raise ValueError("`num_query_heads` must be divisible by `num_key_value_heads`. "
                             f"Received: num_query_heads={num_query_heads}, "
                             f"num_key_value_heads={num_key_value_heads}")
        self.groups = num_query_heads // num_key_value_heads  # g query heads per kv head
        self.key_dim = _validate.check_positive_int("key_dim", key_dim)
        self.value_dim = key_dim if value_dim is None else _validate.check_positive_int(
            "value_dim", value_dim)
        self.output_dim = None if output_dim is None else _validate.check_positive_int(
            "output_dim", output_dim)
        if position_encoding not in (None, "rope", "alibi"):
            raise ValueError('`position_encoding` must be None, "rope" or "alibi". '
                             f"Received: position_encoding={position_encoding!r}")
        if position_encoding == "rope" and key_dim % 2:
            raise ValueError("RoPE rotates pairs of features: `key_dim` must be even. "
                             f"Received: key_dim={key_dim}")
        self.position_encoding = position_encoding
        self.sliding_window = None if sliding_window is None else (
            _validate.check_positive_int("sliding_window", sliding_window))

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
        if cache.num_kv_heads != self.num_key_value_heads or not (
                cache.head_dim == self.key_dim == self.value_dim):
            raise ValueError(
                f"`cache` must have num_kv_heads={self.num_key_value_heads} (this layer's "
                f"key-value heads) and head_dim=key_dim=value_dim (key_dim={self.key_dim}, "
                f"value_dim={self.value_dim}). Received: num_kv_heads={cache.num_kv_heads}, "
                f"head_dim={cache.head_dim}")
        window = self.sliding_window
        if cache.window is not None and (window is None or window > cache.window):
            raise ValueError(
                "A `cache` with a window keeps only its last `window` positions: the layer "
                "must have a sliding_window of at most that. Received: cache.window="
                f"{cache.window}, sliding_window={self.sliding_window}")
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
        h_q, h_kv, dk, dv = (self.num_query_heads, self.num_key_value_heads, self.key_dim,
                             self.value_dim)
        out = self.output_dim or queries_shape[-1]
        for name, d_in, d_out in (("q", queries_shape[-1], h_q * dk),
                                  ("k", keys_shape[-1], h_kv * dk),
                                  ("v", values_shape[-1], h_kv * dv), ("o", h_q * dv, out)):
            setattr(self, f"W_{name}", self.add_weight(name=f"W_{name}", shape=(d_in, d_out)))
            setattr(self, f"b_{name}", self.add_weight(name=f"b_{name}", shape=(d_out,),
                                                       initializer="zeros"))

    def call(self, queries, keys, values, valid_lens=None, mask=None, causal=False,
             training=None, return_attention_scores=False, cache=None, cache_index=0):
        # 1) project and split into heads: queries (B, h_q, Tq, dk), keys (B, h_kv, Tv, dk)
        q = split_heads(tf.matmul(queries, self.W_q) + self.b_q, self.num_query_heads)
        k = split_heads(tf.matmul(keys, self.W_k) + self.b_k, self.num_key_value_heads)
        v = split_heads(tf.matmul(values, self.W_v) + self.b_v, self.num_key_value_heads)
        start = 0  # the first query's position, counted from the first key
        if cache is not None:  # the kept positions, then these: (B, h_kv, S + Tv, d)
            start = cache.stored(cache_index)
        if self.position_encoding == "rope":  # at their positions in the sequence, before
            at = start if cache is None else start + cache.first_position(cache_index)
            q = _rope(q, tf.range(at, at + size(q, 2)))  # the cache keeps the keys rotated
            k = _rope(k, tf.range(at, at + size(k, 2)))
        if cache is not None:
            k, v = cache.append(cache_index, k, v)
        # 2) each key-value head serves g query heads: (B, h_q, Tv, d)
        k, v = share_heads(k, self.groups), share_heads(v, self.groups)
        # 3) attend in every head at once, one mask for all heads; 4) merge: (B, Tq, h_q·dv)
        mask = head_mask(mask, causal, size(queries, 1), size(k, 2), start,
                         self.sliding_window)
        bias = None if self.position_encoding != "alibi" else _alibi_bias(
            self.num_query_heads, size(queries, 1), size(k, 2), start)  # (h_q, Tq, Tv)
        merged, weights = attend_heads(self, q, k, v, valid_lens, mask, training, True, bias)
        # 5) the output projection
        output = tf.matmul(merged, self.W_o) + self.b_o
        return (output, weights) if return_attention_scores else output

    def get_config(self):
        return {**super().get_config(), "num_query_heads": self.num_query_heads,
                "num_key_value_heads": self.num_key_value_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "output_dim": self.output_dim,
                "sliding_window": self.sliding_window,
                "position_encoding": self.position_encoding}


@_register
class MultiHeadAttention(GroupedQueryAttention):
    """Multi-head attention: h scaled dot-product attentions on learned projections.

    :class:`GroupedQueryAttention` with one key-value head per query head, ``h_q = h_kv
    = h``, and no window; the weights, config and results of chapters 6 to 10.

    Args:
        num_heads: int, ``h``.
        key_dim: int, size of each head's queries and keys.
        value_dim: int, size of each head's values (default `key_dim`).
        output_dim: int, size of the output (default: the queries' size).
        dropout: float in [0, 1), dropout rate on the attention weights.

    Call arguments, Returns, Raises: as for :class:`GroupedQueryAttention`; weights are
    ``(B, h, Tq, Tv)``, and a `cache` has ``num_kv_heads = h`` and no window.

    Example:
        >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
        >>> x = np.ones((2, 5, 8), "float32")
        >>> mha(x, x, x, causal=True).shape
        TensorShape([2, 5, 8])
    """

    def __init__(self, num_heads, key_dim, value_dim=None, output_dim=None, dropout=0.0,
                 position_encoding=None, **kwargs):
        self.num_heads = _validate.check_positive_int("num_heads", num_heads)
        super().__init__(num_heads, num_heads, key_dim, value_dim, output_dim, dropout,
                         position_encoding=position_encoding, **kwargs)

    def get_config(self):
        config = super().get_config()
        for name in ("num_query_heads", "num_key_value_heads", "sliding_window"):
            del config[name]
        return {**config, "num_heads": self.num_heads}


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


__all__ = ["GroupedQueryAttention", "MultiHeadAttention", "SelfAttention", "attend_heads",
           "head_mask", "merge_heads", "share_heads", "split_heads"]
