"""A key-value cache for generating one token (or one chunk) at a time.

A decoder that generates token ``T + 1`` needs the keys and values of positions
``0 ... T`` in every layer. They do not change once computed (each position only
sees the positions before it), so recomputing them at every step repeats work that
grows with ``T``. The cache keeps them, per layer, as ``(B, h_kv, T, d_head)``:

======  ==============================================================
``B``   batch size (fixed by the first append, until :meth:`KVCache.reset`)
``h_kv`` number of key-value heads (a separate argument: grouped-query
        attention keeps fewer key-value heads than query heads)
``T``   positions stored: :attr:`KVCache.length`, or ``min(length, W)`` with a window
``d``   ``d_head``, the size of one head's keys and values
======  ==============================================================

Its size is ``2 * num_layers * B * T * h_kv * d_head`` numbers (keys and values):
:func:`kv_cache_bytes`. With ``window=W`` (sliding-window attention, where no query
sees more than the last ``W`` positions) the cache keeps only the last ``W``
positions of each layer, so it stops growing at ``W``, while :attr:`KVCache.length`,
the position of the next token, keeps counting.

The cache only stores; the attention layer that reads it decides the mask
(:class:`attn_lib.GroupedQueryAttention` and :class:`attn_lib.MultiHeadAttention` with
``cache=``). A mask written by hand for a call through the cache covers the *kept*
positions and the new ones: its first key is at position :meth:`KVCache.first_position`
(0 without a window), not at 0.
"""

import tensorflow as tf

from attn_lib import _validate


class KVCache:
    """Keys and values of every position generated so far, one pair of tensors per layer.

    Args:
        num_layers: int, the number of attention layers that store into the cache.
        num_kv_heads: int, ``h_kv``, the number of key-value heads per layer.
        head_dim: int, ``d_head``, the size of one head's keys and of its values.
        dtype: the dtype of the stored tensors (default ``"float32"``).
        window: None (keep every position, the default) or int ``W >= 1``: keep only
            the last ``W`` positions of each layer, for layers whose sliding window is
            at most ``W``.

    Attributes:
        length: int, the positions appended so far (the same in every layer between two
            forward passes); the position of the next token. It keeps counting past the
            window.
        nbytes: int, the bytes of the stored tensors, measured from their shapes and
            dtype: ``2 * num_layers * B * min(length, W) * h_kv * d_head *
            bytes_per_element`` (:func:`kv_cache_bytes`).

    Raises:
        TypeError, ValueError: sizes or a window that are not positive integers, a dtype
            that is not floating point.

    Example:
        >>> import numpy as np
        >>> cache = KVCache(num_layers=2, num_kv_heads=4, head_dim=8)
        >>> chunk = np.zeros((1, 4, 3, 8), "float32")  # (B, h_kv, t, d_head): 3 positions
        >>> keys, values = cache.append(0, chunk, chunk)
        >>> _ = cache.append(1, chunk, chunk)
        >>> keys.shape, cache.length, cache.nbytes  # 2 * 2 layers * 1 * 3 * 4 * 8 * 4 bytes
        (TensorShape([1, 4, 3, 8]), 3, 1536)
        >>> cache.reset(); cache.length, cache.nbytes
        (0, 0)
        >>> windowed = KVCache(num_layers=1, num_kv_heads=4, head_dim=8, window=2)
        >>> keys, _ = windowed.append(0, chunk, chunk)  # all 3 for this call, then 2 kept
        >>> keys.shape[2], windowed.stored(0), windowed.length, windowed.first_position(0)
        (3, 2, 3, 1)
    """

    def __init__(self, num_layers, num_kv_heads, head_dim, dtype="float32", window=None):
        self.num_layers = _validate.check_positive_int("num_layers", num_layers)
        self.num_kv_heads = _validate.check_positive_int("num_kv_heads", num_kv_heads)
        self.head_dim = _validate.check_positive_int("head_dim", head_dim)
        self.dtype = tf.as_dtype(dtype)
        if not self.dtype.is_floating:
            raise TypeError(f"`dtype` must be a floating-point dtype. Received: dtype={dtype!r}")
        self.window = None if window is None else _validate.check_positive_int("window", window)
        self.reset()

    def reset(self):
        """Forget every stored position: call it before a new prompt."""
        self._keys = [None] * self.num_layers  # per layer: (B, h_kv, T, d_head) or None
        self._values = [None] * self.num_layers
        self._appended = [0] * self.num_layers  # per layer: positions appended so far

    def keys(self, layer):
        """The stored keys of `layer`, ``(B, h_kv, T, d_head)``, or None when it is empty."""
        return self._keys[self._check_layer(layer)]

    def values(self, layer):
        """The stored values of `layer`, ``(B, h_kv, T, d_head)``, or None when it is empty."""
        return self._values[self._check_layer(layer)]

    def stored(self, layer):
        """The number of positions `layer` holds: all appended, or the last `window`."""
        keys = self._keys[self._check_layer(layer)]
        return 0 if keys is None else int(keys.shape[2])

    def first_position(self, layer):
        """The position of the first key `layer` holds: 0, or more once a window drops keys.

        A chunk of queries through the cache attends to ``stored(layer) + t`` keys that
        start there; its first query sits ``stored(layer)`` keys after that first key.
        """
        return self._appended[self._check_layer(layer)] - self.stored(layer)

    @property
    def length(self):
        if len(set(self._appended)) > 1:
            raise RuntimeError("The layers of the cache hold different numbers of positions "
                               "(a forward pass stopped half-way?); call `reset()`. "
                               f"Received: {self._appended}")
        return self._appended[0]

    @property
    def batch_size(self):
        """``B`` of the stored tensors, or None while the cache is empty."""
        stored = next((k for k in self._keys if k is not None), None)
        return None if stored is None else int(stored.shape[0])

    @property
    def nbytes(self):
        return sum(int(tf.size(t)) * t.dtype.size
                   for t in self._keys + self._values if t is not None)

    def append(self, layer, keys, values):
        """Store the keys and values of `t` new positions of `layer`; return all of them.

        Args:
            layer: int in ``[0, num_layers)``.
            keys: ``(B, h_kv, t, d_head)``, the new positions' keys.
            values: ``(B, h_kv, t, d_head)``, their values.

        Returns:
            ``(keys, values)``, each ``(B, h_kv, T + t, d_head)``: the stored positions
            followed by the new ones. With a window the cache then keeps only the last
            ``W`` of them (the call's queries may need older ones: the first of a chunk
            sees ``W - 1`` positions before it).

        Raises:
            ValueError: `layer` out of range; `keys` or `values` of another shape than
                ``(B, num_kv_heads, t, head_dim)``, or another ``B`` than the stored one.
            TypeError: `keys` or `values` of another dtype than the cache's.
        """
        layer = self._check_layer(layer)
        keys, values = self._check_chunk(keys, values)
        self._appended[layer] += int(keys.shape[2])  # t: positions keep counting
        if self._keys[layer] is not None:
            keys = tf.concat([self._keys[layer], keys], axis=2)  # (B, h_kv, T + t, d)
            values = tf.concat([self._values[layer], values], axis=2)
        self._keys[layer], self._values[layer] = keys, values
        if self.window is not None:  # keep the last W positions: (B, h_kv, <= W, d)
            self._keys[layer] = keys[:, :, -self.window:]
            self._values[layer] = values[:, :, -self.window:]
        return keys, values

    def _check_layer(self, layer):
        layer = _validate.check_positive_int("layer", layer, allow_zero=True)
        if layer >= self.num_layers:
            raise ValueError(f"`layer` must be in [0, num_layers={self.num_layers}). "
                             f"Received: layer={layer}")
        return layer

    def _check_chunk(self, keys, values):
        keys, values = tf.convert_to_tensor(keys), tf.convert_to_tensor(values)
        for name, x in (("keys", keys), ("values", values)):
            if x.dtype != self.dtype:
                raise TypeError(f"`{name}` must have the cache's dtype {self.dtype.name}. "
                                f"Received: {name}.dtype={x.dtype.name}")
        batch = self.batch_size
        expected = (batch or keys.shape[0], self.num_kv_heads, keys.shape[2], self.head_dim)
        if keys.shape.rank != 4 or tuple(keys.shape) != expected or values.shape != keys.shape:
            raise ValueError(
                "`keys` and `values` must both have shape (B, num_kv_heads="
                f"{self.num_kv_heads}, t, head_dim={self.head_dim})"
                + (f" with the stored B={batch}" if batch is not None else "")
                + f". Received: keys.shape={tuple(keys.shape)}, "
                f"values.shape={tuple(values.shape)}")
        return keys, values

    def __repr__(self):
        appended = self._appended
        length = appended[0] if len(set(appended)) == 1 else appended  # never raises
        window = "" if self.window is None else f", window={self.window}"
        return (f"KVCache(num_layers={self.num_layers}, num_kv_heads={self.num_kv_heads}, "
                f"head_dim={self.head_dim}, dtype={self.dtype.name!r}{window}, "
                f"length={length})")


def kv_cache_bytes(num_layers, num_kv_heads, head_dim, length, batch_size=1,
                   dtype="float32", window=None):
    """The bytes a key-value cache holds: ``2 * L * B * min(T, W) * h_kv * d_head * bytes``.

    Keys and values (the 2) of ``min(length, window)`` positions, in each of the
    `num_layers` layers, for each of `batch_size` sequences: a formula, for sizes too
    large to allocate. :attr:`KVCache.nbytes` measures the same from the stored tensors.

    Args:
        num_layers, num_kv_heads, head_dim, batch_size: ints ``L``, ``h_kv``,
            ``d_head``, ``B`` (``B`` default 1).
        length: int >= 0, ``T``, the positions generated so far.
        dtype: the stored dtype (default ``"float32"``, 4 bytes; ``"bfloat16"`` 2).
        window: None or int ``W``: a sliding-window cache keeps the last ``W`` positions.

    Returns:
        int, bytes.

    Raises:
        TypeError, ValueError: sizes that are not positive integers (`length` may be 0).

    Example:
        >>> kv_cache_bytes(32, 8, 128, length=32768, dtype="bfloat16") / 2**30  # GiB
        4.0
        >>> kv_cache_bytes(32, 8, 128, length=32768, dtype="bfloat16", window=4096) / 2**30
        0.5
    """
    for name, value in (("num_layers", num_layers), ("num_kv_heads", num_kv_heads),
                        ("head_dim", head_dim), ("batch_size", batch_size)):
        _validate.check_positive_int(name, value)
    _validate.check_positive_int("length", length, allow_zero=True)
    if window is not None:
        _validate.check_positive_int("window", window)
    kept = length if window is None else min(length, window)
    return 2 * num_layers * batch_size * kept * num_kv_heads * head_dim * tf.as_dtype(
        dtype).size


__all__ = ["KVCache", "kv_cache_bytes"]
